"""API shapes for alliances, their members and goals."""

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from exohub.web.consortium.metrics import GOAL_METRICS
from exohub.web.fields import LongText, Name, PlannedDate, ShortName


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AllianceCreate(Input):
    name: Name
    region: ShortName
    description: LongText = ""


class AllianceMemberCreate(Input):
    organisation_id: int = Field(ge=1, le=2_147_483_647)
    joined_date: PlannedDate | None = None


class GoalCreate(Input):
    title: Name
    metric: str = Field(max_length=64, description="One of the keys listed by GET /api/v1/goal-metrics.")
    target_value: float = Field(gt=0, le=1e12, allow_inf_nan=False)
    deadline_date: PlannedDate

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in GOAL_METRICS:
            raise ValueError(f"unknown metric {value!r}; use one of: {', '.join(GOAL_METRICS)}")
        return value


class GoalUpdate(Input):
    title: Name | None = None
    target_value: float | None = Field(default=None, gt=0, le=1e12, allow_inf_nan=False)
    deadline_date: PlannedDate | None = None


class GoalMetricRead(BaseModel):
    key: str
    label: str
    unit: str
    measured_by: str


class GoalRead(BaseModel):
    id: int
    title: str
    metric: str
    unit: str
    target_value: float
    deadline_date: date
    measured_value: float | None = Field(description="Null while the part of exohub that measures it is not installed.")
    progress: float | None = Field(description="measured_value / target_value, capped at 1.")
    days_left: int


class AllianceMemberRead(BaseModel):
    organisation_id: int
    organisation_name: str
    country_code: str
    joined_date: date


class AllianceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    region: str
    description: str


class AllianceDetail(AllianceRead):
    members: list[AllianceMemberRead]
    goals: list[GoalRead]
