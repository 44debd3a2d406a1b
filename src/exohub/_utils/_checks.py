"""Argument checks with uniform messages: parameter name, what is allowed, what was received."""

from collections.abc import Iterable
from typing import Any, TypeVar

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
