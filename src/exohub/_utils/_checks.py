"""Argument checks with uniform messages: parameter name, what is allowed, what was received."""

import datetime as dt
import math
import reprlib
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


def check_instance(parameter: str, value: Any, types: type | tuple[type, ...], allowed: str) -> Any:
    """Return ``value`` if it is an instance of ``types``, else raise a ``TypeError`` saying ``allowed`` in words.

    A bool is accepted only where ``types`` lists bool (it is an int to Python, never a count to a caller).
    """
    listed = types if isinstance(types, tuple) else (types,)
    if (isinstance(value, bool) and bool not in listed) or not isinstance(value, listed):
        raise TypeError(f"{parameter} must be {allowed}, got {type(value).__name__} ({reprlib.repr(value)}).")
    return value


def _number(parameter: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{parameter} must be a number, got {type(value).__name__}.")
    return float(value)


def check_finite_number(parameter: str, value: Any, *, minimum: float | None = None) -> float:
    """Return ``value`` as a float if it is a finite number (at least ``minimum``), else raise naming the parameter.

    A non-number (or a bool) raises ``TypeError``; NaN, infinity or a number below ``minimum`` raise ``ValueError``.
    """
    number = _number(parameter, value)
    if not math.isfinite(number) or (minimum is not None and number < minimum):
        limit = "" if minimum is None else f" of at least {minimum:g}"
        raise ValueError(f"{parameter} must be a finite number{limit}, got {value!r}.")
    return number


def check_positive(parameter: str, value: Any) -> float:
    """Return ``value`` as a float if it is a finite number above 0, else raise naming the parameter.

    A non-number (or a bool) raises ``TypeError``; zero, a negative number, NaN or infinity raise ``ValueError``.
    """
    number = _number(parameter, value)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{parameter} must be a finite positive number, got {value!r}.")
    return number


def check_day(parameter: str, value: Any) -> dt.date:
    """Return ``value`` if it is a ``datetime.date`` and not a ``datetime.datetime``, else raise a ``TypeError``."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(
            f"{parameter} must be a datetime.date (a day, not a datetime), got {type(value).__name__} "
            f"({reprlib.repr(value)})."
        )
    return value


def check_items(parameter: str, items: Iterable[Any], item_type: type[T]) -> tuple[T, ...]:
    """Return ``items`` as a tuple if each is an ``item_type``; else a ``TypeError`` names the first that is not."""
    checked = tuple(items)
    for index, item in enumerate(checked):
        if not isinstance(item, item_type):
            raise TypeError(f"{parameter}[{index}] must be a {item_type.__name__}, got {type(item).__name__}.")
    return checked


def check_sampling_rate(sampling_rate_hz: Any) -> float:
    """Return ``sampling_rate_hz`` as a float if it is a finite number of Hz above 0 (see :func:`check_positive`)."""
    return check_positive("sampling_rate_hz", sampling_rate_hz)
