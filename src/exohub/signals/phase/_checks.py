"""Input checks shared by the phase estimators."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from exohub._utils._checks import check_positive
from exohub.exceptions import ValidationError
from exohub.signals.recording import check_time


def check_time_s(time_s: ArrayLike, name: str = "time_s") -> np.ndarray:
    """Return ``time_s`` as a 1-D float64 array, or raise a ``ValidationError`` unless finite and increasing."""
    times = np.asarray(time_s, dtype=np.float64)
    if times.ndim != 1:
        raise ValidationError(f"{name} must be one-dimensional, got shape {times.shape}.")
    if times.size:
        check_time(times, where=name)
    return times


def check_stride_limit(name: str, value: float) -> float:
    """Return a stride-time limit in seconds as a float, or raise unless it is a finite positive number."""
    return check_positive(name, value)
