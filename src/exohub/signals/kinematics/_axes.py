"""The flexion axis of each segment in its sensor's frame, and the sagittal angle about it, found from walking data."""

from __future__ import annotations

import warnings

import numpy as np

from exohub.exceptions import ExohubWarning, ValidationError

#: Horizontal angular rate (rad/s, root mean square) below which a segment is not moving enough to show its axis.
MIN_RMS_RATE_RAD_S = 0.1
#: |asymmetry| of the sagittal rate below which the swing direction is called ambiguous.
MIN_ASYMMETRY = 0.05


def principal_axis(gyr: np.ndarray, up: np.ndarray, *, name: str) -> np.ndarray:
    """Return the unit axis (sensor frame, sign arbitrary) about which the segment turns most, orthogonal to gravity.

    The vertical part of the angular rate (turning, pelvic yaw) is removed sample by sample first.
    """
    horizontal = gyr - np.sum(gyr * up, axis=1, keepdims=True) * up
    covariance = horizontal.T @ horizontal / horizontal.shape[0]
    values, vectors = np.linalg.eigh(covariance)
    if np.sqrt(values[-1]) < MIN_RMS_RATE_RAD_S:
        raise ValidationError(
            f"{name}: the segment hardly rotates (rms {np.sqrt(values[-1]):.3g} rad/s about any horizontal axis), "
            "so its flexion axis cannot be found; give a recording with at least ~10 strides of walking."
        )
    return vectors[:, -1]


def sagittal_angle(up: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Return the segment's rotation (rad) about ``axis`` relative to its mean pose, from "up" in the sensor frame.

    "Up" projected on the plane orthogonal to ``axis`` turns by minus the segment's rotation about ``axis``; the
    angle is exact for any rotation about ``axis`` and unaffected by rotation about "up" itself.
    """
    mean_up = _unit(up.mean(axis=0))
    first = _unit(mean_up - (mean_up @ axis) * axis)
    second = np.cross(axis, first)
    return -np.unwrap(np.arctan2(up @ second, up @ first))


def swing_asymmetry(rate: np.ndarray) -> float:
    """Return ``(p99.5 + p0.5) / (p99.5 - p0.5)`` of a sagittal rate: positive when the large peaks are positive.

    A leg segment swings forward fast and briefly (swing, ~40 % of the cycle) and back slowly (stance), so about the
    axis pointing to the subject's right its rate has tall positive and shallow negative peaks.
    """
    low, high = np.percentile(rate, [0.5, 99.5])
    return float((high + low) / (high - low)) if high > low else 0.0


def orient_right(axis: np.ndarray, gyr: np.ndarray, *, name: str) -> np.ndarray:
    """Return ``axis`` or ``-axis``, whichever points to the subject's right (by :func:`swing_asymmetry`)."""
    asymmetry = swing_asymmetry(gyr @ axis)
    if abs(asymmetry) < MIN_ASYMMETRY:
        warnings.warn(
            f"{name}: forward and backward rotation peaks are about equal (asymmetry {asymmetry:.3f}), so the sign of "
            "the joint angle is uncertain; check it against a known posture (standing_window_s does not fix sign).",
            ExohubWarning,
            stacklevel=4,
        )
    return axis if asymmetry >= 0 else -axis


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)
