"""What an alliance goal can measure, and who measures it.

Each metric has a key, a label and a unit. A domain that can count something (the academy counts
certified therapists, the clinic counts patients treated) registers a measure function for its key;
until one is registered a goal shows its target with "not measured yet", never an invented value.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from exohub.web.accounts.models import Organisation
from exohub.web.consortium.models import Alliance, AllianceMember

MeasureFn = Callable[[Session, Alliance], float]


@dataclass(frozen=True)
class GoalMetric:
    key: str
    label: str
    unit: str
    measured_by: str
    """The part of exohub that supplies the measured value."""


GOAL_METRICS: dict[str, GoalMetric] = {
    metric.key: metric
    for metric in (
        GoalMetric("therapists_trained", "Therapists trained and certified", "therapists", "academy"),
        GoalMetric("patients_treated", "Patients treated with an exoskeleton", "patients", "clinic"),
        GoalMetric("therapy_sessions", "Therapy sessions delivered", "sessions", "clinic"),
        GoalMetric("devices_deployed", "Exoskeletons deployed to clinics", "devices", "fleet"),
        GoalMetric("member_organisations", "Member organisations", "organisations", "consortium"),
        GoalMetric("member_countries", "Countries with a member organisation", "countries", "consortium"),
    )
}

_MEASURES: dict[str, MeasureFn] = {}


def register_measure(key: str, measure: MeasureFn) -> None:
    """Supply the measured value of metric ``key`` (called once by the domain that owns it)."""
    if key not in GOAL_METRICS:
        raise KeyError(f"unknown goal metric {key!r}; add it to GOAL_METRICS first")
    _MEASURES[key] = measure


def measure(session: Session, alliance: Alliance, key: str) -> float | None:
    """The metric's current value for ``alliance``, or None while no domain measures it."""
    measure_fn = _MEASURES.get(key)
    return None if measure_fn is None else float(measure_fn(session, alliance))


def _member_organisations(session: Session, alliance: Alliance) -> float:
    statement = select(func.count()).where(AllianceMember.alliance_id == alliance.id)
    return float(session.scalar(statement) or 0)


def _member_countries(session: Session, alliance: Alliance) -> float:
    statement = (
        select(func.count(func.distinct(Organisation.country_code)))
        .join(AllianceMember, AllianceMember.organisation_id == Organisation.id)
        .where(AllianceMember.alliance_id == alliance.id)
    )
    return float(session.scalar(statement) or 0)


register_measure("member_organisations", _member_organisations)
register_measure("member_countries", _member_countries)
