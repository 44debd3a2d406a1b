"""Therapy sessions: their settings, and their recording read, analysed and stored as one unit with the session.

A recording is prepared (read, checked against the session's day, analysed, put in the store) with no transaction
open, because that takes seconds for an hour-long session; it is then attached in a short transaction, and a
failure at any point removes the stored file. Every read of a session reads its patient, so it is audited.
"""

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from exohub.exceptions import ExohubWarning
from exohub.signals import Recording
from exohub.web.audit import service as audit
from exohub.web.audit.service import AuditContext
from exohub.web.clinic import recordings, service
from exohub.web.clinic.analysis import analyse_session_recording, headline
from exohub.web.clinic.models import DeviceUnit, Patient, TherapySession
from exohub.web.clinic.schemas import (
    RecordingRead,
    TherapySessionCreate,
    TherapySessionRead,
)
from exohub.web.database import utcnow
from exohub.web.errors import InvalidInputError, InvalidStateError, NotFoundError
from exohub.web.tenancy import TenantScope
from exohub.web.uploads import FILE_FIELD, StoredFile

MAX_NOTES = 20
MAX_RECORDING_DATE_MISMATCH = timedelta(days=1)
"""How far a recording's own measurement date may lie from its session's date (time zones, midnight)."""

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
    patient = service.get(session=session, scope=scope, context=context, patient_id=patient_id, view="new session")
    service.check_patient_date(patient, data.session_date, field="session_date", what="Session date")
    if data.device_unit_id is not None:
        what = f"Device unit {data.device_unit_id}"
        device = scope.referenced(session.get(DeviceUnit, data.device_unit_id), what=what, field="device_unit_id")
        if device.organisation_id != patient.organisation_id:  # a unit of another clinic the caller works in
            raise InvalidInputError(
                f"{what} is not a unit of the patient's clinic; choose one of the clinic's units.",
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
    service.record_patient_event(
        session, context, therapy_session.patient, "read", {"view": view, "session_id": session_id}
    )
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
