"""Find the sagittal frame of a foot- or shank-worn IMU from its own data, whatever way round it was mounted.

Clinics strap sensors on however they fit, so nothing here assumes which sensor axis points where. Three things are
estimated per recording, each from a property of walking that does not depend on the mounting:

1. *Up*: the accelerometer reads +1 g upwards whenever the segment is still, so the mean specific force over the
   still samples (foot flat; standing) is the upward direction in the sensor frame. Without still samples (a shank
   that never stops) the mean over the whole recording is used: linear accelerations average out over strides.
2. *Medio-lateral axis*: the segment rotates mostly in the sagittal plane, i.e. about an axis that is horizontal.
   It is the principal axis of the angular velocity after removing its vertical part (which also removes turning).
3. *Sign*: the principal axis has no sign, and every relation between rotation and gravity is mirror-symmetric, so
   only the direction of travel can fix it. The positive direction is chosen so that positive sagittal rate lifts
   the toes (dorsiflexion of the foot, forward swing of the shank): the mid-swing lobe is positive, as in gaitmap's
   ``gyr_ml`` and in Salarian et al. (2004).

   - foot (``location="foot"``): between two still periods the sagittal tilt and the forward velocity are
     integrated in 2-D (tilt reset to zero and velocity to zero at every still sample). The forward axis
     ``up x ml`` must carry the foot forward: if the travelled distance comes out negative, the axis is flipped.
     The flip negates tilt, forward axis and velocity together, so the test is exact, not a heuristic.
   - shank, or a foot recording without still periods: the mid-swing lobe is the largest rotation of the gait
     cycle (Salarian 2004, Aminian 2002), so the sign that makes the high extreme (99.5th percentile) larger in
     magnitude than the low extreme (0.5th percentile) is taken. On a foot this rule is *not* reliable (push-off
     can be as fast as swing), which is why feet use the travel rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import ndimage

from exohub.exceptions import ValidationError

STANDARD_GRAVITY_M_S2 = 9.80665
IMU_LOCATIONS = ("foot", "shank")
#: The columns of a single-sensor IMU frame, in the sensor's own axes.
IMU_COLUMNS = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")

#: Still = smoothed gyro norm below this (rad/s) and acc norm within ``STILL_ACC_TOL_M_S2`` of 1 g.
STILL_GYR_RAD_S = 0.6
STILL_ACC_TOL_M_S2 = 1.5
STILL_WINDOW_S = 0.05
#: Less still time than this and gravity comes from the mean of the whole recording.
MIN_STILL_S = 0.25
#: The travel rule integrates block means at about this rate (integrals are kept; it only decides a sign).
TRAVEL_RATE_HZ = 50.0
#: Blocks shorter than this are summed in order by numpy too (its pairwise summation starts at 8).
_SEQUENTIAL_BLOCK = 8


@dataclass(frozen=True)
class SagittalFrame:
    """A segment's sagittal frame, as unit vectors in the sensor's own axes.

    Attributes
    ----------
    gravity
        Unit vector of the accelerometer's gravity reading, i.e. pointing *up* (the accelerometer measures +1 g
        upwards at rest).
    mediolateral
        Unit vector of the sagittal rotation axis, orthogonal to ``gravity``; positive rotation about it lifts the
        toes, so the mid-swing lobe of the sagittal angular rate is positive.
    anteroposterior
        ``cross(gravity, mediolateral)``: forward when the sign was resolved correctly.
    planarity
        Share (0..1) of the horizontal angular-velocity energy that lies along ``mediolateral``: about 0.9 for
        walking, 0.5 for rotation without a preferred axis. Below 0.6 the frame is doubtful.
    sign_confidence
        How clearly the data decided the sign, 0 (coin toss) to 1.
    sign_rule
        ``"travel"`` (the foot moves forward) or ``"swing_peak"`` (the mid-swing lobe is the largest).
    still_fraction
        Share of samples judged still; gravity comes from them when there are enough.
    """

    gravity: np.ndarray
    mediolateral: np.ndarray
    anteroposterior: np.ndarray
    planarity: float
    sign_confidence: float
    sign_rule: str
    still_fraction: float

    @property
    def rotation_matrix(self) -> np.ndarray:
        """Rows ``anteroposterior, mediolateral, gravity``: ``acc @ R.T`` gives (forward, lateral, up) components."""
        return np.vstack([self.anteroposterior, self.mediolateral, self.gravity])

    def sagittal_rate(self, gyr: np.ndarray) -> np.ndarray:
        """Return the sagittal angular rate (rad/s, toes-up positive) of an ``(n, 3)`` gyroscope array."""
        return np.asarray(gyr, dtype=np.float64) @ self.mediolateral


def check_imu_data(data: pd.DataFrame, location: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(acc, gyr)`` as ``(n, 3)`` float arrays, or raise a ``ValidationError`` naming the problem.

    Parameters
    ----------
    data
        One IMU: columns ``<location>_acc_x..z`` and ``<location>_gyr_x..z`` (``left_foot_acc_x``), or, when
        ``location`` is None, ``acc_x..z`` and ``gyr_x..z``. Acceleration in m/s², angular rate in rad/s.
    location
        Channel prefix such as ``"left_foot"``; None for unprefixed columns.

    Returns
    -------
    acc, gyr
        Float64 arrays of shape ``(n_samples, 3)``.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"IMU data must be a pandas DataFrame, got {type(data).__name__}.")
    prefix = f"{location}_" if location else ""
    wanted = [prefix + name for name in IMU_COLUMNS]
    missing = [name for name in wanted if name not in data.columns]
    if missing:
        raise ValidationError(
            f"IMU data lacks the columns {missing}; an IMU needs all six of {wanted} "
            f"(acc in m/s^2, gyr in rad/s, sensor axes); found {list(data.columns)[:12]}."
        )
    values = data.loc[:, wanted].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        run = int(np.argmax(np.append(~bad[row:, col], True)))
        raise ValidationError(
            f"IMU channel {wanted[col]!r} is not finite (NaN/inf) from sample {row} "
            f"(index {data.index[row]!r}) for {run} sample(s); interpolate short gaps or crop the recording first."
        )
    return values[:, :3], values[:, 3:]


def find_sagittal_frame(
    acc: np.ndarray,
    gyr: np.ndarray,
    sampling_rate_hz: float,
    *,
    location: Literal["foot", "shank"] = "foot",
) -> SagittalFrame:
    """Estimate the up direction, the medio-lateral axis and its sign from one IMU's data.

    Parameters
    ----------
    acc
        ``(n, 3)`` specific force in m/s², sensor axes.
    gyr
        ``(n, 3)`` angular rate in rad/s, same axes.
    sampling_rate_hz
        Sampling rate of both.
    location
        ``"foot"`` or ``"shank"``; decides the sign rule (see the module notes).

    Returns
    -------
    SagittalFrame
        The frame, with its quality measures.
    """
    acc = np.asarray(acc, dtype=np.float64)
    gyr = np.asarray(gyr, dtype=np.float64)
    if acc.ndim != 2 or acc.shape[1] != 3 or gyr.shape != acc.shape:
        raise ValidationError(f"acc and gyr must both have shape (n, 3); got {acc.shape} and {gyr.shape}.")
    if location not in IMU_LOCATIONS:
        raise ValueError(
            f"Invalid value for the 'location' parameter. Allowed values are {IMU_LOCATIONS}, got {location!r}."
        )
    still = find_still_samples(acc, gyr, sampling_rate_hz)
    enough_still = still.sum() >= MIN_STILL_S * sampling_rate_hz
    gravity = _unit(acc[still].mean(axis=0) if enough_still else acc.mean(axis=0), "the mean acceleration")
    to_horizontal = np.eye(3) - np.outer(gravity, gravity)
    eigenvalues, eigenvectors = np.linalg.eigh(to_horizontal @ (gyr.T @ gyr) @ to_horizontal)
    axis = _unit(eigenvectors[:, -1] - (eigenvectors[:, -1] @ gravity) * gravity, "the main rotation axis")
    planarity = float(eigenvalues[-1] / max(eigenvalues[-1] + eigenvalues[-2], np.finfo(float).tiny))
    rate = gyr @ axis
    if location == "foot" and enough_still and not still.all():
        factor = max(int(sampling_rate_hz // TRAVEL_RATE_HZ), 1)
        sign, confidence = _travel_sign(
            block_mean(acc, factor),
            block_mean(rate, factor),
            gravity,
            axis,
            block_mean(still.astype(np.float64), factor) == 1.0,
            sampling_rate_hz / factor,
        )
        rule = "travel"
    else:
        sign, confidence = _swing_peak_sign(rate)
        rule = "swing_peak"
    axis = sign * axis
    return SagittalFrame(
        gravity=gravity,
        mediolateral=axis,
        anteroposterior=np.cross(gravity, axis),
        planarity=planarity,
        sign_confidence=confidence,
        sign_rule=rule,
        still_fraction=float(still.mean()),
    )


def find_still_samples(acc: np.ndarray, gyr: np.ndarray, sampling_rate_hz: float) -> np.ndarray:
    """Return a boolean mask of samples where the sensor is still (small rotation, acceleration about 1 g)."""
    window = max(round(STILL_WINDOW_S * sampling_rate_hz), 1)
    gyr_norm = ndimage.uniform_filter1d(np.sqrt(np.einsum("ij,ij->i", gyr, gyr)), window, mode="nearest")
    acc_norm = ndimage.uniform_filter1d(np.sqrt(np.einsum("ij,ij->i", acc, acc)), window, mode="nearest")
    return (gyr_norm < STILL_GYR_RAD_S) & (np.abs(acc_norm - STANDARD_GRAVITY_M_S2) < STILL_ACC_TOL_M_S2)


def block_mean(values: np.ndarray, factor: int) -> np.ndarray:
    """Means of consecutive blocks of ``factor`` samples along the first axis (the last partial block dropped).

    Below 8 samples a block is summed in order, one strided slice after another: the sums numpy's ``mean`` forms
    for such short blocks (bit for bit, tested), without its slow reduction over a short middle axis.
    """
    if factor == 1:
        return values
    n = values.shape[0] // factor * factor
    if factor >= _SEQUENTIAL_BLOCK or values.dtype not in (np.float64, np.bool_):
        return values[:n].reshape(n // factor, factor, *values.shape[1:]).mean(axis=1)
    total = values[0:n:factor].astype(np.float64, copy=True)
    for offset in range(1, factor):
        total += values[offset:n:factor]
    return total / factor


def _unit(vector: np.ndarray, what: str) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    if not np.isfinite(norm) or norm < 1e-9:
        raise ValidationError(f"Cannot find a direction from {what} (norm {norm:.3g}); is the sensor data empty?")
    return vector / norm


def _since_last_still(values: np.ndarray, still: np.ndarray, step_s: float) -> np.ndarray:
    """Cumulative integral of ``values`` that restarts from zero at every still sample (vectorised)."""
    total = np.cumsum(np.where(still, 0.0, values)) * step_s
    last_still = np.maximum.accumulate(np.where(still, np.arange(still.size), -1))
    return total - np.where(last_still >= 0, total[np.maximum(last_still, 0)], 0.0)


def _travel_sign(
    acc: np.ndarray, rate: np.ndarray, up: np.ndarray, axis: np.ndarray, still: np.ndarray, sampling_rate_hz: float
) -> tuple[float, float]:
    """+1 if ``cross(up, axis)`` is the direction the foot travels between still periods, else -1."""
    step_s = 1.0 / sampling_rate_hz
    tilt = _since_last_still(rate, still, step_s)
    forward_axis = np.cross(up, axis)
    acc_forward, acc_up = acc @ forward_axis, acc @ up
    world_forward = acc_forward * np.cos(tilt) - acc_up * np.sin(tilt)
    velocity = _since_last_still(world_forward, still, step_s)
    distance = float(np.sum(velocity) * step_s)
    spread = float(np.sum(np.abs(velocity)) * step_s)
    confidence = abs(distance) / spread if spread > 0 else 0.0
    return (1.0 if distance >= 0 else -1.0), confidence


def _swing_peak_sign(rate: np.ndarray) -> tuple[float, float]:
    """+1 if the largest lobes of ``rate`` are positive (mid-swing of a shank), else -1."""
    low, high = np.percentile(rate, [0.5, 99.5])
    spread = high - low
    confidence = abs(high + low) / spread if spread > 0 else 0.0
    return (1.0 if high + low >= 0 else -1.0), float(confidence)
