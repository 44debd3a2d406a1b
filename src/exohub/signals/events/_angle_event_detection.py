"""Gait events from a hip or thigh sagittal angle, offline; the streaming twin is in ``_streaming_angle``."""

from __future__ import annotations

import math
import warnings
from typing import Self

import numpy as np
import pandas as pd
from scipy import signal

from exohub._utils._checks import check_option
from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.base import BaseEventDetection
from exohub.signals.consts import MAX_STRIDE_TIME_S
from exohub.signals.events._common import check_frame, check_positive, check_sampling_rate, make_events

FLEXION_SIGNS = ("auto", "positive", "negative")
#: below this standardised skewness of the angular velocity the sign of flexion cannot be told from the data.
MIN_SIGN_SKEWNESS = 0.1
#: Normative delays, in fractions of the stride, from the hip's extremes to the foot contacts they announce: peak hip
#: flexion at about 86 % of the heel-strike cycle, peak extension at about 52 % and toe off at about 60 % (Winter,
#: Biomechanics and Motor Control of Human Movement, 4th ed., 2009; Perry & Burnfield, Gait Analysis, 2010).
#: Measured here: gaitalytics treadmill 0.15 / 0.09 (hip angles vs force-plate events), Lee 2021 0.14 (thigh angle).
NORMATIVE_INITIAL_CONTACT_LAG = 0.14
NORMATIVE_FINAL_CONTACT_LAG = 0.08


def flexion_sign_from_data(velocity: np.ndarray) -> tuple[float, float]:
    """Return (+1 or -1, skewness): the sign that makes hip/thigh flexion positive, from the angular velocity.

    In walking the hip flexes during swing (about 35-40 % of the cycle) and extends during stance (60-65 %): the
    flexing velocities are larger and briefer than the extending ones, so the velocity of a flexion-positive angle
    is positively skewed. Noise and standing add a symmetric mass and do not flip the sign.
    """
    centred = velocity - np.mean(velocity)
    spread = np.sqrt(np.mean(centred**2))
    if spread == 0:
        return 1.0, 0.0
    skewness = float(np.mean(centred**3) / spread**3)
    return (1.0 if skewness >= 0 else -1.0), skewness


def _delayed(times_s: np.ndarray, lag: float) -> np.ndarray:
    """Shift each time by ``lag`` x its local stride.

    The local stride is the interval to the next event, or to the one before when the next is a pause (longer than a
    stride can be) or missing; the median stride when neither is a stride.
    """
    if not 0.0 <= lag < 0.5:
        raise ValueError(f"A contact lag is a fraction of the stride in [0, 0.5), got {lag!r}.")
    if lag == 0.0 or times_s.size < 2:
        return times_s
    stride_s = np.diff(times_s)
    walking = stride_s <= MAX_STRIDE_TIME_S
    if not walking.any():
        return times_s
    after = np.append(stride_s, np.inf)
    before = np.insert(stride_s, 0, np.inf)
    local = np.where(after <= MAX_STRIDE_TIME_S, after, before)
    local = np.where(local <= MAX_STRIDE_TIME_S, local, np.median(stride_s[walking]))
    return times_s + lag * local


def _refine_peaks(values: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Sub-sample peak positions (in samples) by a parabola through each peak and its two neighbours."""
    inner = peaks[(peaks > 0) & (peaks < values.size - 1)]
    offsets = np.zeros(peaks.size)
    left, centre, right = values[inner - 1], values[inner], values[inner + 1]
    curvature = left - 2 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature != 0, 0.5 * (left - right) / curvature, 0.0)
    offsets[(peaks > 0) & (peaks < values.size - 1)] = np.clip(shift, -0.5, 0.5)
    return peaks + offsets


def find_angle_extrema(
    flexion: np.ndarray, *, sampling_rate_hz: float, min_stride_time_s: float, min_range_rad: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return the sub-sample positions (samples) of flexion maxima and of extension maxima (minima of ``flexion``).

    A maximum counts when it rises at least ``min_range_rad`` above the troughs on both sides (its prominence) and
    is the highest within ``min_stride_time_s``; the same holds for minima. Standing still has no prominent extreme.
    """
    distance = max(1, int(min_stride_time_s * sampling_rate_hz))
    maxima, _ = signal.find_peaks(flexion, distance=distance, prominence=min_range_rad)
    minima, _ = signal.find_peaks(-flexion, distance=distance, prominence=min_range_rad)
    return _refine_peaks(flexion, maxima), _refine_peaks(-flexion, minima)


class AngleEventDetection(BaseEventDetection):
    """Initial contact at maximum hip (or thigh) flexion and a final-contact proxy at maximum extension.

    Parameters
    ----------
    min_stride_time_s
        Two events of one kind are at least this far apart (the shortest stride expected).
    min_range_rad
        An extreme counts only when the angle swings at least this much around it (peak prominence); it rejects
        standing still, shuffling and sensor noise. 0.15 rad is about 9 degrees; walking hips move 35-50 degrees.
    lowpass_cutoff_hz
        Zero-phase Butterworth low-pass (4th order) applied before the search; ``None`` or a cutoff at or above
        0.45 x the sampling rate skips it.
    flexion_sign
        ``"positive"`` (ISB, the exohub convention), ``"negative"`` (the angle is extension-positive), or ``"auto"``:
        told from the data by the skewness of the angular velocity (flexion in swing is faster than extension in
        stance). A skewness below 0.1 in magnitude is ambiguous and warns.
    initial_contact_lag, final_contact_lag
        Shift each event from its extreme by this fraction of the local stride time (the interval to the next
        extreme of the same kind): 0 reports the extremes themselves; :data:`NORMATIVE_INITIAL_CONTACT_LAG` and
        :data:`NORMATIVE_FINAL_CONTACT_LAG` turn them into estimates of heel strike and toe off.

    Attributes
    ----------
    events_
        ``event`` (``initial_contact`` | ``final_contact``) and ``time_s``, sorted by time.
    flexion_sign_
        +1.0 if the input is flexion-positive, -1.0 if it was negated.
    velocity_skewness_
        The skewness used for ``"auto"`` (NaN when the sign was given).

    Other Parameters
    ----------------
    data
        DataFrame indexed by ``time_s`` with the column ``angle`` (rad) and optionally ``velocity`` (rad/s, used
        only to tell the sign).
    sampling_rate_hz
        The sampling rate of ``data``.

    Notes
    -----
    Hip flexion peaks in late swing (about 85-95 % of a heel-strike cycle) and stays near its peak until heel
    strike, so initial contact here is an early proxy of heel strike: expect it 20-100 ms before a force-plate
    heel strike. Maximum hip extension occurs in late stance, around contralateral heel strike and shortly before
    toe off, so ``final_contact`` is an early proxy of toe off (typically 5-10 % of the cycle, 50-120 ms, early).
    Measure the bias on your population before using either as a precise timing.

    Examples
    --------
    >>> det = AngleEventDetection().detect(frame, sampling_rate_hz=200.0)  # doctest: +SKIP
    >>> det.events_.query("event == 'initial_contact'")  # doctest: +SKIP
    """

    def __init__(
        self,
        min_stride_time_s: float = 0.6,
        min_range_rad: float = 0.15,
        lowpass_cutoff_hz: float | None = 6.0,
        flexion_sign: str = "auto",
        initial_contact_lag: float = 0.0,
        final_contact_lag: float = 0.0,
    ) -> None:
        self.min_stride_time_s = min_stride_time_s
        self.min_range_rad = min_range_rad
        self.lowpass_cutoff_hz = lowpass_cutoff_hz
        self.flexion_sign = flexion_sign
        self.initial_contact_lag = initial_contact_lag
        self.final_contact_lag = final_contact_lag

    def detect(self, data: pd.DataFrame, *, sampling_rate_hz: float) -> Self:
        """Find the events in ``data``; set ``events_``, ``flexion_sign_`` and ``velocity_skewness_``."""
        rate = check_sampling_rate(sampling_rate_hz)
        check_positive("min_stride_time_s", self.min_stride_time_s)
        check_positive("min_range_rad", self.min_range_rad)
        check_option("flexion_sign", self.flexion_sign, FLEXION_SIGNS)
        time_s = check_frame(data, required=["angle"])
        self.data, self.sampling_rate_hz = data, rate
        angle = data["angle"].to_numpy(dtype=np.float64)
        smooth = self._lowpass(angle, rate)
        self.flexion_sign_, self.velocity_skewness_ = self._sign(data, smooth, rate)
        maxima, minima = find_angle_extrema(
            self.flexion_sign_ * smooth,
            sampling_rate_hz=rate,
            min_stride_time_s=self.min_stride_time_s,
            min_range_rad=self.min_range_rad,
        )
        positions = np.arange(time_s.size, dtype=np.float64)
        initial = _delayed(np.interp(maxima, positions, time_s), self.initial_contact_lag)
        final = _delayed(np.interp(minima, positions, time_s), self.final_contact_lag)
        self.events_ = make_events(initial, final)
        return self

    def _lowpass(self, angle: np.ndarray, rate: float) -> np.ndarray:
        cutoff = self.lowpass_cutoff_hz
        if cutoff is None:
            return angle
        check_positive("lowpass_cutoff_hz", cutoff)
        if cutoff >= 0.45 * rate or angle.size < 30:
            return angle
        sos = signal.butter(4, cutoff, fs=rate, output="sos")
        return signal.sosfiltfilt(sos, angle)

    def _sign(self, data: pd.DataFrame, smooth: np.ndarray, rate: float) -> tuple[float, float]:
        if self.flexion_sign != "auto":
            return (1.0 if self.flexion_sign == "positive" else -1.0), math.nan
        if "velocity" in data.columns:
            velocity = data["velocity"].to_numpy(dtype=np.float64)
            if not np.all(np.isfinite(velocity)):
                raise ValidationError("column 'velocity' has non-finite values; drop it or fill the gaps.")
        else:
            velocity = np.gradient(smooth) * rate
        sign, skewness = flexion_sign_from_data(velocity)
        if abs(skewness) < MIN_SIGN_SKEWNESS:
            warnings.warn(
                f"the sign of hip flexion is ambiguous in this angle (velocity skewness {skewness:.3f}); "
                "assuming flexion-positive. Pass flexion_sign='positive' or 'negative' to set it.",
                ExohubWarning,
                stacklevel=3,
            )
        return sign, skewness
