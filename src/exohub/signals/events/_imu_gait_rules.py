"""Vectorised rules that turn a sagittal angular rate into mid-swings, initial and final contacts (arrays only)."""

from __future__ import annotations

import numpy as np
from scipy import signal

#: Nyquist fraction above which a low-pass cut-off is clipped (keeps the filter stable at 100 Hz).
MAX_CUTOFF_NYQUIST = 0.8


def lowpass(values: np.ndarray, cutoff_hz: float, sampling_rate_hz: float, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth low-pass; the cut-off is clipped below the Nyquist frequency."""
    cutoff_hz = min(cutoff_hz, MAX_CUTOFF_NYQUIST * sampling_rate_hz / 2)
    sos = signal.butter(order, cutoff_hz, btype="low", output="sos", fs=sampling_rate_hz)
    return signal.sosfiltfilt(sos, values)


def find_mid_swings(
    rate_smooth: np.ndarray, sampling_rate_hz: float, *, min_rate: float, relative_height: float, min_stride_s: float
) -> np.ndarray:
    """Sample indices of mid-swing peaks: positive lobes above both an absolute and a recording-relative height."""
    distance = max(round(min_stride_s * sampling_rate_hz), 1)
    peaks, properties = signal.find_peaks(
        rate_smooth, height=min_rate, distance=distance, prominence=min_rate, wlen=4 * distance + 1
    )
    if peaks.size == 0:
        return peaks
    heights = properties["peak_heights"]
    return peaks[heights >= relative_height * np.median(heights)]


def _crossings_down(rate: np.ndarray) -> np.ndarray:
    """Fractional sample positions where ``rate`` goes from positive to non-positive (linear interpolation)."""
    i = np.flatnonzero((rate[:-1] > 0) & (rate[1:] <= 0))
    return i + rate[i] / (rate[i] - rate[i + 1])


def _local_minima(rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fractional positions (parabolic refinement) and values of the strict-left local minima of ``rate``."""
    i = np.flatnonzero((rate[1:-1] < rate[:-2]) & (rate[1:-1] <= rate[2:])) + 1
    left, mid, right = rate[i - 1], rate[i], rate[i + 1]
    curvature = left - 2 * mid + right
    offset = np.divide(0.5 * (left - right), curvature, out=np.zeros_like(mid), where=curvature > 0)
    return i + np.clip(offset, -0.5, 0.5), mid


def first_after(candidates: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each window ``[start, end)``, the first candidate in it (NaN where none)."""
    k = np.searchsorted(candidates, starts, side="right")
    found = np.full(starts.shape, np.nan)
    ok = k < candidates.size
    found[ok] = candidates[k[ok]]
    found[found >= ends] = np.nan
    return found


def lowest_in(positions: np.ndarray, values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each window ``[start, end)`` (sorted, non-overlapping), the position of the lowest value (NaN: none)."""
    window = np.searchsorted(ends, positions, side="right")
    inside = window < ends.size
    inside[inside] &= positions[inside] >= starts[window[inside]]
    window, positions, values = window[inside], positions[inside], values[inside]
    order = np.lexsort((values, window))
    window, positions = window[order], positions[order]
    first = np.flatnonzero(np.diff(window, prepend=-1) != 0)
    found = np.full(starts.shape, np.nan)
    found[window[first]] = positions[first]
    return found


def contacts_around(
    rate: np.ndarray, peaks: np.ndarray, sampling_rate_hz: float, *, location: str, max_swing_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Fractional sample positions of the initial contact after and the final contact before each mid-swing.

    Foot: IC where the swing lobe ends (sagittal rate crosses zero downwards, heel strike stops the toe-up
    rotation); FC at the deepest minimum before mid-swing (the end of push-off). Shank (Aminian 2002, Salarian
    2004): IC at the first local minimum after mid-swing, FC at the deepest minimum before it.
    """
    half_s = 0.5 * max_swing_s * sampling_rate_hz
    n = rate.size
    next_peak = np.append(peaks[1:], n).astype(np.float64)
    ic_end = np.minimum(peaks + half_s, next_peak)
    minima, minimum_values = _local_minima(rate)
    candidates = _crossings_down(rate) if location == "foot" else minima
    ic = first_after(candidates, peaks.astype(np.float64), ic_end)
    previous_ic = np.concatenate([[-1.0], np.where(np.isnan(ic[:-1]), -1.0, ic[:-1])])
    fc_start = np.maximum(peaks - half_s, previous_ic)
    fc = lowest_in(minima, minimum_values, fc_start, peaks.astype(np.float64))
    return ic, fc
