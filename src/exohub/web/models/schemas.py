"""API shapes of the model registry: a draft's provenance, metrics per site and model card; a version as read."""

import json
import math
import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from exohub.web.fields import MAX_ID, LongText, ShortName
from exohub.web.models.models import ModelStatus

# semver.org 2.0.0, with ASCII digits only (\d would accept any Unicode digit).
_SEMVER = re.compile(
    r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
MAX_CONFIG_CHARACTERS = 20_000
MAX_CONFIG_DEPTH = 8
MAX_SITES = 50
MAX_METRICS_PER_SITE = 32


def _semver(value: str) -> str:
    if not _SEMVER.match(value):
        raise ValueError(f"{value!r} is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.4.0 or 2.0.0-rc.1)")
    return value


ModelName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
    Field(description="Letters, digits, '.', '_' and '-', starting with a letter or digit (e.g. hip-phase-tcn)."),
]
SemVer = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_semver)]
MetricName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$"),
    Field(description="snake_case; names ending in _pct are 0-100, names ending in accuracy are 0-1."),
]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
CardText = Annotated[LongText, Field(description="Markdown-like text; shown escaped, paragraphs and '- ' lists kept.")]


def _metric_range(name: str) -> tuple[float, float] | None:
    if name.endswith("_pct"):
        return 0.0, 100.0
    if name.endswith("accuracy"):
        return 0.0, 1.0
    return None


def _check_json(value: Any, path: str, depth: int) -> None:
    if depth > MAX_CONFIG_DEPTH:
        raise ValueError(f"{path} is nested deeper than {MAX_CONFIG_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path} is {value}; use finite numbers only (JSON has no NaN or Infinity)")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]", depth + 1)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TrainingSite(Input):
    """A clinic site or a pooled data release that trained the model: a name and a count, never a patient."""

    site: ShortName
    subjects: int = Field(ge=0, le=1_000_000, description="Number of subjects the site contributed.")


class ModelVersionCreate(Input):
    organisation_id: int = Field(ge=1, le=MAX_ID, description="The publishing organisation (one of yours).")
    name: ModelName
    version: SemVer
    code_version: ShortName = Field(description="The code that trained it: a release, tag or commit.")
    training_config: dict[str, Any] = Field(default_factory=dict, description="The training configuration (JSON).")
    training_sites: list[TrainingSite] = Field(min_length=1, max_length=MAX_SITES)
    metrics: dict[ShortName, dict[MetricName, FiniteFloat]] = Field(
        default_factory=dict,
        max_length=MAX_SITES,
        description='Per evaluation site: {"site": {"phase_rmse_pct": 3.1, "mode_accuracy": 0.98}}.',
    )
    intended_use: CardText = Field(min_length=1)
    limitations: CardText = Field(min_length=1)
    training_data: CardText = ""
    evaluation: CardText = ""

    @field_validator("training_config")
    @classmethod
    def _config_is_small_finite_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        _check_json(value, "training_config", 0)
        if len(json.dumps(value)) > MAX_CONFIG_CHARACTERS:
            raise ValueError(f"training_config is longer than {MAX_CONFIG_CHARACTERS} characters as JSON")
        return value

    @field_validator("metrics")
    @classmethod
    def _metrics_in_range(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for site, scores in value.items():
            if len(scores) > MAX_METRICS_PER_SITE:
                raise ValueError(f"site {site!r} has {len(scores)} metrics; at most {MAX_METRICS_PER_SITE}")
            for name, score in scores.items():
                bounds = _metric_range(name)
                if bounds is not None and not bounds[0] <= score <= bounds[1]:
                    raise ValueError(f"{name} of site {site!r} is {score}; it must lie in [{bounds[0]}, {bounds[1]}]")
        return value


class ModelVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    organisation_name: str
    name: str
    version: str
    status: ModelStatus
    code_version: str
    training_config: dict[str, Any]
    training_sites: list[TrainingSite]
    metrics: dict[str, dict[str, float]]
    intended_use: str
    limitations: str
    training_data: str
    evaluation: str
    file_sha256: str | None = Field(description="SHA-256 of the ONNX file (hex); null until one is uploaded.")
    file_size_bytes: int | None
    created_at: datetime
    published_at: datetime | None
    withdrawn_at: datetime | None
    withdrawal_reason: str | None
