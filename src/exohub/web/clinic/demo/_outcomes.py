"""A demo re-assessment: the outcome measures at a point of the patient's course, entered as the assessor would."""

import math

import numpy as np
from sqlalchemy.orm import Session

from exohub.web.audit.service import AuditContext
from exohub.web.clinic import outcomes as clinic_outcomes
from exohub.web.clinic.demo._cohort import Course
from exohub.web.clinic.demo._schedule import along
from exohub.web.clinic.measures import BERG_ITEM_MAXIMUM, BERG_ITEMS, MeasureCode
from exohub.web.clinic.models import TherapySession
from exohub.web.clinic.schemas import OutcomeCreate
from exohub.web.tenancy import TenantScope

# Berg item difficulty (same order as BERG_ITEMS), on the scale of the patient's balance ability: illustrative
# values, not fitted to data, that make sitting unsupported the easiest item and standing on one leg the hardest.
# An item scores 2 when ability equals its difficulty; each unit of ability adds 1.5 points.
_BERG_DIFFICULTY = (-1.3, -1.1, -3.0, -1.5, -1.2, -0.7, -0.4, 0.0, 0.2, 0.1, 0.9, 1.2, 1.5, 2.2)
_BERG_SLOPE = 1.5
assert len(_BERG_DIFFICULTY) == len(BERG_ITEMS)  # noqa: S101 - a module invariant, checked at import

Measurement = tuple[MeasureCode, float | None, list[int] | None]
"""A measure, its value (None for one scored by items) and its item scores (None for a single value)."""


def assess(
    session: Session,
    scope: TenantScope,
    assessor: AuditContext,
    patient_id: int,
    therapy_session: TherapySession,
    course: Course,
    progress: float,
    rng: np.random.Generator,
) -> None:
    """Enter one re-assessment: both 10-metre walks, six-minute walk, TUG, Berg (item by item) and FAC."""
    for measure, value, items in measurements(course, progress, rng):
        clinic_outcomes.create_outcome(
            session=session,
            scope=scope,
            context=assessor,
            patient_id=patient_id,
            data=OutcomeCreate(
                measure=measure,
                measured_on=therapy_session.session_date,
                value=value,
                item_scores=items,
                therapy_session_id=therapy_session.id,
            ),
        )


def measurements(course: Course, progress: float, rng: np.random.Generator) -> list[Measurement]:
    """The re-assessment's results at ``progress``, each ``(measure, value, item scores)``, with measurement noise."""
    comfortable = along(course.ten_metre_walk_m_s, progress) + rng.normal(0.0, 0.02)
    fast = max(along(course.ten_metre_walk_fast_m_s, progress) + rng.normal(0.0, 0.03), comfortable + 0.05)
    tug = along(course.timed_up_and_go_s, progress)
    return [
        (MeasureCode.TEN_METRE_WALK_COMFORTABLE, round(comfortable, 2), None),
        (MeasureCode.TEN_METRE_WALK_FAST, round(fast, 2), None),
        (MeasureCode.SIX_MINUTE_WALK, round(along(course.six_minute_walk_m, progress) + rng.normal(0.0, 6.0)), None),
        (MeasureCode.TIMED_UP_AND_GO, round(tug * (1.0 + rng.normal(0.0, 0.04)), 1), None),
        (MeasureCode.BERG_BALANCE, None, berg_items(along(course.berg_ability, progress), rng)),
        (
            MeasureCode.FUNCTIONAL_AMBULATION_CATEGORY,
            float(math.floor(along(course.functional_ambulation, progress) + 0.5)),
            None,
        ),
    ]


def berg_items(ability: float, rng: np.random.Generator) -> list[int]:
    """The 14 Berg item scores (0-4) of a patient with this balance ability, with a little scoring noise."""
    scores = []
    for difficulty in _BERG_DIFFICULTY:
        score = 2.0 + _BERG_SLOPE * (ability - difficulty) + rng.normal(0.0, 0.3)
        scores.append(int(min(max(math.floor(score + 0.5), 0), BERG_ITEM_MAXIMUM)))
    return scores
