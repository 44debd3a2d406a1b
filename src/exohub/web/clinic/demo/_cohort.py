"""Who the demo clinics treat: their staff and exoskeleton units, and each patient with the course of their therapy.

Data only: ``_schedule`` dates the sessions, ``_recording`` simulates their walking bouts, ``_outcomes`` scores
their re-assessments and ``_seed`` writes it all through the clinic services.
"""

from dataclasses import dataclass, replace
from datetime import date

from exohub.web.clinic.models import AffectedSide, AssistMode, ConsentStatus, Sex

MANUFACTURER = "StrideWorks"
MODEL_NAME = "H2 hip exoskeleton"

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

SESSION_NOTES = (
    "Overground walking in the corridor with hip assistance; rest breaks every 10 minutes.",
    "Metronome cues for cadence; fewer stops than last week.",
    "Sit-to-stand and weight shifting before donning the device; walking block after.",
    "Reduced assistance tolerated well; mild fatigue at the end of the session.",
    "Walking on the ramp at the entrance and turns around cones, with supervision.",
    "Stairs practised without the device after the walking block.",
)
"""What a therapist notes after an ordinary session (the first, the last and incidents have their own)."""
