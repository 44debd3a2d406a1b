"""When a demo patient's sessions fall, which carry a re-assessment, and how far along their course each one is."""

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np

from exohub.web.clinic.demo._cohort import DemoPatient, Span

HISTORY_ENDS_DAYS_AGO = 7
"""The last demo session is about this many days before today (within 3 days, on the patient's weekday)."""


def session_dates(patient: DemoPatient, *, today: date, rng: np.random.Generator) -> list[date]:
    """The patient's session dates, oldest first: on their weekday, the last about a week before ``today``.

    The last is the patient's weekday nearest to :data:`HISTORY_ENDS_DAYS_AGO` days ago (4 to 10 days ago);
    sessions are ``weeks_between_sessions`` apart, with now and then a week missed (a holiday, a cold).
    """
    last = today - timedelta(days=HISTORY_ENDS_DAYS_AGO)
    last += timedelta(days=(patient.weekday - last.weekday() + 3) % 7 - 3)
    dates = [last]
    while len(dates) < patient.n_sessions:
        gap_weeks = patient.weeks_between_sessions + (1 if rng.random() < 0.1 else 0)
        dates.append(dates[-1] - timedelta(weeks=gap_weeks))
    return dates[::-1]


def assessment_indices(n_sessions: int, weeks_between_sessions: int) -> list[int]:
    """The sessions with outcome measures: the first, then about every four weeks, and the last."""
    step = max(4 // weeks_between_sessions, 1)
    indices = list(range(0, n_sessions, step))
    if indices[-1] != n_sessions - 1:
        if len(indices) > 1 and n_sessions - 1 - indices[-1] <= step / 2:
            indices.pop()
        indices.append(n_sessions - 1)
    return indices


def course_progress(dates: Sequence[date], day: date) -> float:
    """How far the patient is along their recovery, 0 at the first session to 1 at the last (gains come early)."""
    fraction = (day - dates[0]).days / max((dates[-1] - dates[0]).days, 1)
    return 1.0 - float((1.0 - fraction) ** 1.6)


def along(span: Span, progress: float) -> float:
    """The value of ``span`` at ``progress`` (0 at the first session, 1 at the last), linearly in between."""
    first, last = span
    return first + (last - first) * progress


def rounded(value: float, step: float) -> float:
    """``value`` to the nearest multiple of ``step``, as a therapist would set or note it."""
    return float(step * round(value / step))
