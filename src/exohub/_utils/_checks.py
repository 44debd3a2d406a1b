"""Argument checks with uniform messages: parameter name, what is allowed, what was received."""

import math
from collections.abc import Iterable
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def check_option(parameter: str, value: T, allowed: Iterable[T]) -> T:
    """Return ``value`` if it is one of ``allowed``, else raise a ``ValueError`` naming the parameter."""
    options = list(allowed)
    if value not in options:
        listed = ", ".join(repr(option) for option in options)
        raise ValueError(f"Invalid value for the '{parameter}' parameter. Allowed values are {listed}, got {value!r}.")
    return value


def validate_type(value: Any, types: type | tuple[type, ...], name: str) -> Any:
    """Return ``value`` if it is an instance of ``types``, else raise a ``TypeError`` naming it."""
    if not isinstance(value, types):
        expected = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise TypeError(f"{name} must be an instance of {expected}, got {type(value).__name__} instead.")
    return value


def check_positive(parameter: str, value: Any) -> float:
    """Return ``value`` as a float if it is a finite number above 0, else raise naming the parameter.

    A non-number (or a bool) raises ``TypeError``; zero, a negative number, NaN or infinity raise ``ValueError``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{parameter} must be a number, got {type(value).__name__}.")
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{parameter} must be a finite positive number, got {value!r}.")
    return number


def check_sampling_rate(sampling_rate_hz: Any) -> float:
    """Return ``sampling_rate_hz`` as a float if it is a finite number of Hz above 0 (see :func:`check_positive`)."""
    return check_positive("sampling_rate_hz", sampling_rate_hz)
