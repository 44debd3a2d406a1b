"""Outcome measures, checked against each measure's validated range, and a patient's progress.

Progress: each measure's change since baseline against its published threshold, and the series the timelines plot.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from exohub.web.audit.service import AuditContext
from exohub.web.clinic import service
from exohub.web.clinic import sessions as clinic_sessions
from exohub.web.clinic.analysis import headline
from exohub.web.clinic.mcid import interpret_change
from exohub.web.clinic.measures import MeasureCode, check_value, get_measure
from exohub.web.clinic.models import OutcomeMeasurement, Patient, TherapySession
from exohub.web.clinic.schemas import (
    ChangeRead,
    OutcomeCreate,
    OutcomeRead,
    ProgressPoint,
    ProgressRead,
)
from exohub.web.errors import InvalidInputError
from exohub.web.tenancy import TenantScope

# Outcome measures --------------------------------------------------------------------------------------


def outcome_read(outcome: OutcomeMeasurement) -> OutcomeRead:
    measure = get_measure(outcome.measure)
    return OutcomeRead(
        id=outcome.id,
        patient_id=outcome.patient_id,
        measure=MeasureCode(outcome.measure),
        name=measure.name,
        value=outcome.value,
        unit=measure.unit,
        item_scores=outcome.item_scores,
        measured_on=outcome.measured_on,
        therapy_session_id=outcome.therapy_session_id,
        assessor_user_id=outcome.assessor_user_id,
        notes=outcome.notes,
        coding={"system": measure.coding.system, "code": measure.coding.code, "display": measure.coding.display},
    )


def create_outcome(
    *, session: Session, scope: TenantScope, context: AuditContext, patient_id: int, data: OutcomeCreate
) -> OutcomeMeasurement:
    """Record an outcome measure of a patient after checking it against the measure's validated range."""
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="new outcome")
    value, items = check_value(data.measure, data.value, data.item_scores)
    service.check_patient_date(patient, data.measured_on, field="measured_on", what="Measurement date")
    if data.therapy_session_id is not None:
        what = f"Therapy session {data.therapy_session_id}"
        linked = scope.referenced(
            session.get(TherapySession, data.therapy_session_id), what=what, field="therapy_session_id"
        )
        if linked.patient_id != patient.id:
            raise InvalidInputError(
                f"{what} is not a session of this patient.",
                field="therapy_session_id",
            )
        if linked.session_date != data.measured_on:
            raise InvalidInputError(
                f"The measurement is dated {data.measured_on.isoformat()} but session {linked.id} took place on "
                f"{linked.session_date.isoformat()}; link it to that day's session or to none.",
                field="therapy_session_id",
            )
    outcome = OutcomeMeasurement(
        organisation_id=patient.organisation_id,
        patient_id=patient.id,
        measure=data.measure.value,
        value=value,
        item_scores=None if items is None else list(items),
        measured_on=data.measured_on,
        assessor_user_id=context.actor_user_id,
        therapy_session_id=data.therapy_session_id,
        notes=data.notes,
    )
    session.add(outcome)
    session.flush()
    service.record_patient_event(
        session, context, patient, "add_outcome", {"outcome_id": outcome.id, "measure": outcome.measure}
    )
    return outcome


def get_outcomes(*, session: Session, patient: Patient) -> list[OutcomeMeasurement]:
    """Every outcome measurement of ``patient`` (already read through :func:`get`), oldest first."""
    statement = (
        select(OutcomeMeasurement)
        .where(OutcomeMeasurement.patient_id == patient.id)
        .order_by(OutcomeMeasurement.measured_on, OutcomeMeasurement.id)
    )
    return list(session.scalars(statement))


def delete_outcome(*, session: Session, scope: TenantScope, context: AuditContext, outcome_id: int) -> None:
    """Delete an outcome measurement entered by mistake."""
    outcome = session.get(OutcomeMeasurement, outcome_id)
    scope.check(None if outcome is None else outcome.organisation_id, what="Outcome measurement")
    assert outcome is not None  # noqa: S101
    patient = session.get_one(Patient, outcome.patient_id)
    service.record_patient_event(
        session, context, patient, "delete_outcome", {"outcome_id": outcome.id, "measure": outcome.measure}
    )
    session.delete(outcome)
    session.flush()


# Progress ----------------------------------------------------------------------------------------------

SESSION_SERIES = {
    "steps": "Steps per session",
    "walking_time_min": "Walking time per session (min)",
    "up_time_min": "Up time per session (min)",
    "assistance_level_pct": "Assistance level (%)",
}


def progress(*, session: Session, patient: Patient) -> ProgressRead:
    """Each measure's change since its first (baseline) measurement, and every series the timeline plots."""
    outcomes = get_outcomes(session=session, patient=patient)
    by_measure: dict[str, list[OutcomeMeasurement]] = {}
    for outcome in outcomes:
        by_measure.setdefault(outcome.measure, []).append(outcome)
    changes = []
    for code, points in by_measure.items():
        if len(points) < 2:
            continue
        first, last = points[0], points[-1]
        measure = get_measure(code)
        meaning = interpret_change(code, first.value, last.value, patient.condition_code)
        changes.append(
            ChangeRead(
                measure=measure.code,
                name=measure.name,
                unit=measure.unit_label,
                baseline_date=first.measured_on,
                baseline=first.value,
                latest_date=last.measured_on,
                latest=last.value,
                change=meaning.change,
                improved=meaning.improved,
                meaningful=meaning.meaningful,
                threshold=None if meaning.threshold is None else meaning.threshold.value,
                threshold_kind=None if meaning.threshold is None else meaning.threshold.kind,
                threshold_source=None if meaning.threshold is None else meaning.threshold.source,
                text=meaning.text,
            )
        )
    series: dict[str, list[ProgressPoint]] = {name: [] for name in SESSION_SERIES}
    for therapy_session in reversed(clinic_sessions.get_sessions(session=session, patient=patient)):
        numbers = headline(therapy_session.analysis)
        values = {
            "steps": None if numbers is None else numbers.steps,
            "walking_time_min": None
            if numbers is None or numbers.walking_time_s is None
            else numbers.walking_time_s / 60,
            "up_time_min": None if numbers is None or numbers.up_time_s is None else numbers.up_time_s / 60,
            "assistance_level_pct": therapy_session.assistance_level_pct,
        }
        for name, value in values.items():
            if value is not None:
                series[name].append(ProgressPoint(on=therapy_session.session_date, value=float(value)))
    return ProgressRead(
        patient_id=patient.id,
        changes=changes,
        outcomes={
            code: [ProgressPoint(on=point.measured_on, value=point.value) for point in points]
            for code, points in by_measure.items()
        },
        sessions=series,
    )
