"""Input checks shared by the phase estimators."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from exohub.exceptions import ValidationError


def check_time_s(time_s: ArrayLike, name: str = "time_s") -> np.ndarray:
    """Return ``time_s`` as a 1-D float64 array, or raise a ``ValidationError`` unless finite and increasing."""
    times = np.asarray(time_s, dtype=np.float64)
    if times.ndim != 1:
        raise ValidationError(f"{name} must be one-dimensional, got shape {times.shape}.")
    if not np.all(np.isfinite(times)):
        raise ValidationError(
            f"{name} must be finite; NaN or inf at index {int(np.flatnonzero(~np.isfinite(times))[0])}."
        )
    if np.any(np.diff(times) <= 0):
        bad = int(np.flatnonzero(np.diff(times) <= 0)[0])
        raise ValidationError(f"{name} must be strictly increasing; it is not at index {bad + 1}.")
    return times


def check_stride_limit(name: str, value: float) -> float:
    """Return a stride-time limit as a float, or raise a ``ValueError`` unless finite and positive."""
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite positive number of seconds, got {value!r}.")
    return float(value)
