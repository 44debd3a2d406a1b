"""Write the demo cohort through the clinic services: device units, patients, sessions with recordings, outcomes."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from exohub.signals import Recording
from exohub.signals.io import write_recording
from exohub.web.accounts.models import Organisation
from exohub.web.audit.service import AuditContext
from exohub.web.clinic import service
from exohub.web.clinic import sessions as clinic_sessions
from exohub.web.clinic.demo._cohort import (
    CLINICS,
    MANUFACTURER,
    MODEL_NAME,
    PATIENTS,
    SESSION_NOTES,
    DemoClinic,
    DemoPatient,
    Incident,
)
from exohub.web.clinic.demo._outcomes import assess
from exohub.web.clinic.demo._recording import session_recording
from exohub.web.clinic.demo._schedule import along, assessment_indices, course_progress, rounded, session_dates
from exohub.web.clinic.models import AssistMode, DeviceUnit, Patient, TherapySession
from exohub.web.clinic.schemas import DeviceUnitCreate, PatientCreate, TherapySessionCreate
from exohub.web.tenancy import SYSTEM, Permission, TenantScope
from exohub.web.uploads import StoredFile, file_sha256, incoming_file

DEMO_ADDRESS = "exohub demo"
SEED = 20260115
HIP_LIMITS_DEG = {"min_deg": -20.0, "max_deg": 60.0}


@dataclass(frozen=True)
class _Writer:
    """Where and as whom one demo patient's history is written."""

    session: Session
    organisation_id: int
    scope: TenantScope
    device: DeviceUnit
    therapist: AuditContext
    assessor: AuditContext
    utc_offset_h: int
    data_dir: Path


def seed_clinic_demo(
    session: Session,
    *,
    data_dir: Path,
    organisations: Mapping[str, Organisation],
    staff: Mapping[str, int],
    today: date | None = None,
) -> list[Patient]:
    """Give each demo clinic its device units and patients with months of sessions, recordings and outcomes.

    Parameters
    ----------
    session
        The unit of work of the seeding (the caller commits).
    data_dir
        The served ``DATA_DIR``: the recordings are stored under it, as uploads are.
    organisations
        The demo organisations by key (``"jp"``, ``"kr"``, ...); every key of :data:`CLINICS` is needed.
    staff
        User id of each demo login by local part (``"therapist.jp"``); the clinics' staff of :data:`CLINICS`
        are needed.
    today
        The day the history is dated back from (the last session about a week before it); default: today.

    Returns
    -------
    list of Patient
        The patients created, in the order of :data:`PATIENTS`.
    """
    missing = sorted(set(CLINICS) - set(organisations)) + sorted(
        {name for clinic in CLINICS.values() for name in (clinic.therapist, clinic.assessor)} - set(staff)
    )
    if missing:
        raise ValueError(f"seed_clinic_demo needs the demo organisations and staff; missing {missing}.")
    today = date.today() if today is None else today
    devices = {
        key: _create_devices(session, clinic, organisation_id=organisations[key].id, staff=staff)
        for key, clinic in CLINICS.items()
    }
    created = []
    for number, patient in enumerate(PATIENTS):
        clinic = CLINICS[patient.clinic]
        organisation_id = organisations[patient.clinic].id
        writer = _Writer(
            session=session,
            organisation_id=organisation_id,
            scope=_clinic_scope(organisation_id, Permission.PATIENT_WRITE),
            device=devices[patient.clinic][number % len(devices[patient.clinic])],
            therapist=AuditContext(actor_user_id=staff[clinic.therapist], address=DEMO_ADDRESS),
            assessor=AuditContext(actor_user_id=staff[clinic.assessor], address=DEMO_ADDRESS),
            utc_offset_h=clinic.utc_offset_h,
            data_dir=data_dir,
        )
        rng = np.random.default_rng([SEED, number])
        created.append(_seed_patient(writer, patient, today=today, rng=rng))
    return created


def _create_devices(
    session: Session, clinic: DemoClinic, *, organisation_id: int, staff: Mapping[str, int]
) -> list[DeviceUnit]:
    """Register the clinic's exoskeleton units, as its therapist would."""
    context = AuditContext(actor_user_id=staff[clinic.therapist], address=DEMO_ADDRESS)
    return [
        service.create_device(
            session=session,
            scope=_clinic_scope(organisation_id, Permission.DEVICE_MANAGE),
            context=context,
            data=DeviceUnitCreate(
                organisation_id=organisation_id,
                manufacturer=MANUFACTURER,
                model_name=MODEL_NAME,
                serial_number=serial_number,
                joints="hip",
            ),
        )
        for serial_number in clinic.serial_numbers
    ]


def _clinic_scope(organisation_id: int, permission: Permission) -> TenantScope:
    # The seeder writes each clinic's data as that clinic's own staff would, with the scope its therapist holds:
    # that one clinic. SYSTEM's superuser rights leave patient data out on purpose, so the scope is spelled out
    # here, for the demo's own freshly created clinics only, rather than widened for the command line.
    return TenantScope(principal=SYSTEM, permission=permission, organisation_ids=frozenset({organisation_id}))


def _seed_patient(writer: _Writer, patient: DemoPatient, *, today: date, rng: np.random.Generator) -> Patient:
    """Register ``patient``, then record each of their sessions and enter each re-assessment."""
    created = service.create(
        session=writer.session,
        scope=writer.scope,
        context=writer.therapist,
        data=_patient_create(patient, writer.organisation_id),
    )
    dates = session_dates(patient, today=today, rng=rng)
    incidents = {incident.session_index: incident for incident in patient.incidents}
    assessed = set(assessment_indices(len(dates), patient.weeks_between_sessions))
    for index, day in enumerate(dates):
        progress = course_progress(dates, day)
        therapy_session = _seed_session(writer, patient, created.id, index, day, progress, incidents.get(index), rng)
        if index in assessed:
            assess(
                writer.session,
                writer.scope,
                writer.assessor,
                created.id,
                therapy_session,
                patient.course,
                progress,
                rng,
            )
    return created


def _patient_create(patient: DemoPatient, organisation_id: int) -> PatientCreate:
    return PatientCreate(
        organisation_id=organisation_id,
        record_number=patient.record_number,
        full_name=patient.full_name,
        date_of_birth=patient.date_of_birth,
        sex=patient.sex,
        condition_code=patient.condition_code,
        affected_side=patient.affected_side,
        ais_grade=patient.ais_grade,
        neurological_level=patient.neurological_level,
        height_cm=patient.height_cm,
        weight_kg=patient.weight_kg,
        goals=patient.goals,
        consent_status=patient.consent,
    )


def _seed_session(
    writer: _Writer,
    patient: DemoPatient,
    patient_id: int,
    index: int,
    day: date,
    progress: float,
    incident: Incident | None,
    rng: np.random.Generator,
) -> TherapySession:
    """Record session ``index`` of ``patient`` on ``day`` and attach its walking bout, analysed as an upload is."""
    level = rounded(along(patient.course.assistance_level_pct, progress), 5.0)
    recording_s = round(along(patient.course.recording_s, progress))
    notes = _session_note(patient, index, incident, rng) + f" Walking bout recorded: {recording_s} s."
    therapy_session = clinic_sessions.create_session(
        session=writer.session,
        scope=writer.scope,
        context=writer.therapist,
        patient_id=patient_id,
        data=_session_create(patient, index, day, progress, level, device_id=writer.device.id, notes=notes),
    )
    measured_at = datetime.combine(
        day, time(patient.hour, int(rng.integers(0, 45))), tzinfo=timezone(timedelta(hours=writer.utc_offset_h))
    )
    recording = session_recording(
        patient,
        progress=progress,
        assistance_level_pct=level,
        duration_s=float(recording_s),
        device_name=writer.device.label,
        incident=incident,
        seed=int(rng.integers(2**31)),
    )
    recording.info["meas_date"] = measured_at
    filename = f"{writer.device.serial_number}_{day.isoformat()}_{measured_at:%H%M}.parquet"
    _attach(writer, therapy_session, recording, filename=filename)
    return therapy_session


def _session_create(
    patient: DemoPatient, index: int, day: date, progress: float, level: float, *, device_id: int, notes: str
) -> TherapySessionCreate:
    """The session's settings as the therapist enters them, at ``progress`` along the patient's course."""
    course = patient.course
    return TherapySessionCreate(
        session_date=day,
        device_unit_id=device_id,
        duration_min=rounded(along(course.session_min, progress), 5.0),
        assist_mode=course.first_mode if index < course.first_mode_sessions else AssistMode.ASSIST_AS_NEEDED,
        assistance_level_pct=level,
        body_weight_support_pct=None
        if course.body_weight_support_pct is None
        else rounded(along(course.body_weight_support_pct, progress), 5.0),
        speed_m_s=round(0.8 * along(course.ten_metre_walk_m_s, progress), 2) if patient.treadmill else None,
        joint_limits_deg={"left_hip": HIP_LIMITS_DEG, "right_hip": HIP_LIMITS_DEG},
        notes=notes,
    )


def _session_note(patient: DemoPatient, index: int, incident: Incident | None, rng: np.random.Generator) -> str:
    if incident is not None:
        return incident.note
    if index == 0:
        return patient.first_note
    if index == patient.n_sessions - 1:
        return "Re-assessment session; home walking programme reviewed and updated."
    return SESSION_NOTES[int(rng.integers(len(SESSION_NOTES)))]


def _attach(writer: _Writer, therapy_session: TherapySession, recording: Recording, *, filename: str) -> None:
    """Attach ``recording`` to the session exactly as an upload does: a file in the incoming folder, then the store."""
    with incoming_file(writer.data_dir) as incoming:
        written = write_recording(recording, incoming.with_name(f"{incoming.stem}{Path(filename).suffix}"))
        written.rename(incoming)
        stored = StoredFile(sha256=file_sha256(incoming), size_bytes=incoming.stat().st_size, filename=filename)
        clinic_sessions.attach_recording(
            session=writer.session,
            context=writer.therapist,
            therapy_session=therapy_session,
            incoming=incoming,
            stored=stored,
            data_dir=writer.data_dir,
        )
