"""What the patient's PDF progress report shows, as plain checked values.

:mod:`exohub.web.clinic.progress` gathers them from stored rows; :mod:`exohub.web.clinic.report` lays them out.
Each checks its fields when built, so a report never starts from a wrong value.
"""

import datetime as dt
from dataclasses import dataclass

from exohub._utils._checks import check_day, check_finite_number, check_instance, check_items
from exohub.web.clinic.plot_data import CycleCurve, TimeSeries

__all__ = ["OutcomeRow", "ProgressReport", "SessionRow"]


@dataclass(frozen=True)
class OutcomeRow:
    """One outcome measure: first and latest value and the caller's interpretation of the change."""

    measure: str
    unit: str
    baseline_date: dt.date | None
    baseline: float | None
    latest_date: dt.date | None
    latest: float | None
    change_text: str

    def __post_init__(self) -> None:
        for name in ("measure", "unit", "change_text"):
            check_instance(f"OutcomeRow.{name}", getattr(self, name), str, "a str")
        for name in ("baseline_date", "latest_date"):
            if getattr(self, name) is not None:
                check_day(f"OutcomeRow.{name}", getattr(self, name))
        for name in ("baseline", "latest"):
            if getattr(self, name) is not None:
                check_finite_number(f"OutcomeRow.{name}", getattr(self, name))


@dataclass(frozen=True)
class SessionRow:
    """One therapy session as listed in the report."""

    on: dt.date
    device: str
    duration_min: float | None
    steps: int | None
    walking_time_s: float | None
    cadence_steps_per_min: float | None
    assistance: str

    def __post_init__(self) -> None:
        check_day("SessionRow.on", self.on)
        check_instance("SessionRow.device", self.device, str, "a str")
        check_instance("SessionRow.assistance", self.assistance, str, "a str")
        if self.steps is not None:
            check_instance("SessionRow.steps", self.steps, int, "an int or None")
        for name in ("steps", "duration_min", "walking_time_s", "cadence_steps_per_min"):
            if getattr(self, name) is not None:
                check_finite_number(f"SessionRow.{name}", getattr(self, name), minimum=0)


@dataclass(frozen=True)
class ProgressReport:
    """Everything the PDF shows; the caller (the clinic service) gathers it, this module only lays it out."""

    clinic: str
    patient_name: str
    date_of_birth: dt.date
    sex: str
    condition: str
    affected_side: str
    goals: str
    generated_at: dt.datetime
    generated_by: str
    outcomes: tuple[OutcomeRow, ...]
    sessions: tuple[SessionRow, ...]
    series: tuple[TimeSeries, ...]
    cycle_title: str | None = None
    cycle_curves: tuple[CycleCurve, ...] = ()
    cycle_unit: str = "deg"
    record_number: str | None = None
    """The clinic's medical record number: printed beside the name on every page, so a page stays identifiable
    whatever the viewer's fonts (a name in a script the viewer cannot draw prints blank)."""

    def __post_init__(self) -> None:
        for name in ("clinic", "patient_name", "sex", "condition", "affected_side", "goals", "generated_by"):
            check_instance(f"ProgressReport.{name}", getattr(self, name), str, "a str")
        if not self.patient_name.strip():
            raise ValueError("ProgressReport.patient_name must not be empty: the report has to name its patient.")
        check_day("ProgressReport.date_of_birth", self.date_of_birth)
        check_instance("ProgressReport.generated_at", self.generated_at, dt.datetime, "a datetime.datetime")
        if self.date_of_birth > self.generated_at.date():
            raise ValueError(
                f"ProgressReport.date_of_birth must not be after the report date {self.generated_at.date()}, "
                f"got {self.date_of_birth}."
            )
        if self.cycle_title is not None:
            check_instance("ProgressReport.cycle_title", self.cycle_title, str, "a str or None")
        check_instance("ProgressReport.cycle_unit", self.cycle_unit, str, "a str")
        for name, item_type in (
            ("outcomes", OutcomeRow),
            ("sessions", SessionRow),
            ("series", TimeSeries),
            ("cycle_curves", CycleCurve),
        ):
            object.__setattr__(self, name, check_items(f"ProgressReport.{name}", getattr(self, name), item_type))

    @property
    def age_years(self) -> int:
        """The patient's age in whole years on the day the report was generated."""
        on = self.generated_at.date()
        born = self.date_of_birth
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
