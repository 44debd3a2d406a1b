"""The clinic's rules: patients stay in their clinic, every read is audited, a recording and its analysis are one unit.

Outcome values are checked against each measure's validated range.

Every function takes the caller's :class:`~exohub.web.tenancy.TenantScope` (``patient:read`` or
``patient:write``; ``device:read``/``device:manage`` for units); another clinic's object is *not found*.
"""

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exohub.exceptions import ExohubWarning
from exohub.signals import Recording
from exohub.web.audit import service as audit
from exohub.web.audit.service import AuditContext
from exohub.web.clinic import recordings
from exohub.web.clinic.analysis import analyse_session_recording, headline
from exohub.web.clinic.conditions import condition_label
from exohub.web.clinic.measures import MeasureCode, check_value, get_measure, interpret_change
from exohub.web.clinic.models import DeviceUnit, OutcomeMeasurement, Patient, TherapySession
from exohub.web.clinic.schemas import (
    ChangeRead,
    DeviceUnitCreate,
    DeviceUnitRead,
    OutcomeCreate,
    OutcomeRead,
    PatientCreate,
    PatientRead,
    PatientUpdate,
    ProgressPoint,
    ProgressRead,
    RecordingRead,
    TherapySessionCreate,
    TherapySessionRead,
)
from exohub.web.database import utcnow
from exohub.web.errors import ConflictError, InvalidInputError, InvalidStateError, NotFoundError
from exohub.web.pagination import Page, PageParams, paginate, search_term
from exohub.web.tenancy import TenantScope
from exohub.web.uploads import FILE_FIELD, StoredFile

MAX_NOTES = 20
MAX_RECORDING_DATE_MISMATCH = timedelta(days=1)
"""How far a recording's own measurement date may lie from its session's date (time zones, midnight)."""


def latest_date_anywhere() -> date:
    """Today's date where it is latest (UTC+14): no clinic anywhere can be on a later date."""
    return (utcnow() + timedelta(hours=14)).date()


def _not_in_future(value: date, *, field: str, what: str) -> None:
    if value > latest_date_anywhere():
        raise InvalidInputError(
            f"{what} {value.isoformat()} is in the future; enter the date it took place.", field=field
        )


# Patients ----------------------------------------------------------------------------------------------


def _record_patient(
    session: Session, context: AuditContext, patient: Patient, verb: str, detail: dict[str, Any] | None = None
) -> None:
    """Audit a read or write of a patient; the detail never holds identifying data."""
    audit.record(
        session=session,
        context=context,
        action=f"patient.{verb}",
        object_type="patient",
        object_id=patient.id,
        organisation_id=patient.organisation_id,
        detail=detail or {},
    )


def get(
    *, session: Session, scope: TenantScope, context: AuditContext, patient_id: int, view: str = "record"
) -> Patient:
    """Return one patient of the caller's clinics; the read is audited (``view`` says which page or export)."""
    patient = session.get(Patient, patient_id)
    scope.check(None if patient is None else patient.organisation_id, what="Patient")
    assert patient is not None  # noqa: S101 - scope.check raised otherwise
    _record_patient(session, context, patient, "read", {"view": view})
    return patient


def get_all(
    *, session: Session, scope: TenantScope, context: AuditContext, params: PageParams, q: str | None = None
) -> Page[PatientRead]:
    """List the patients of the caller's clinics (search by name or record number); the read is audited."""
    statement = select(Patient).where(scope.where(Patient.organisation_id))
    if pattern := search_term(q):
        statement = statement.where(
            or_(Patient.full_name.ilike(pattern, escape="\\"), Patient.record_number.ilike(pattern, escape="\\"))
        )
    page = paginate(
        session,
        statement,
        params,
        sortable={
            "full_name": Patient.full_name,
            "created_at": Patient.created_at,
            "date_of_birth": Patient.date_of_birth,
        },
        default_sort=Patient.id,
        to_item=PatientRead.model_validate,
    )
    for organisation_id in sorted({item.organisation_id for item in page.items}):
        audit.record(
            session=session,
            context=context,
            action="patient.list",
            object_type="patient",
            object_id=None,
            organisation_id=organisation_id,
            detail={"patient_ids": [item.id for item in page.items if item.organisation_id == organisation_id]},
        )
    return page


def _check_patient_values(date_of_birth: date, condition_code: str, label: str | None) -> str:
    _not_in_future(date_of_birth, field="date_of_birth", what="Date of birth")
    readable = label or condition_label(condition_code)
    if readable is None:
        raise InvalidInputError(
            f"{condition_code} is not in exohub's catalogue of conditions; give its readable name (condition_label).",
            field="condition_label",
        )
    return readable


def create(*, session: Session, scope: TenantScope, context: AuditContext, data: PatientCreate) -> Patient:
    """Register a patient in one of the caller's clinics."""
    scope.check(data.organisation_id, what="Organisation")
    label = _check_patient_values(data.date_of_birth, data.condition_code, data.condition_label)
    patient = Patient(**data.model_dump(exclude={"condition_label"}), condition_label=label)
    if data.consent_status.value != "not_asked":
        patient.consent_updated_at = utcnow()
    session.add(patient)
    _flush_unique(session, data.record_number)
    _record_patient(session, context, patient, "create")
    return patient


def update(
    *, session: Session, scope: TenantScope, context: AuditContext, patient_id: int, data: PatientUpdate
) -> Patient:
    """Change a patient's details; only the fields sent change."""
    patient = get(session=session, scope=scope, context=context, patient_id=patient_id, view="update")
    changes = data.model_dump(exclude_unset=True)
    required = ("full_name", "date_of_birth", "sex", "condition_code", "affected_side", "goals", "consent_status")
    for name in required:
        if name in changes and changes[name] is None:
            raise InvalidInputError(f"{name} cannot be emptied; send a value (goals may be an empty text).", field=name)
    if "date_of_birth" in changes:
        _check_birth_before_records(session, patient, changes["date_of_birth"])
    code = changes.get("condition_code", patient.condition_code)
    label = changes.get("condition_label") or (None if "condition_code" in changes else patient.condition_label)
    changes["condition_label"] = _check_patient_values(changes.get("date_of_birth", patient.date_of_birth), code, label)
    if "consent_status" in changes and changes["consent_status"] != patient.consent_status:
        patient.consent_updated_at = utcnow()
    for name, value in changes.items():
        setattr(patient, name, value)
    _flush_unique(session, patient.record_number)
    _record_patient(session, context, patient, "update", {"fields": sorted(changes)})
    return patient


def _check_birth_before_records(session: Session, patient: Patient, date_of_birth: date) -> None:
    """Refuse a date of birth after the patient's first session or outcome measurement."""
    first_session = session.scalar(
        select(func.min(TherapySession.session_date)).where(TherapySession.patient_id == patient.id)
    )
    first_outcome = session.scalar(
        select(func.min(OutcomeMeasurement.measured_on)).where(OutcomeMeasurement.patient_id == patient.id)
    )
    first = min((day for day in (first_session, first_outcome) if day is not None), default=None)
    if first is not None and date_of_birth > first:
        raise InvalidInputError(
            f"The date of birth {date_of_birth.isoformat()} is after the patient's first session or measurement "
            f"({first.isoformat()}); check the date.",
            field="date_of_birth",
        )


def _flush_unique(session: Session, record_number: str | None) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as err:
        raise ConflictError(f"Another patient of this clinic already has record number {record_number!r}.") from err


# Device units ------------------------------------------------------------------------------------------


def get_devices(*, session: Session, scope: TenantScope, params: PageParams) -> Page[DeviceUnitRead]:
    """List the device units of the caller's clinics."""
    return paginate(
        session,
        select(DeviceUnit).where(scope.where(DeviceUnit.organisation_id)),
        params,
        sortable={"model_name": DeviceUnit.model_name, "serial_number": DeviceUnit.serial_number},
        default_sort=DeviceUnit.id,
        to_item=DeviceUnitRead.model_validate,
    )


def get_device(*, session: Session, scope: TenantScope, device_id: int) -> DeviceUnit:
    device = session.get(DeviceUnit, device_id)
    scope.check(None if device is None else device.organisation_id, what="Device unit")
    assert device is not None  # noqa: S101
    return device


def create_device(*, session: Session, scope: TenantScope, context: AuditContext, data: DeviceUnitCreate) -> DeviceUnit:
    """Register a device unit in one of the caller's organisations."""
    scope.check(data.organisation_id, what="Organisation")
    device = DeviceUnit(**data.model_dump())
    session.add(device)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as err:
        raise ConflictError(f"{data.manufacturer} unit {data.serial_number!r} is already registered.") from err
    audit.record(
        session=session,
        context=context,
        action="device_unit.create",
        object_type="device_unit",
        object_id=device.id,
        organisation_id=device.organisation_id,
        detail={"serial_number": device.serial_number},
    )
    return device


# Therapy sessions --------------------------------------------------------------------------------------


def session_read(therapy_session: TherapySession) -> TherapySessionRead:
    """A session as the API answers it: settings, recording metadata and the analysis's headline numbers."""
    result = TherapySessionRead.model_validate(therapy_session)
    if therapy_session.recording_key is not None:
        result.recording = RecordingRead(
            filename=therapy_session.recording_filename or "",
            format=therapy_session.recording_format or "",
            sha256=therapy_session.recording_sha256 or "",
            size_bytes=therapy_session.recording_size_bytes or 0,
            duration_s=therapy_session.recording_duration_s,
            analysed_at=therapy_session.analysed_at,
        )
        numbers = headline(therapy_session.analysis)
        result.summary = None if numbers is None else numbers.__dict__
    return result


def create_session(
    *, session: Session, scope: TenantScope, context: AuditContext, patient_id: int, data: TherapySessionCreate
) -> TherapySession:
    """Record a therapy session of a patient, run by the caller, on one of the clinic's device units."""
    patient = get(session=session, scope=scope, context=context, patient_id=patient_id, view="new session")
    _not_in_future(data.session_date, field="session_date", what="Session date")
    if data.session_date < patient.date_of_birth:
        raise InvalidInputError("The session date is before the patient's date of birth.", field="session_date")
    if data.device_unit_id is not None:
        device = session.get(DeviceUnit, data.device_unit_id)
        if device is None or device.organisation_id != patient.organisation_id:
            raise InvalidInputError(
                f"Device unit {data.device_unit_id} is not a unit of the patient's clinic; choose one of the clinic's "
                "units.",
                field="device_unit_id",
            )
    therapy_session = TherapySession(
        **data.model_dump(mode="json", exclude={"session_date"}),
        session_date=data.session_date,
        organisation_id=patient.organisation_id,
        patient_id=patient.id,
        therapist_user_id=context.actor_user_id,
    )
    session.add(therapy_session)
    session.flush()
    _record_session(session, context, therapy_session, "create")
    return therapy_session


def get_session(
    *, session: Session, scope: TenantScope, context: AuditContext, session_id: int, view: str = "session"
) -> TherapySession:
    """Return one therapy session of the caller's clinics; it reads the patient's data, so it is audited."""
    therapy_session = session.get(TherapySession, session_id)
    scope.check(None if therapy_session is None else therapy_session.organisation_id, what="Therapy session")
    assert therapy_session is not None  # noqa: S101
    _record_patient(session, context, therapy_session.patient, "read", {"view": view, "session_id": session_id})
    return therapy_session


def get_session_for_attach(*, session: Session, session_id: int) -> TherapySession:
    """Read a session again, locked for the rest of the transaction (PostgreSQL), to attach its recording.

    The caller's right to it was checked before the upload; only a session deleted meanwhile is not found.
    """
    statement = select(TherapySession).where(TherapySession.id == session_id).with_for_update(of=TherapySession)
    therapy_session = session.scalars(statement).one_or_none()
    if therapy_session is None:
        raise NotFoundError(f"Therapy session {session_id} was deleted during the upload.")
    session.refresh(therapy_session)
    return therapy_session


def get_sessions(*, session: Session, patient: Patient) -> list[TherapySession]:
    """Every session of ``patient`` (already read through :func:`get`), most recent first."""
    statement = (
        select(TherapySession)
        .where(TherapySession.patient_id == patient.id)
        .order_by(TherapySession.session_date.desc(), TherapySession.id.desc())
    )
    return list(session.scalars(statement))


@dataclass(frozen=True)
class PreparedRecording:
    """An upload read, checked, analysed and already in the store, waiting to be attached to its session."""

    key: str
    path: Path
    stored: StoredFile
    duration_s: float
    document: dict[str, Any]


def check_can_attach(therapy_session: TherapySession) -> None:
    """Refuse a second recording: a session's recording never changes."""
    if therapy_session.recording_key is not None:
        raise InvalidStateError(
            f"Session {therapy_session.id} already has its recording ({therapy_session.recording_filename}); "
            "a session's recording never changes. Record a new session for another recording."
        )


def prepare_recording(
    *,
    organisation_id: int,
    session_date: date,
    incoming: Path,
    stored: StoredFile,
    data_dir: Path,
    on_stage: Callable[[int], None] | None = None,
) -> PreparedRecording:
    """Read, check and analyse an uploaded recording and put it in the store; no database work.

    Runs outside any transaction (seconds for an hour-long session), so it holds no lock that other requests
    wait for. ``on_stage`` is called with the index of each stage of
    :data:`~exohub.web.clinic.upload_progress.STAGES` as it starts.
    """
    stage = on_stage or (lambda _: None)
    with _collected_warnings() as notes:
        stage(0)
        recording = recordings.read_upload(incoming, stored.filename)
        _check_recording_matches(session_date, recording)
        stage(1)
        document = analyse_session_recording(recording)
    document["warnings"] = notes
    key = recordings.new_key()
    path = recordings.recording_path(data_dir, organisation_id, key)
    stage(2)
    recordings.store(recording, path, upload=incoming, filename=stored.filename)
    stage(3)
    return PreparedRecording(key, path, stored, recording.duration_s, document)


def attach_prepared(
    *, session: Session, context: AuditContext, therapy_session: TherapySession, prepared: PreparedRecording
) -> TherapySession:
    """Attach a prepared recording to its session; if that fails (or the transaction does), the file is removed."""
    try:
        check_can_attach(therapy_session)
        event.listen(session, "after_rollback", lambda _: prepared.path.unlink(missing_ok=True), once=True)
        therapy_session.recording_key = prepared.key
        therapy_session.recording_filename = Path(prepared.stored.filename).name[:255]
        therapy_session.recording_format = Path(prepared.stored.filename).suffix.lower()
        therapy_session.recording_sha256 = prepared.stored.sha256
        therapy_session.recording_size_bytes = prepared.stored.size_bytes
        therapy_session.recording_duration_s = prepared.duration_s
        therapy_session.analysis = prepared.document
        therapy_session.analysed_at = utcnow()
        if therapy_session.duration_min is None:
            therapy_session.duration_min = round(prepared.duration_s / 60.0, 1)
        session.flush()
    except BaseException:
        prepared.path.unlink(missing_ok=True)
        raise
    _record_session(
        session,
        context,
        therapy_session,
        "upload_recording",
        {"sha256": prepared.stored.sha256, "size_bytes": prepared.stored.size_bytes},
    )
    return therapy_session


def attach_recording(
    *,
    session: Session,
    context: AuditContext,
    therapy_session: TherapySession,
    incoming: Path,
    stored: StoredFile,
    data_dir: Path,
) -> TherapySession:
    """Prepare an uploaded recording and attach it in one call (one unit: on failure nothing is stored).

    For seeding and scripts; the routes split the two so that the long part holds no transaction.
    """
    check_can_attach(therapy_session)
    prepared = prepare_recording(
        organisation_id=therapy_session.organisation_id,
        session_date=therapy_session.session_date,
        incoming=incoming,
        stored=stored,
        data_dir=data_dir,
    )
    return attach_prepared(session=session, context=context, therapy_session=therapy_session, prepared=prepared)


@contextmanager
def _collected_warnings() -> Iterator[list[str]]:
    """Collect what the reader and the analysis warn about (usable but suspicious input), for the session page."""
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExohubWarning)
        yield notes
    for warning in caught:
        text = str(warning.message)
        if issubclass(warning.category, ExohubWarning) and text not in notes and len(notes) < MAX_NOTES:
            notes.append(text)


def _check_recording_matches(session_date: date, recording: Recording) -> None:
    measured_at: datetime | None = recording.info["meas_date"]
    if measured_at is None:
        return
    if abs(measured_at.date() - session_date) > MAX_RECORDING_DATE_MISMATCH:
        raise InvalidInputError(
            f"The recording was made on {measured_at.date().isoformat()} but the session is dated "
            f"{session_date.isoformat()}; upload this session's recording or correct the session date.",
            field=f"body.{FILE_FIELD}",
        )


def recording_file(*, data_dir: Path, therapy_session: TherapySession) -> Path:
    """The stored Parquet recording of a session."""
    if therapy_session.recording_key is None:
        raise NotFoundError(f"Session {therapy_session.id} has no recording yet.")
    path = recordings.recording_path(data_dir, therapy_session.organisation_id, therapy_session.recording_key)
    if not path.is_file():
        raise FileNotFoundError(f"the recording of session {therapy_session.id} is missing from {path}")
    return path


def delete_session(
    *, session: Session, scope: TenantScope, context: AuditContext, session_id: int, data_dir: Path
) -> None:
    """Delete a session entered by mistake, with its recording (after the transaction commits)."""
    therapy_session = get_session(session=session, scope=scope, context=context, session_id=session_id, view="delete")
    key = therapy_session.recording_key
    _record_session(session, context, therapy_session, "delete")
    session.execute(delete(TherapySession).where(TherapySession.id == therapy_session.id))
    if key is not None:
        path = recordings.recording_path(data_dir, therapy_session.organisation_id, key)
        event.listen(session, "after_commit", lambda _: path.unlink(missing_ok=True), once=True)


def _record_session(
    session: Session,
    context: AuditContext,
    therapy_session: TherapySession,
    verb: str,
    detail: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session=session,
        context=context,
        action=f"therapy_session.{verb}",
        object_type="therapy_session",
        object_id=therapy_session.id,
        organisation_id=therapy_session.organisation_id,
        detail={"patient_id": therapy_session.patient_id, **(detail or {})},
    )


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
    patient = get(session=session, scope=scope, context=context, patient_id=patient_id, view="new outcome")
    value, items = check_value(data.measure, data.value, data.item_scores)
    _not_in_future(data.measured_on, field="measured_on", what="Measurement date")
    if data.measured_on < patient.date_of_birth:
        raise InvalidInputError("The measurement date is before the patient's date of birth.", field="measured_on")
    if data.therapy_session_id is not None:
        linked = session.get(TherapySession, data.therapy_session_id)
        if linked is None or linked.patient_id != patient.id:
            raise InvalidInputError(
                f"Therapy session {data.therapy_session_id} is not a session of this patient.",
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
    _record_patient(session, context, patient, "add_outcome", {"outcome_id": outcome.id, "measure": outcome.measure})
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
    _record_patient(session, context, patient, "delete_outcome", {"outcome_id": outcome.id, "measure": outcome.measure})
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
    for therapy_session in reversed(get_sessions(session=session, patient=patient)):
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
