"""Argument checks name the parameter, list what is allowed and repeat what was received."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exohub._utils._checks import check_option, validate_type


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


def test_validate_type_message_names_the_types() -> None:
    assert validate_type(3.0, (int, float), "sampling_rate_hz") == 3.0
    with pytest.raises(TypeError, match="sampling_rate_hz must be an instance of int or float, got str instead"):
        validate_type("200", (int, float), "sampling_rate_hz")
