"""Initial and final contacts from one foot- or shank-worn IMU, mounted in any orientation."""

from __future__ import annotations

import warnings
from typing import Self

import numpy as np
import pandas as pd

from exohub._utils._checks import check_option
from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.base import BaseEventDetection
from exohub.signals.consts import TIME_COLUMN
from exohub.signals.events._imu_gait_rules import contacts_around, find_mid_swings, lowpass
from exohub.signals.preprocessing._alignment import (
    IMU_LOCATIONS,
    SagittalFrame,
    block_mean,
    check_imu_data,
    find_sagittal_frame,
)

MIN_RATE_HZ = 50.0
MAX_RATE_HZ = 10_000.0
USUAL_RATES_HZ = (100.0, 2000.0)
MIN_DURATION_S = 1.0
#: Below this planarity the sagittal axis is doubtful (walking gives about 0.9).
MIN_PLANARITY = 0.6
#: Mid-swing is found on block means at about this rate: a 3 Hz lobe needs no more, and it is 4x faster at 200 Hz.
SWING_RATE_HZ = 50.0


class ImuEventDetection(BaseEventDetection):
    """Find initial and final contacts from the sagittal angular rate of a foot or shank IMU.

    The sensor may be mounted in any orientation: the sagittal axis, the up direction and the sign are found from
    the recording itself (:func:`~exohub.signals.preprocessing.find_sagittal_frame`), and the rules below only see
    the angular rate about that axis, so the result does not change when the sensor is rotated.

    Parameters
    ----------
    location
        ``"foot"`` or ``"shank"``: which rules to apply.
    min_swing_rate_rad_s
        A mid-swing peak must reach this sagittal rate (default 1.0 rad/s, 57 deg/s; Salarian used 50 deg/s). Below
        it nothing counts as a step, so standing still or sensor noise gives no events.
    relative_swing_height
        A mid-swing peak must also reach this fraction of the recording's median mid-swing peak, which rejects
        shuffles and weight shifts between real steps.
    min_stride_s
        Shortest time between two mid-swings of the same leg.
    max_swing_s
        Longest swing: contacts are searched within half of it on each side of mid-swing.
    swing_cutoff_hz
        Low-pass cut-off of the signal used to find mid-swing (smooths double-humped swing lobes).
    event_cutoff_hz
        Low-pass cut-off of the signal used to time the contacts.

    Attributes
    ----------
    events_
        ``event`` (``"initial_contact"`` or ``"final_contact"``) and ``time_s``, sorted by time.
    swings_
        One row per swing with both contacts found: ``start_s`` (final contact), ``mid_swing_s``, ``end_s``
        (initial contact), ``duration_s``.
    frame_
        The :class:`~exohub.signals.preprocessing.SagittalFrame` found for this recording.
    sagittal_rate_
        The sagittal angular rate used (rad/s, toes-up positive, filtered at ``event_cutoff_hz``), indexed like
        ``data``.

    Other Parameters
    ----------------
    data
        One IMU: columns ``acc_x, acc_y, acc_z`` (m/s²) and ``gyr_x, gyr_y, gyr_z`` (rad/s) in the sensor's own axes,
        indexed by ``time_s``.
    sampling_rate_hz
        Sampling rate of ``data``.

    Notes
    -----
    Foot (after Rampp et al. 2015 and the gaitmap implementation, with their sign convention): mid-swing is a
    positive peak of the low-passed sagittal rate; the initial contact is where this swing lobe ends (the rate
    crosses zero as the heel strikes), the final contact is the deepest minimum before mid-swing, the end of
    push-off. Shank (Aminian et al. 2002; Salarian et al. 2004): mid-swing peaks as above; the initial contact is
    the first local minimum after mid-swing, the final contact the deepest minimum before it. Times are refined
    between samples (linear zero crossing, parabolic minimum), so the result holds from 100 Hz to 2 kHz.

    References
    ----------
    Rampp et al., IEEE TBME 62(4):1089-1097, 2015. Aminian et al., J Biomech 35(5):689-699, 2002. Salarian et al.,
    IEEE TBME 51(8):1434-1443, 2004.
    """

    data: pd.DataFrame
    sampling_rate_hz: float
    events_: pd.DataFrame
    swings_: pd.DataFrame
    frame_: SagittalFrame
    sagittal_rate_: pd.Series

    def __init__(
        self,
        location: str = "foot",
        *,
        min_swing_rate_rad_s: float = 1.0,
        relative_swing_height: float = 0.3,
        min_stride_s: float = 0.5,
        max_swing_s: float = 1.2,
        swing_cutoff_hz: float = 3.0,
        event_cutoff_hz: float = 30.0,
    ) -> None:
        self.location = location
        self.min_swing_rate_rad_s = min_swing_rate_rad_s
        self.relative_swing_height = relative_swing_height
        self.min_stride_s = min_stride_s
        self.max_swing_s = max_swing_s
        self.swing_cutoff_hz = swing_cutoff_hz
        self.event_cutoff_hz = event_cutoff_hz

    def detect(self, data: pd.DataFrame, *, sampling_rate_hz: float) -> Self:
        """Find the events of one IMU recording; see the class docstring for ``data``."""
        check_option("location", self.location, IMU_LOCATIONS)
        self._check_parameters()
        rate_hz = _check_rate(sampling_rate_hz)
        acc, gyr = check_imu_data(data)
        if len(data) < MIN_DURATION_S * rate_hz:
            raise ValidationError(
                f"IMU data has {len(data)} samples ({len(data) / rate_hz:.3g} s); "
                f"event detection needs at least {MIN_DURATION_S:g} s."
            )
        self.data, self.sampling_rate_hz = data, sampling_rate_hz
        self.frame_ = find_sagittal_frame(acc, gyr, rate_hz, location=self.location)  # type: ignore[arg-type]
        raw_rate = self.frame_.sagittal_rate(gyr)
        rate = lowpass(raw_rate, self.event_cutoff_hz, rate_hz)
        self.sagittal_rate_ = pd.Series(rate, index=data.index, name="sagittal_rate_rad_s")
        factor = max(int(rate_hz // SWING_RATE_HZ), 1)
        coarse_peaks = find_mid_swings(
            lowpass(block_mean(raw_rate, factor), self.swing_cutoff_hz, rate_hz / factor),
            rate_hz / factor,
            min_rate=self.min_swing_rate_rad_s,
            relative_height=self.relative_swing_height,
            min_stride_s=self.min_stride_s,
        )
        peaks = coarse_peaks * factor + factor // 2
        if peaks.size and self.frame_.planarity < MIN_PLANARITY:
            warnings.warn(
                f"The sagittal axis is doubtful (planarity {self.frame_.planarity:.2f} < {MIN_PLANARITY}); "
                "check that the sensor is on a foot or shank and that the recording contains walking.",
                ExohubWarning,
                stacklevel=2,
            )
        ic, fc = contacts_around(rate, peaks, rate_hz, location=self.location, max_swing_s=self.max_swing_s)
        time_s = np.asarray(data.index, dtype=np.float64)
        self.events_ = _events_frame(ic, fc, time_s)
        both = ~(np.isnan(ic) | np.isnan(fc))
        start_s, end_s = _to_time(fc[both], time_s), _to_time(ic[both], time_s)
        self.swings_ = pd.DataFrame(
            {"start_s": start_s, "mid_swing_s": time_s[peaks[both]], "end_s": end_s, "duration_s": end_s - start_s}
        )
        return self

    def _check_parameters(self) -> None:
        for name in ("min_swing_rate_rad_s", "min_stride_s", "max_swing_s", "swing_cutoff_hz", "event_cutoff_hz"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}.")
        if not 0 <= self.relative_swing_height < 1:
            raise ValueError(f"relative_swing_height must be in [0, 1), got {self.relative_swing_height!r}.")


def _check_rate(sampling_rate_hz: float) -> float:
    rate_hz = float(sampling_rate_hz)
    if not (np.isfinite(rate_hz) and MIN_RATE_HZ <= rate_hz <= MAX_RATE_HZ):
        raise ValidationError(
            f"sampling_rate_hz={sampling_rate_hz!r} is outside {MIN_RATE_HZ:g}-{MAX_RATE_HZ:g} Hz; "
            "IMU gait events need at least 50 Hz."
        )
    if not USUAL_RATES_HZ[0] <= rate_hz <= USUAL_RATES_HZ[1]:
        warnings.warn(
            f"sampling_rate_hz={rate_hz:g} is outside the validated {USUAL_RATES_HZ[0]:g}-{USUAL_RATES_HZ[1]:g} Hz.",
            ExohubWarning,
            stacklevel=3,
        )
    return rate_hz


def _to_time(position: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Fractional sample positions to times, interpolating between the samples' own time stamps."""
    return np.interp(position, np.arange(time_s.size), time_s)


def _events_frame(ic: np.ndarray, fc: np.ndarray, time_s: np.ndarray) -> pd.DataFrame:
    ic, fc = ic[~np.isnan(ic)], fc[~np.isnan(fc)]
    times = np.concatenate([_to_time(ic, time_s), _to_time(fc, time_s)])
    kinds = np.array(["initial_contact"] * ic.size + ["final_contact"] * fc.size, dtype=object)
    order = np.argsort(times, kind="stable")
    return pd.DataFrame({"event": kinds[order], TIME_COLUMN: times[order]})
