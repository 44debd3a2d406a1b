"""API shapes of the clinic: patients, device units, therapy sessions (with their analysis) and outcome measures.

Dates in the future are refused by the service against the latest calendar date anywhere on Earth (UTC+14),
so a clinic east of UTC can record today's session in the morning.
"""

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from exohub.web.clinic.conditions import check_ais_grade, check_icd10_code, check_neurological_level
from exohub.web.clinic.measures import MeasureCode
from exohub.web.clinic.models import AffectedSide, AssistMode, ConsentStatus, Sex
from exohub.web.errors import InvalidInputError
from exohub.web.fields import MAX_ID, LongText, Name, OptionalShortText, SerialNumber, ShortName

FIRST_DATE = date(1900, 1, 1)
JOINT_NAMES = ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


def _as_value_error(check: Callable[[str], str]) -> Callable[[str], str]:
    """A clinical checker as a pydantic validator: its message becomes the field's error."""

    def validate(value: str) -> str:
        try:
            return check(value)
        except InvalidInputError as err:
            raise ValueError(err.detail) from err

    return validate


_icd10 = _as_value_error(check_icd10_code)
_ais = _as_value_error(check_ais_grade)
_level = _as_value_error(check_neurological_level)


Icd10Code = Annotated[str, StringConstraints(max_length=16), AfterValidator(_icd10)]
AisGrade = Annotated[str, StringConstraints(max_length=8), AfterValidator(_ais)]
NeurologicalLevel = Annotated[str, StringConstraints(max_length=8), AfterValidator(_level)]
RecordNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9./_-]*$")
]
PastDate = Annotated[date, Field(ge=FIRST_DATE)]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JointLimit(Input):
    """The range of motion the device was set to allow at one joint, in degrees of flexion."""

    min_deg: float = Field(ge=-90, le=180, allow_inf_nan=False)
    max_deg: float = Field(ge=-90, le=180, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> "JointLimit":
        if self.min_deg >= self.max_deg:
            raise ValueError(f"min_deg ({self.min_deg}) must be below max_deg ({self.max_deg})")
        return self


def _known_joints(value: dict[str, JointLimit]) -> dict[str, JointLimit]:
    unknown = sorted(set(value) - set(JOINT_NAMES))
    if unknown:
        raise ValueError(f"unknown joints {unknown}; use {', '.join(JOINT_NAMES)}")
    return value


JointLimits = Annotated[dict[str, JointLimit], AfterValidator(_known_joints)]


# Patients ----------------------------------------------------------------------------------------------


class PatientFields(Input):
    record_number: RecordNumber | None = Field(default=None, description="The clinic's own medical record number.")
    ais_grade: AisGrade | None = Field(
        default=None, description="ASIA Impairment Scale grade (A-E), spinal cord injury."
    )
    neurological_level: NeurologicalLevel | None = Field(default=None, description="Neurological level (C1-S5).")
    height_cm: float | None = Field(default=None, ge=50, le=250, allow_inf_nan=False)
    weight_kg: float | None = Field(default=None, ge=20, le=300, allow_inf_nan=False)
    goals: LongText = ""
    consent_status: ConsentStatus = ConsentStatus.NOT_ASKED


class PatientCreate(PatientFields):
    organisation_id: int = Field(ge=1, le=MAX_ID, description="The treating clinic (one of yours).")
    full_name: Name
    date_of_birth: PastDate
    sex: Sex
    condition_code: Icd10Code = Field(description="ICD-10 code of the main condition, e.g. I63.9 or G82.2.")
    condition_label: ShortName | None = Field(
        default=None, description="Readable condition; taken from the ICD-10 catalogue when left out."
    )
    affected_side: AffectedSide


class PatientUpdate(Input):
    full_name: Name | None = None
    date_of_birth: PastDate | None = None
    sex: Sex | None = None
    condition_code: Icd10Code | None = None
    condition_label: ShortName | None = None
    affected_side: AffectedSide | None = None
    record_number: RecordNumber | None = None
    ais_grade: AisGrade | None = None
    neurological_level: NeurologicalLevel | None = None
    height_cm: float | None = Field(default=None, ge=50, le=250, allow_inf_nan=False)
    weight_kg: float | None = Field(default=None, ge=20, le=300, allow_inf_nan=False)
    goals: LongText | None = None
    consent_status: ConsentStatus | None = None


class PatientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    record_number: str | None
    full_name: str
    date_of_birth: date
    sex: Sex
    condition_code: str
    condition_label: str
    ais_grade: str | None
    neurological_level: str | None
    affected_side: AffectedSide
    height_cm: float | None
    weight_kg: float | None
    goals: str
    consent_status: ConsentStatus
    consent_updated_at: datetime | None
    created_at: datetime
    updated_at: datetime


# Device units ------------------------------------------------------------------------------------------


class DeviceUnitCreate(Input):
    organisation_id: int = Field(ge=1, le=MAX_ID, description="The clinic that holds the unit.")
    manufacturer: ShortName
    model_name: ShortName
    serial_number: SerialNumber
    joints: OptionalShortText = Field(default="", description="e.g. 'hip' or 'hip, knee'.")


class DeviceUnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    manufacturer: str
    model_name: str
    serial_number: str
    joints: str
    label: str


# Therapy sessions --------------------------------------------------------------------------------------


class TherapySessionCreate(Input):
    session_date: PastDate
    device_unit_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="A unit of the patient's clinic.")
    duration_min: float | None = Field(default=None, gt=0, le=600, allow_inf_nan=False)
    assist_mode: AssistMode | None = None
    assistance_level_pct: Percent | None = None
    body_weight_support_pct: Percent | None = None
    speed_m_s: float | None = Field(default=None, ge=0, le=5, allow_inf_nan=False, description="Treadmill speed.")
    joint_limits_deg: JointLimits = Field(default_factory=dict)
    notes: LongText = ""


class RecordingRead(BaseModel):
    filename: str
    format: str
    sha256: str
    size_bytes: int
    duration_s: float | None
    analysed_at: datetime | None


class TherapySessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    patient_id: int
    therapist_user_id: int | None
    device_unit_id: int | None
    session_date: date
    duration_min: float | None
    assist_mode: AssistMode | None
    assistance_level_pct: float | None
    body_weight_support_pct: float | None
    speed_m_s: float | None
    joint_limits_deg: dict[str, Any]
    notes: str
    created_at: datetime
    recording: RecordingRead | None = None
    summary: dict[str, Any] | None = Field(
        default=None, description="Headline metrics of the analysis (steps, walking and up time, cadence...)."
    )


# Outcome measures --------------------------------------------------------------------------------------


class OutcomeCreate(Input):
    measure: MeasureCode
    measured_on: PastDate
    value: float | None = Field(default=None, allow_inf_nan=False, description="The result, in the measure's unit.")
    item_scores: list[int] | None = Field(default=None, max_length=14, description="Berg: the 14 item scores (0-4).")
    therapy_session_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    notes: LongText = ""


class OutcomeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    measure: MeasureCode
    name: str
    value: float
    unit: str
    item_scores: list[int] | None
    measured_on: date
    therapy_session_id: int | None
    assessor_user_id: int | None
    notes: str
    coding: dict[str, str]


class ChangeRead(BaseModel):
    measure: MeasureCode
    name: str
    unit: str
    baseline_date: date
    baseline: float
    latest_date: date
    latest: float
    change: float
    improved: bool | None
    meaningful: bool | None
    threshold: float | None
    threshold_kind: str | None
    threshold_source: str | None
    text: str


class ProgressPoint(BaseModel):
    on: date
    value: float


class ProgressRead(BaseModel):
    """A patient's progress: each outcome's change since baseline, and the series the timeline plots."""

    patient_id: int
    changes: list[ChangeRead]
    outcomes: dict[str, list[ProgressPoint]]
    sessions: dict[str, list[ProgressPoint]]
