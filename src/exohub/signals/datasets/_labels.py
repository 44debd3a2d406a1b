"""Phase labels stored as (cos 2πφ, sin 2πφ) pairs, as the public gait-phase data sets store them."""

import numpy as np


def phase_from_cos_sin(cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Return φ in [0, 1) from cos(2πφ) and sin(2πφ) (a value that rounds up to 1.0 wraps to 0.0)."""
    phase = np.mod(np.arctan2(sin, cos) / (2 * np.pi), 1.0)
    phase[phase >= 1.0] = 0.0
    return phase
