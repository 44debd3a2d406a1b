"""The demo clinics' patients: device units, months of therapy sessions with analysed recordings, and outcomes.

:func:`seed_clinic_demo` fills the clinics that :func:`exohub.web.demo.seed_demo` created, through
the clinic services (:mod:`~exohub.web.clinic.service`, :mod:`~exohub.web.clinic.sessions`,
:mod:`~exohub.web.clinic.outcomes`) like a therapist would: register the clinic's exoskeletons and its patients,
record each session and upload its recording (analysed on attach, as an upload is), and enter the outcome
measures of every re-assessment.

Each session's recording is a real session of the assistance loop (:func:`exohub.control.session.run_session`)
on the virtual patient replaying synthetic hip gait, on a simulated clock, so it takes a fraction of its length:
early sessions walk with longer strides, a smaller range of motion at the affected hip and more assistance; later
ones faster, more symmetric, with less. Two sessions inject a fault (a thigh cuff heating the skin, a dropped link)
so safety events show. Outcome measures, taken every four weeks, follow each patient's recovery curve with
measurement noise. A seeded generator makes the content the same on every run; only the dates move with today's
date, so the history always ends about a week ago. The recordings cover a short walking bout of each session (tens
of seconds, not the whole session), which keeps the whole demo seeding within seconds.
"""

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from exohub.control import AssistancePolicy, SimulatedClock, TorqueProfile, default_hip_profile
from exohub.control.session import run_session
from exohub.control.virtual import FaultInjection, VirtualPatient, synthetic_hip_gait
from exohub.signals import Recording
from exohub.signals.consts import TIME_COLUMN
from exohub.signals.io import write_recording
from exohub.web.accounts.models import Organisation
from exohub.web.audit.service import AuditContext
from exohub.web.clinic import outcomes as clinic_outcomes
from exohub.web.clinic import recordings, service
from exohub.web.clinic import sessions as clinic_sessions
from exohub.web.clinic.measures import BERG_ITEM_MAXIMUM, BERG_ITEMS, MeasureCode
from exohub.web.clinic.models import AffectedSide, AssistMode, ConsentStatus, DeviceUnit, Patient, Sex, TherapySession
from exohub.web.clinic.schemas import DeviceUnitCreate, OutcomeCreate, PatientCreate, TherapySessionCreate
from exohub.web.tenancy import SYSTEM, Permission, TenantScope
from exohub.web.uploads import StoredFile

DEMO_ADDRESS = "exohub demo"
LOOP_RATE_HZ = 100.0
"""The assistance loop's rate in the demo recordings (100 Hz rather than 200 Hz halves the seeding time)."""
HISTORY_ENDS_DAYS_AGO = 7
"""The last demo session is about this many days before today (within 3 days, on the patient's weekday)."""
SEED = 20260115

MANUFACTURER = "StrideWorks"
MODEL_NAME = "H2 hip exoskeleton"
FULL_FLEXION_NM = 12.0
FULL_EXTENSION_NM = 9.0
"""Peak hip flexion and extension torque at 100 % assistance (the unaffected side gets 60 % of the level)."""
UNAFFECTED_SIDE_SHARE = 0.6
HIP_LIMITS_DEG = {"min_deg": -20.0, "max_deg": 60.0}

# Berg item difficulty (same order as BERG_ITEMS), on the scale of the patient's balance ability: illustrative
# values, not fitted to data, that make sitting unsupported the easiest item and standing on one leg the hardest.
# An item scores 2 when ability equals its difficulty; each unit of ability adds 1.5 points.
_BERG_DIFFICULTY = (-1.3, -1.1, -3.0, -1.5, -1.2, -0.7, -0.4, 0.0, 0.2, 0.1, 0.9, 1.2, 1.5, 2.2)
_BERG_SLOPE = 1.5
assert len(_BERG_DIFFICULTY) == len(BERG_ITEMS)  # noqa: S101 - a module invariant, checked at import

Span = tuple[float, float]
"""A value at the first session and at the last."""


@dataclass(frozen=True)
class Course:
    """How a patient's walking, device settings and test results change from the first session to the last."""

    stride_time_s: Span
    affected_rom_ratio: Span
    """Range of motion of the affected hip over the other one's (1 for a symmetric gait)."""
    assistance_level_pct: Span
    ten_metre_walk_m_s: Span
    ten_metre_walk_fast_m_s: Span
    six_minute_walk_m: Span
    timed_up_and_go_s: Span
    berg_ability: Span
    functional_ambulation: tuple[int, int]
    body_weight_support_pct: Span | None = None
    session_min: Span = (30.0, 45.0)
    recording_s: Span = (40.0, 60.0)
    first_mode: AssistMode = AssistMode.FIXED
    first_mode_sessions: int = 3


@dataclass(frozen=True)
class Incident:
    """A fault injected into one session's recording, with the note the therapist wrote."""

    session_index: int
    kind: str
    note: str


@dataclass(frozen=True)
class DemoPatient:
    """One demo patient: who they are, their course, and how often they come (``clinic``: a key of CLINICS)."""

    clinic: str
    record_number: str
    full_name: str
    sex: Sex
    date_of_birth: date
    condition_code: str
    affected_side: AffectedSide
    height_cm: float
    weight_kg: float
    goals: str
    consent: ConsentStatus
    course: Course
    n_sessions: int
    weeks_between_sessions: int
    weekday: int
    """The patient's usual day (0 = Monday)."""
    hour: int
    first_note: str
    ais_grade: str | None = None
    neurological_level: str | None = None
    treadmill: bool = False
    incidents: tuple[Incident, ...] = ()


@dataclass(frozen=True)
class DemoClinic:
    """Who treats and assesses in a demo clinic, its time zone (for the recordings' dates) and its units."""

    therapist: str
    """Local part of the demo login that runs the sessions."""
    assessor: str
    """Local part of the demo login that takes the outcome measures."""
    utc_offset_h: int
    serial_numbers: tuple[str, ...]


CLINICS: dict[str, DemoClinic] = {
    "jp": DemoClinic("therapist.jp", "clinician.jp", 9, ("H2-25-0417", "H2-26-0108")),
    "kr": DemoClinic("therapist.kr", "therapist.kr", 9, ("H2-25-0233", "H2-25-0234")),
    "au": DemoClinic("therapist.au", "clinician.au", 10, ("H2-26-0031",)),
    "id": DemoClinic("therapist.id", "therapist.id", 7, ("H2-26-0075",)),
    "ph": DemoClinic("therapist.ph", "therapist.ph", 8, ("H2-26-0092",)),
}
"""The demo clinics (keys of :data:`exohub.web.demo.ORGANISATIONS`): staff, time zone and exoskeleton units."""

_STROKE = Course(
    stride_time_s=(1.62, 1.22),
    affected_rom_ratio=(0.62, 0.86),
    assistance_level_pct=(80.0, 40.0),
    ten_metre_walk_m_s=(0.35, 0.62),
    ten_metre_walk_fast_m_s=(0.46, 0.84),
    six_minute_walk_m=(118.0, 212.0),
    timed_up_and_go_s=(27.5, 15.8),
    berg_ability=(-0.45, 0.7),
    functional_ambulation=(2, 4),
)
_SPINAL_CORD = Course(
    stride_time_s=(1.78, 1.34),
    affected_rom_ratio=(1.0, 1.0),
    assistance_level_pct=(90.0, 55.0),
    ten_metre_walk_m_s=(0.28, 0.55),
    ten_metre_walk_fast_m_s=(0.36, 0.71),
    six_minute_walk_m=(85.0, 176.0),
    timed_up_and_go_s=(34.0, 19.5),
    berg_ability=(-0.75, 0.2),
    functional_ambulation=(1, 3),
    body_weight_support_pct=(30.0, 0.0),
    session_min=(40.0, 60.0),
    first_mode=AssistMode.FULL_GUIDANCE,
    first_mode_sessions=4,
)
_MULTIPLE_SCLEROSIS = Course(
    stride_time_s=(1.32, 1.21),
    affected_rom_ratio=(0.85, 0.92),
    assistance_level_pct=(55.0, 40.0),
    ten_metre_walk_m_s=(0.78, 0.89),
    ten_metre_walk_fast_m_s=(1.02, 1.15),
    six_minute_walk_m=(262.0, 301.0),
    timed_up_and_go_s=(12.6, 10.9),
    berg_ability=(0.5, 0.95),
    functional_ambulation=(4, 4),
    session_min=(30.0, 40.0),
    first_mode=AssistMode.ASSIST_AS_NEEDED,
    first_mode_sessions=0,
)
_SHORT = (25.0, 35.0)
"""Recording length of the clinics abroad: shorter bouts keep ``exohub demo`` quick."""

PATIENTS: tuple[DemoPatient, ...] = (
    DemoPatient(
        clinic="jp",
        record_number="SRC-26-0142",
        full_name="渡辺 美智子",
        sex=Sex.FEMALE,
        date_of_birth=date(1956, 3, 14),
        condition_code="I63.4",
        affected_side=AffectedSide.LEFT,
        height_cm=152.0,
        weight_kg=54.5,
        goals="Walk to the neighbourhood supermarket (400 m) with a cane; climb the two steps at the front door.",
        consent=ConsentStatus.GRANTED,
        course=_STROKE,
        n_sessions=14,
        weeks_between_sessions=1,
        weekday=1,
        hour=10,
        first_note="First session: thigh cuffs fitted (size S), familiarisation in the parallel bars, then "
        "overground walking with a quad cane and hand-held help on the left.",
        incidents=(
            Incident(
                6,
                "over_temperature",
                "Assistance stopped by the device: left thigh cuff over the skin temperature limit. Cuff padding "
                "replaced and strap loosened; skin checked, no redness after 20 minutes.",
            ),
        ),
    ),
    DemoPatient(
        clinic="jp",
        record_number="SRC-26-0157",
        full_name="小林 健一",
        sex=Sex.MALE,
        date_of_birth=date(1971, 9, 2),
        condition_code="G82.2",
        affected_side=AffectedSide.BOTH,
        ais_grade="D",
        neurological_level="T10",
        height_cm=171.0,
        weight_kg=68.0,
        goals="Walk indoors at home without a walker; return to his desk job part-time.",
        consent=ConsentStatus.GRANTED,
        course=_SPINAL_CORD,
        n_sessions=13,
        weeks_between_sessions=1,
        weekday=3,
        hour=14,
        treadmill=True,
        first_note="First session on the treadmill with body-weight support; cuffs size M. Incomplete injury "
        "(fall from a ladder), AIS D below T10.",
    ),
    DemoPatient(
        clinic="jp",
        record_number="SRC-26-0163",
        full_name="伊藤 直子",
        sex=Sex.FEMALE,
        date_of_birth=date(1984, 6, 21),
        condition_code="G35",
        affected_side=AffectedSide.RIGHT,
        height_cm=160.0,
        weight_kg=51.0,
        goals="Keep walking to the station (800 m) without stopping; less fatigue in the afternoon.",
        consent=ConsentStatus.NOT_ASKED,
        course=_MULTIPLE_SCLEROSIS,
        n_sessions=12,
        weeks_between_sessions=1,
        weekday=4,
        hour=16,
        first_note="Relapsing-remitting MS, stable for 2 years; right foot drop with fatigue. First session "
        "overground, rests every 10 minutes.",
    ),
    DemoPatient(
        clinic="kr",
        record_number="HG-2026-0311",
        full_name="Lee Jung-ho",
        sex=Sex.MALE,
        date_of_birth=date(1962, 11, 8),
        condition_code="I61.0",
        affected_side=AffectedSide.RIGHT,
        height_cm=169.0,
        weight_kg=72.0,
        goals="Walk in the apartment complex park with his wife; go back to the Sunday market.",
        consent=ConsentStatus.GRANTED,
        course=replace(_STROKE, recording_s=_SHORT, ten_metre_walk_m_s=(0.41, 0.66)),
        n_sessions=7,
        weeks_between_sessions=2,
        weekday=0,
        hour=9,
        first_note="Subcortical haemorrhage 4 months ago; right hemiparesis. Fitting and walking in the corridor "
        "with a single-point cane.",
    ),
    DemoPatient(
        clinic="kr",
        record_number="HG-2026-0324",
        full_name="Choi Eun-ji",
        sex=Sex.FEMALE,
        date_of_birth=date(1958, 4, 27),
        condition_code="I63.3",
        affected_side=AffectedSide.LEFT,
        height_cm=155.0,
        weight_kg=58.0,
        goals="Walk safely to the bus stop; fewer near-falls at home.",
        consent=ConsentStatus.DECLINED,
        course=replace(_STROKE, recording_s=_SHORT, ten_metre_walk_m_s=(0.31, 0.52), berg_ability=(-0.8, 0.2)),
        n_sessions=5,
        weeks_between_sessions=2,
        weekday=2,
        hour=15,
        first_note="Thrombotic infarction, left hemiparesis; walks with a hemi-walker. Familiarisation session.",
    ),
    DemoPatient(
        clinic="au",
        record_number="SCNR-48213",
        full_name="Margaret O'Connor",
        sex=Sex.FEMALE,
        date_of_birth=date(1951, 1, 30),
        condition_code="I63.5",
        affected_side=AffectedSide.RIGHT,
        height_cm=163.0,
        weight_kg=70.0,
        goals="Walk around the block with her dog; garden again.",
        consent=ConsentStatus.GRANTED,
        course=replace(_STROKE, recording_s=_SHORT),
        n_sessions=6,
        weeks_between_sessions=2,
        weekday=1,
        hour=11,
        first_note="Referred from the stroke unit; right hemiparesis, walking with a four-wheeled frame.",
        incidents=(
            Incident(
                3,
                "communication_loss",
                "The device reported a lost link to the controller and stopped assisting; battery connector "
                "reseated, assistance reset by the therapist and the session continued.",
            ),
        ),
    ),
    DemoPatient(
        clinic="id",
        record_number="NRC-26-0518",
        full_name="Dewi Lestari",
        sex=Sex.FEMALE,
        date_of_birth=date(1968, 8, 17),
        condition_code="I63.9",
        affected_side=AffectedSide.LEFT,
        height_cm=150.0,
        weight_kg=56.0,
        goals="Walk to the mosque near her house; cook standing at the stove.",
        consent=ConsentStatus.GRANTED,
        course=replace(_STROKE, recording_s=_SHORT, ten_metre_walk_m_s=(0.38, 0.60)),
        n_sessions=6,
        weeks_between_sessions=2,
        weekday=2,
        hour=10,
        first_note="Ischaemic stroke 3 months ago, left hemiparesis; walks with a quad cane and supervision.",
    ),
    DemoPatient(
        clinic="ph",
        record_number="BRC-2026-0907",
        full_name="Rodrigo Dela Cruz",
        sex=Sex.MALE,
        date_of_birth=date(1979, 5, 5),
        condition_code="S24.1",
        affected_side=AffectedSide.BOTH,
        ais_grade="D",
        neurological_level="T12",
        height_cm=168.0,
        weight_kg=66.0,
        goals="Walk with forearm crutches in the community; drive his jeepney route again.",
        consent=ConsentStatus.GRANTED,
        course=replace(_SPINAL_CORD, recording_s=_SHORT),
        n_sessions=6,
        weeks_between_sessions=2,
        weekday=3,
        hour=13,
        treadmill=True,
        first_note="Thoracic cord injury (road accident) 5 months ago, AIS D at T12. Treadmill with body-weight "
        "support.",
    ),
)
"""The demo patients: three in the Japanese clinic, one or two in each of the others."""

_SESSION_NOTES = (
    "Overground walking in the corridor with hip assistance; rest breaks every 10 minutes.",
    "Metronome cues for cadence; fewer stops than last week.",
    "Sit-to-stand and weight shifting before donning the device; walking block after.",
    "Reduced assistance tolerated well; mild fatigue at the end of the session.",
    "Walking on the ramp at the entrance and turns around cones, with supervision.",
    "Stairs practised without the device after the walking block.",
)


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
    devices: dict[str, list[DeviceUnit]] = {}
    for key, clinic in CLINICS.items():
        organisation_id = organisations[key].id
        context = AuditContext(actor_user_id=staff[clinic.therapist], address=DEMO_ADDRESS)
        devices[key] = [
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
    created = []
    for number, patient in enumerate(PATIENTS):
        clinic = CLINICS[patient.clinic]
        created.append(
            _seed_patient(
                session,
                patient,
                organisation_id=organisations[patient.clinic].id,
                device=devices[patient.clinic][number % len(devices[patient.clinic])],
                therapist=AuditContext(actor_user_id=staff[clinic.therapist], address=DEMO_ADDRESS),
                assessor=AuditContext(actor_user_id=staff[clinic.assessor], address=DEMO_ADDRESS),
                utc_offset_h=clinic.utc_offset_h,
                data_dir=data_dir,
                today=today,
                rng=np.random.default_rng([SEED, number]),
            )
        )
    return created


def _clinic_scope(organisation_id: int, permission: Permission) -> TenantScope:
    # The seeder writes each clinic's data as that clinic's own staff would, with the scope its therapist holds:
    # that one clinic. SYSTEM's superuser rights leave patient data out on purpose, so the scope is spelled out
    # here, for the demo's own freshly created clinics only, rather than widened for the command line.
    return TenantScope(principal=SYSTEM, permission=permission, organisation_ids=frozenset({organisation_id}))


def _seed_patient(
    session: Session,
    patient: DemoPatient,
    *,
    organisation_id: int,
    device: DeviceUnit,
    therapist: AuditContext,
    assessor: AuditContext,
    utc_offset_h: int,
    data_dir: Path,
    today: date,
    rng: np.random.Generator,
) -> Patient:
    scope = _clinic_scope(organisation_id, Permission.PATIENT_WRITE)
    created = service.create(
        session=session,
        scope=scope,
        context=therapist,
        data=PatientCreate(
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
        ),
    )
    dates = session_dates(patient, today=today, rng=rng)
    incidents = {incident.session_index: incident for incident in patient.incidents}
    assessed = set(assessment_indices(len(dates), patient.weeks_between_sessions))
    course = patient.course
    for index, day in enumerate(dates):
        progress = _progress(dates, day)
        incident = incidents.get(index)
        level = _rounded(_along(course.assistance_level_pct, progress), 5.0)
        recording_s = round(_along(course.recording_s, progress))
        therapy_session = clinic_sessions.create_session(
            session=session,
            scope=scope,
            context=therapist,
            patient_id=created.id,
            data=TherapySessionCreate(
                session_date=day,
                device_unit_id=device.id,
                duration_min=_rounded(_along(course.session_min, progress), 5.0),
                assist_mode=course.first_mode if index < course.first_mode_sessions else AssistMode.ASSIST_AS_NEEDED,
                assistance_level_pct=level,
                body_weight_support_pct=None
                if course.body_weight_support_pct is None
                else _rounded(_along(course.body_weight_support_pct, progress), 5.0),
                speed_m_s=round(0.8 * _along(course.ten_metre_walk_m_s, progress), 2) if patient.treadmill else None,
                joint_limits_deg={"left_hip": HIP_LIMITS_DEG, "right_hip": HIP_LIMITS_DEG},
                notes=_session_note(patient, index, incident, rng) + f" Walking bout recorded: {recording_s} s.",
            ),
        )
        measured_at = datetime.combine(
            day, time(patient.hour, int(rng.integers(0, 45))), tzinfo=timezone(timedelta(hours=utc_offset_h))
        )
        recording = session_recording(
            patient,
            progress=progress,
            assistance_level_pct=level,
            duration_s=float(recording_s),
            device_name=device.label,
            incident=incident,
            seed=int(rng.integers(2**31)),
        )
        recording.info["meas_date"] = measured_at
        _attach(
            session,
            therapy_session,
            recording,
            context=therapist,
            data_dir=data_dir,
            filename=f"{device.serial_number}_{day.isoformat()}_{measured_at:%H%M}.parquet",
        )
        if index in assessed:
            _assess(session, scope, assessor, created.id, therapy_session, course, progress, rng)
    return created


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


def _progress(dates: Sequence[date], day: date) -> float:
    """How far the patient is along their recovery, 0 at the first session to 1 at the last (gains come early)."""
    fraction = (day - dates[0]).days / max((dates[-1] - dates[0]).days, 1)
    return 1.0 - float((1.0 - fraction) ** 1.6)


def _along(span: Span, progress: float) -> float:
    first, last = span
    return first + (last - first) * progress


def _rounded(value: float, step: float) -> float:
    return float(step * round(value / step))


def _session_note(patient: DemoPatient, index: int, incident: Incident | None, rng: np.random.Generator) -> str:
    if incident is not None:
        return incident.note
    if index == 0:
        return patient.first_note
    if index == patient.n_sessions - 1:
        return "Re-assessment session; home walking programme reviewed and updated."
    return _SESSION_NOTES[int(rng.integers(len(_SESSION_NOTES)))]


def session_recording(
    patient: DemoPatient,
    *,
    progress: float,
    assistance_level_pct: float,
    duration_s: float,
    device_name: str,
    incident: Incident | None = None,
    seed: int = 0,
) -> Recording:
    """One session's walking bout: the assistance loop on the virtual patient at this point of their course.

    The patient replays synthetic hip gait with the course's stride time and the affected hip's range of motion
    scaled down; the hip exoskeleton assists with a torque in proportion to ``assistance_level_pct`` (more on the
    affected side). An incident injects its fault in the second half of the bout.
    """
    course = patient.course
    gait = synthetic_hip_gait(
        duration_s + 2.0,
        sampling_rate_hz=LOOP_RATE_HZ,
        stride_time_s=_along(course.stride_time_s, progress),
        seed=seed,
    )
    profile = replace(default_hip_profile(), name=device_name)
    share = _side_shares(patient.affected_side)
    level = assistance_level_pct / 100.0
    policy = AssistancePolicy(
        tuple(
            TorqueProfile.hip(
                joint,
                flexion_nm=FULL_FLEXION_NM * level * share[joint],
                extension_nm=FULL_EXTENSION_NM * level * share[joint],
            )
            for joint in profile.joint_names
        ),
        soft_start_s=1.0,
    )
    faults: tuple[FaultInjection, ...] = ()
    resets: tuple[tuple[float, str], ...] = ()
    if incident is not None:
        faults, resets = _incident_faults(incident, patient, duration_s)
    virtual = VirtualPatient(
        _hip_gait(gait, patient.affected_side, _along(course.affected_rom_ratio, progress)),
        profile,
        rate_hz=LOOP_RATE_HZ,
        faults=faults,
        seed=seed,
    )
    result = run_session(
        virtual, duration_s=duration_s, policy=policy, clock=SimulatedClock(), resets=resets, gc_policy="default"
    )
    return result.recording


def _side_shares(affected_side: AffectedSide) -> dict[str, float]:
    if affected_side in (AffectedSide.LEFT, AffectedSide.RIGHT):
        other = "right" if affected_side is AffectedSide.LEFT else "left"
        return {f"{affected_side.value}_hip": 1.0, f"{other}_hip": UNAFFECTED_SIDE_SHARE}
    return {"left_hip": 1.0, "right_hip": 1.0}


def _hip_gait(gait: Recording, affected_side: AffectedSide, rom_ratio: float) -> dict[str, np.ndarray]:
    """The gait's hip angles and velocities, the affected hip's swing around its mean scaled by ``rom_ratio``."""
    names = [f"{side}_hip_{quantity}" for side in ("left", "right") for quantity in ("angle", "velocity")]
    frame = gait.get(names)
    arrays = {name: frame[name].to_numpy(dtype=np.float64) for name in names}
    if affected_side in (AffectedSide.LEFT, AffectedSide.RIGHT):
        angle = arrays[f"{affected_side.value}_hip_angle"]
        mean = float(angle.mean())
        arrays[f"{affected_side.value}_hip_angle"] = mean + (angle - mean) * rom_ratio
        arrays[f"{affected_side.value}_hip_velocity"] = arrays[f"{affected_side.value}_hip_velocity"] * rom_ratio
    return {TIME_COLUMN: frame.index.to_numpy(dtype=np.float64), **arrays}


def _incident_faults(
    incident: Incident, patient: DemoPatient, duration_s: float
) -> tuple[tuple[FaultInjection, ...], tuple[tuple[float, str], ...]]:
    start_s = round(0.5 * duration_s, 1)
    if incident.kind == "over_temperature":
        joint = f"{patient.affected_side.value}_hip" if patient.affected_side.value in ("left", "right") else None
        # 0.45 degC/s more heating takes the skin from about 33 degC past the 41 degC warning to the 43 degC
        # limit in about 25 s; it stops soon after, so the skin cools again under the latched safe state.
        return (FaultInjection("over_temperature", start_s, 26.0, joint, 0.45),), ()
    if incident.kind == "communication_loss":
        return (FaultInjection("communication_loss", start_s, 0.3),), ((start_s + 4.0, "therapist"),)
    raise ValueError(f"incident kind must be over_temperature or communication_loss; got {incident.kind!r}.")


def _attach(
    session: Session,
    therapy_session: TherapySession,
    recording: Recording,
    *,
    context: AuditContext,
    data_dir: Path,
    filename: str,
) -> None:
    """Attach ``recording`` to the session exactly as an upload does: a file in the incoming folder, then the store."""
    with recordings.incoming_file(data_dir) as incoming:
        written = write_recording(recording, incoming.with_name(f"{incoming.stem}{Path(filename).suffix}"))
        written.rename(incoming)
        stored = StoredFile(sha256=_sha256(incoming), size_bytes=incoming.stat().st_size, filename=filename)
        clinic_sessions.attach_recording(
            session=session,
            context=context,
            therapy_session=therapy_session,
            incoming=incoming,
            stored=stored,
            data_dir=data_dir,
        )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _assess(
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
    comfortable = _along(course.ten_metre_walk_m_s, progress) + rng.normal(0.0, 0.02)
    fast = max(_along(course.ten_metre_walk_fast_m_s, progress) + rng.normal(0.0, 0.03), comfortable + 0.05)
    tug = _along(course.timed_up_and_go_s, progress)
    results: list[tuple[MeasureCode, float | None, list[int] | None]] = [
        (MeasureCode.TEN_METRE_WALK_COMFORTABLE, round(comfortable, 2), None),
        (MeasureCode.TEN_METRE_WALK_FAST, round(fast, 2), None),
        (MeasureCode.SIX_MINUTE_WALK, round(_along(course.six_minute_walk_m, progress) + rng.normal(0.0, 6.0)), None),
        (MeasureCode.TIMED_UP_AND_GO, round(tug * (1.0 + rng.normal(0.0, 0.04)), 1), None),
        (MeasureCode.BERG_BALANCE, None, berg_items(_along(course.berg_ability, progress), rng)),
        (
            MeasureCode.FUNCTIONAL_AMBULATION_CATEGORY,
            float(math.floor(_along(course.functional_ambulation, progress) + 0.5)),
            None,
        ),
    ]
    for measure, value, items in results:
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


def berg_items(ability: float, rng: np.random.Generator) -> list[int]:
    """The 14 Berg item scores (0-4) of a patient with this balance ability, with a little scoring noise."""
    scores = []
    for difficulty in _BERG_DIFFICULTY:
        score = 2.0 + _BERG_SLOPE * (ability - difficulty) + rng.normal(0.0, 0.3)
        scores.append(int(min(max(math.floor(score + 0.5), 0), BERG_ITEM_MAXIMUM)))
    return scores
