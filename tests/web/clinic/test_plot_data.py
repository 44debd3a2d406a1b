"""The values the progress plots draw: checked when built, written the same way on pages and in the PDF."""

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exohub.web.clinic.plot_data import CycleCurve, TimePoint, TimeSeries, format_day, format_quantity, format_value

START = dt.date(2026, 1, 12)


def test_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match=r"TimePoint.value must be a finite number, got nan"):
        TimePoint(START, math.nan)
    with pytest.raises(TypeError, match=r"TimePoint.on must be a datetime.date \(a day, not a datetime\)"):
        TimePoint(dt.datetime(2026, 1, 1, 9), 1.0)
    with pytest.raises(TypeError, match=r"TimeSeries.points\[1\] must be a TimePoint, got float"):
        TimeSeries("Speed", "m/s", (TimePoint(START, 1.0), 2.0))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"TimeSeries.threshold \(the MCID\) must be above 0, got -0.1"):
        TimeSeries("Speed", "m/s", (), threshold=-0.1)
    with pytest.raises(ValueError, match=r"CycleCurve.mean \(left_hip_angle\) must have 101 values .* got 100"):
        CycleCurve("left_hip_angle", tuple(range(100)), None)
    with pytest.raises(ValueError, match=r"CycleCurve.sd \(left_hip_angle\) must not be negative, got -1.0"):
        CycleCurve("left_hip_angle", tuple(range(101)), (-1.0,) * 101)
    with pytest.raises(ValueError, match=r"CycleCurve.label must not be empty"):
        CycleCurve(" ", tuple(range(101)), None)
    with pytest.raises(TypeError, match=r"TimeSeries.title must be a str, got int \(5\)"):
        TimeSeries(5, "m/s", ())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"TimePoint.value must be a number, got bool"):
        TimePoint(START, True)


def test_threshold_is_drawn_from_the_first_measurement_without_a_baseline() -> None:
    points = (TimePoint(START + dt.timedelta(days=7), 0.6), TimePoint(START, 0.5))
    assert TimeSeries("Speed", "m/s", points, threshold=0.1).mcid_level == pytest.approx(0.6)
    assert TimeSeries("TUG", "s", points, higher_is_better=False, threshold=0.1).mcid_level == pytest.approx(0.4)
    assert TimeSeries("Speed", "m/s", points, baseline=0.7, threshold=0.1).mcid_level == pytest.approx(0.8)
    assert TimeSeries("Speed", "m/s", points).mcid_level is None


def test_format_value_known_answers() -> None:
    assert [format_value(v) for v in (0.82, 0.4249, 18.44, 245.3, 1234.0, 42.0, 0.0, -3.05)] == [
        "0.82",
        "0.425",
        "18.4",
        "245",
        "1234",
        "42",
        "0",
        "-3.05",
    ]
    assert format_quantity(42.0, "") == "42"
    assert format_day(dt.date(2026, 4, 30)) == "30 Apr 2026"


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).filter(lambda v: abs(v) > 1e-6))
def test_format_value_keeps_three_significant_digits_without_exponent(value: float) -> None:
    text = format_value(value)
    assert "e" not in text.lower()
    assert float(text) == pytest.approx(value, rel=5e-3, abs=5e-3)
