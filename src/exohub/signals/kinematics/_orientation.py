"""Offline 6-axis orientation (accelerometer + gyroscope): gyroscope detail, gravity from the world-frame average."""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd
from scipy import signal

from exohub.signals.base import BaseAlgorithm
from exohub.signals.kinematics._quaternion import (
    cumulative_quat_product,
    quat_between,
    quat_conj,
    quat_from_rotvec,
    quat_mul,
    quat_rotate,
)
from exohub.signals.kinematics._validation import check_imu_frame, check_sampling_rate

UP = np.array([0.0, 0.0, 1.0])
QUATERNION_COLUMNS = ("q_w", "q_x", "q_y", "q_z")
UP_COLUMNS = ("up_x", "up_y", "up_z")
_FILTER_ORDER = 2


class ComplementaryOrientationEstimation(BaseAlgorithm):
    """Orientation of one IMU from accelerometer and gyroscope, drift-free in inclination (offline, zero-phase).

    The gyroscope is integrated into an orientation that is exact over short times but drifts. The accelerometer,
    rotated into that drifting frame, averages to gravity over a few seconds, because the sensor's own
    acceleration averages to zero while walking; the direction of that low-pass average is where "up" has drifted
    to, and rotating it back corrects the inclination at every sample. Above ``cutoff_freq_hz`` the result follows
    the gyroscope, below it the accelerometer: a complementary filter, zero-phase and vectorised.

    Parameters
    ----------
    cutoff_freq_hz
        Cut-off of the zero-phase Butterworth low-pass (order 2, applied forwards and backwards) on the world-frame
        acceleration. Lower rejects more of the body's own acceleration; higher follows a faster gyroscope drift.
        0.2 Hz suits walking (strides near 1 Hz) with gyroscope bias up to a few deg/s.

    Attributes
    ----------
    orientation_
        Quaternions ``q_w, q_x, q_y, q_z`` (one row per sample, same index as the data) rotating sensor-frame
        vectors into a world frame whose z axis points up. Heading (rotation about z) is not observable without a
        magnetometer: it starts at an arbitrary value and drifts.
    up_direction_
        Unit vector pointing up (against gravity) in the sensor frame, ``up_x, up_y, up_z``, per sample: the
        sensor's inclination.

    Other Parameters
    ----------------
    data
        One IMU: columns ``acc_x, acc_y, acc_z`` (m/s^2) and ``gyr_x, gyr_y, gyr_z`` (rad/s), sensor frame.
    sampling_rate_hz
        Sampling rate of ``data``.

    Notes
    -----
    The gyroscope is integrated as body-frame increments ``exp(dt (w[k-1] + w[k]) / 4)`` chained by a blocked
    scan, so there is no per-sample Python loop; one hour at 200 Hz takes a fraction of a second.
    The world-frame average is only gravity when the sensor's velocity does not change much over a few seconds
    (walking, standing); starting, stopping and sustained turns tilt "up" by a few degrees for that long.
    """

    _action_methods = ("estimate",)

    orientation_: pd.DataFrame
    up_direction_: pd.DataFrame

    def __init__(self, cutoff_freq_hz: float = 0.2) -> None:
        self.cutoff_freq_hz = cutoff_freq_hz

    def estimate(self, data: pd.DataFrame, *, sampling_rate_hz: float) -> Self:
        """Estimate the orientation of the IMU in ``data``; sets ``orientation_`` and ``up_direction_``."""
        rate_hz = check_sampling_rate(sampling_rate_hz)
        imu = check_imu_frame(data, name="data")
        check_cutoff(self.cutoff_freq_hz, rate_hz)
        self.data = data
        self.sampling_rate_hz = sampling_rate_hz
        quaternions, up = estimate_orientation(
            imu[:, :3], imu[:, 3:], sampling_rate_hz=rate_hz, cutoff_freq_hz=float(self.cutoff_freq_hz)
        )
        self.orientation_ = pd.DataFrame(quaternions, index=data.index, columns=list(QUATERNION_COLUMNS))
        self.up_direction_ = pd.DataFrame(up, index=data.index, columns=list(UP_COLUMNS))
        return self


def check_cutoff(cutoff_freq_hz: float, sampling_rate_hz: float) -> None:
    """Raise ``ValueError`` unless ``0 < cutoff_freq_hz < sampling_rate_hz / 2``."""
    if not isinstance(cutoff_freq_hz, int | float) or not 0 < cutoff_freq_hz < sampling_rate_hz / 2:
        raise ValueError(
            f"cutoff_freq_hz must be between 0 and half the sampling rate ({sampling_rate_hz / 2:g} Hz), "
            f"got {cutoff_freq_hz!r}."
        )


def estimate_orientation(
    acc: np.ndarray, gyr: np.ndarray, *, sampling_rate_hz: float, cutoff_freq_hz: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(quaternions (n, 4), up (n, 3))``: sensor-to-world rotations (z up) and "up" in the sensor frame."""
    n = acc.shape[0]
    first_second = acc[: max(1, int(sampling_rate_hz))].mean(axis=0)
    start = quat_between(_unit(first_second), UP)
    increments = quat_from_rotvec(0.5 * (gyr[:-1] + gyr[1:]) / sampling_rate_hz)
    integrated = np.empty((n, 4))
    integrated[0] = start
    if n > 1:
        integrated[1:] = quat_mul(start, cumulative_quat_product(increments))
    world_acc = quat_rotate(integrated, acc)
    drifted_up = _unit(_zero_phase_lowpass(world_acc, sampling_rate_hz, cutoff_freq_hz))
    up = quat_rotate(quat_conj(integrated), drifted_up)
    corrected = quat_mul(quat_between(drifted_up, UP), integrated)
    return corrected, up


def _zero_phase_lowpass(values: np.ndarray, sampling_rate_hz: float, cutoff_freq_hz: float) -> np.ndarray:
    sos = signal.butter(_FILTER_ORDER, cutoff_freq_hz, fs=sampling_rate_hz, output="sos")
    # pad by a few time constants, mirrored: an odd extension would pin the ends to one noisy sample
    padlen = min(values.shape[0] - 1, int(3 * sampling_rate_hz / cutoff_freq_hz))
    if padlen < 1:
        return values.copy()
    return signal.sosfiltfilt(sos, values, axis=0, padtype="even", padlen=padlen)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norm > 0, norm, 1.0)
