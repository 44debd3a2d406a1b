"""What the progress plots draw, as plain checked values, and how their numbers and days are written.

:mod:`exohub.web.clinic.progress` fills these from stored rows; :mod:`exohub.web.clinic.plots` draws them and
:mod:`exohub.web.clinic.report` prints them. Each checks its fields when built, so a plot never starts from a
wrong value: a NaN, a datetime where a day belongs, a curve that is not 101 points long.
"""

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from exohub._utils._checks import check_day, check_finite_number, check_instance, check_items

__all__ = ["CYCLE_POINTS", "CycleCurve", "TimePoint", "TimeSeries", "format_day", "format_quantity", "format_value"]

CYCLE_POINTS = 101
"""Samples in a gait-cycle curve: 0, 1, ..., 100 % of the cycle."""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class TimePoint:
    """One measurement: its day and value."""

    on: dt.date
    value: float

    def __post_init__(self) -> None:
        check_day("TimePoint.on", self.on)
        object.__setattr__(self, "value", check_finite_number("TimePoint.value", self.value))


def sorted_points(points: Sequence[TimePoint]) -> list[TimePoint]:
    """``points`` from the earliest day to the latest."""
    return sorted(points, key=lambda point: point.on)


@dataclass(frozen=True)
class TimeSeries:
    """An outcome measured over time, e.g. ``TimeSeries("Walking speed (10MWT comfortable)", "m/s", points)``.

    ``threshold`` is the minimal clinically important difference (MCID), drawn at ``baseline + threshold`` (or
    ``baseline - threshold`` when lower is better). Without a ``baseline``, the first measurement is the baseline.
    """

    title: str
    unit: str
    points: tuple[TimePoint, ...]
    higher_is_better: bool = True
    baseline: float | None = None
    threshold: float | None = None

    def __post_init__(self) -> None:
        check_instance("TimeSeries.title", self.title, str, "a str")
        check_instance("TimeSeries.unit", self.unit, str, "a str")
        object.__setattr__(self, "points", check_items("TimeSeries.points", self.points, TimePoint))
        if self.baseline is not None:
            object.__setattr__(self, "baseline", check_finite_number("TimeSeries.baseline", self.baseline))
        if self.threshold is not None:
            threshold = check_finite_number("TimeSeries.threshold", self.threshold)
            if threshold <= 0:
                raise ValueError(f"TimeSeries.threshold (the MCID) must be above 0, got {self.threshold!r}.")
            object.__setattr__(self, "threshold", threshold)

    @property
    def mcid_level(self) -> float | None:
        """The value a patient has to reach for a clinically important change, or None."""
        baseline = self.effective_baseline
        if self.threshold is None or baseline is None:
            return None
        return baseline + self.threshold if self.higher_is_better else baseline - self.threshold

    @property
    def effective_baseline(self) -> float | None:
        """``baseline``, or the first measurement when a threshold needs one."""
        if self.baseline is not None:
            return self.baseline
        if self.threshold is not None and self.points:
            return sorted_points(self.points)[0].value
        return None


@dataclass(frozen=True)
class CycleCurve:
    """A gait-cycle-averaged curve: mean (and SD) at 0, 1, ..., 100 % of the cycle."""

    label: str
    mean: tuple[float, ...]
    sd: tuple[float, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        if not check_instance("CycleCurve.label", self.label, str, "a str").strip():
            raise ValueError("CycleCurve.label must not be empty; name the curve, e.g. 'left_hip_angle'.")
        object.__setattr__(self, "mean", _cycle_values(f"CycleCurve.mean ({self.label})", self.mean))
        if self.sd is not None:
            sd = _cycle_values(f"CycleCurve.sd ({self.label})", self.sd)
            if min(sd) < 0:
                raise ValueError(f"CycleCurve.sd ({self.label}) must not be negative, got {min(sd)!r}.")
            object.__setattr__(self, "sd", sd)


def _cycle_values(name: str, values: Any) -> tuple[float, ...]:
    checked = tuple(check_finite_number(f"{name}[{index}]", value) for index, value in enumerate(values))
    if len(checked) != CYCLE_POINTS:
        raise ValueError(
            f"{name} must have {CYCLE_POINTS} values (0..100 % of the gait cycle), got {len(checked)}; "
            "resample the cycle onto 101 points."
        )
    return checked


# --- text shared by the SVG title and the PDF --------------------------------------------------------------------


def format_value(value: float) -> str:
    """About three significant digits, never in scientific notation: 0.82, 18.4, 245, 1234."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_quantity(value: float, unit: str) -> str:
    """``0.82 m/s``; a unitless value alone."""
    return f"{format_value(value)} {unit}".strip()


def format_day(day: dt.date) -> str:
    """``30 Apr 2026``, whatever the process locale."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
