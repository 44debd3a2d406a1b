"""Argument checks name the parameter, list what is allowed and repeat what was received."""

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exohub._utils._checks import check_day, check_finite_number, check_instance, check_items, check_option


def test_check_option_returns_an_allowed_value() -> None:
    assert check_option("side", "left", ("left", "right")) == "left"


def test_check_option_message_names_everything() -> None:
    with pytest.raises(ValueError, match=r"'side' parameter\. Allowed values are 'left', 'right', got 'L'\."):
        check_option("side", "L", ("left", "right"))


@given(value=st.text(max_size=5), allowed=st.lists(st.text(max_size=5), max_size=4))
def test_check_option_accepts_exactly_the_allowed(value: str, allowed: list[str]) -> None:
    if value in allowed:
        assert check_option("p", value, allowed) == value
    else:
        with pytest.raises(ValueError, match="Invalid value for the 'p' parameter"):
            check_option("p", value, allowed)


def test_check_instance_message_names_what_is_allowed_and_what_came() -> None:
    assert check_instance("sampling_rate_hz", 3.0, (int, float), "a number") == 3.0
    with pytest.raises(TypeError, match=r"sampling_rate_hz must be a number, got str \('200'\)\."):
        check_instance("sampling_rate_hz", "200", (int, float), "a number")


def test_check_instance_refuses_a_bool_unless_listed() -> None:
    assert check_instance("steps", 3, int, "an int") == 3
    assert check_instance("flag", True, (bool, int), "a bool") is True
    with pytest.raises(TypeError, match=r"steps must be an int, got bool \(True\)\."):
        check_instance("steps", True, int, "an int")
    with pytest.raises(TypeError, match=r"unit must be a str, got list \(\[0, 1, 2, 3, 4, 5, \.\.\.\]\)\."):
        check_instance("unit", list(range(100)), str, "a str")  # the value is shown shortened


@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(min_value=-(10**6), max_value=10**6))
def test_check_finite_accepts_exactly_the_finite_numbers_above_the_minimum(value: float) -> None:
    if math.isfinite(value) and value >= 0:
        assert check_finite_number("speed_m_per_s", value, minimum=0) == float(value)
    else:
        with pytest.raises(ValueError, match=r"speed_m_per_s must be a finite number of at least 0, got "):
            check_finite_number("speed_m_per_s", value, minimum=0)


def test_check_finite_refuses_what_is_not_a_number() -> None:
    assert check_finite_number("value", np.float32(1.5)) == 1.5
    for value in ("1.5", None, False):
        with pytest.raises(TypeError, match=r"value must be a number, got "):
            check_finite_number("value", value)


def test_check_day_refuses_a_datetime() -> None:
    assert check_day("on", dt.date(2026, 4, 30)) == dt.date(2026, 4, 30)
    with pytest.raises(TypeError, match=r"on must be a datetime.date \(a day, not a datetime\), got datetime"):
        check_day("on", dt.datetime(2026, 4, 30, 9))
    with pytest.raises(TypeError, match=r"on must be a datetime.date .* got str \('2026-04-30'\)"):
        check_day("on", "2026-04-30")


def test_check_items_names_the_first_wrong_item() -> None:
    assert check_items("days", iter([dt.date(2026, 1, 1)]), dt.date) == (dt.date(2026, 1, 1),)
    with pytest.raises(TypeError, match=r"days\[1\] must be a date, got str\."):
        check_items("days", [dt.date(2026, 1, 1), "2026-01-02", 3], dt.date)
