"""Errors between phases on the circle: phase 0.99 and 0.01 are 2 % of the gait cycle apart, not 98 %."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from exohub.exceptions import ValidationError


def circular_error(estimated: ArrayLike, reference: ArrayLike) -> np.ndarray:
    """Return the signed phase error ``estimated - reference`` wrapped to [-0.5, 0.5) cycles.

    Parameters
    ----------
    estimated, reference
        Phases in cycles (any real values; only their fractional part matters), broadcastable; NaN propagates.

    Returns
    -------
    numpy.ndarray
        Positive where the estimate leads the reference.
    """
    difference = np.asarray(estimated, dtype=np.float64) - np.asarray(reference, dtype=np.float64)
    return np.mod(difference + 0.5, 1.0) - 0.5


def compute_phase_rmse(estimated: ArrayLike, reference: ArrayLike) -> float:
    """Return the circular root-mean-square phase error in % of the gait cycle, over samples where both are finite.

    Parameters
    ----------
    estimated, reference
        Phases in cycles, same shape. Samples where either is NaN are left out; report the coverage separately.

    Returns
    -------
    float
        ``100 * sqrt(mean(circular_error**2))``.
    """
    estimated = np.asarray(estimated, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if estimated.shape != reference.shape:
        raise ValidationError(f"estimated has shape {estimated.shape} but reference has {reference.shape}.")
    error = circular_error(estimated, reference)
    finite = np.isfinite(error)
    if not finite.any():
        raise ValidationError("no sample where both the estimated and the reference phase are finite.")
    return float(100.0 * np.sqrt(np.mean(error[finite] ** 2)))
