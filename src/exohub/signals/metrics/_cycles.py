"""Channels cut into strides and time-normalised to the gait cycle (0-100 %), for ROM and EMG profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Samples per normalised cycle: 0, 1, ..., 100 % of the stride.
CYCLE_POINTS = 101


def normalise_cycles(data: pd.DataFrame, strides: pd.DataFrame, *, n_points: int = CYCLE_POINTS) -> np.ndarray:
    """Return an array (n_strides, n_points, n_channels): each stride of ``data`` resampled to ``n_points``.

    ``data`` is indexed by ``time_s``; ``strides`` has ``ic_s`` and ``end_s``. Strides that the data do not cover
    entirely, or that hold a NaN, are NaN rows.
    """
    if n_points < 2:
        raise ValueError(f"n_points must be at least 2, got {n_points!r}.")
    time_s = data.index.to_numpy(dtype=np.float64)
    values = data.to_numpy(dtype=np.float64)
    starts = strides["ic_s"].to_numpy(dtype=np.float64)
    ends = strides["end_s"].to_numpy(dtype=np.float64)
    grid = starts[:, None] + (ends - starts)[:, None] * np.linspace(0.0, 1.0, n_points)[None, :]
    out = np.full((starts.size, n_points, values.shape[1]), np.nan)
    covered = (starts >= time_s[0]) & (ends <= time_s[-1])
    if not covered.any():
        return out
    flat = grid[covered].ravel()
    for channel in range(values.shape[1]):
        out[covered, :, channel] = np.interp(flat, time_s, values[:, channel]).reshape(-1, n_points)
    # A stride with a NaN sample inside is not averaged into profiles.
    lo = np.searchsorted(time_s, starts, side="left")
    hi = np.searchsorted(time_s, ends, side="right")
    nan_count = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(np.isnan(values), axis=0)])
    has_nan = (nan_count[hi] - nan_count[lo]) > 0
    out[has_nan[:, None, :].repeat(n_points, axis=1)] = np.nan
    return out


def range_of_motion(data: pd.DataFrame, strides: pd.DataFrame) -> np.ndarray:
    """Return max - min of each channel within each stride: an array (n_strides, n_channels).

    A stride the data do not cover entirely, or with a NaN sample inside, gives NaN for that channel.
    """
    time_s = data.index.to_numpy(dtype=np.float64)
    values = data.to_numpy(dtype=np.float64)
    starts = strides["ic_s"].to_numpy(dtype=np.float64)
    ends = strides["end_s"].to_numpy(dtype=np.float64)
    lo = np.searchsorted(time_s, starts, side="left")
    hi = np.searchsorted(time_s, ends, side="right")
    out = np.full((starts.size, values.shape[1]), np.nan)
    covered = (starts >= time_s[0]) & (ends <= time_s[-1]) & (hi - lo >= 2)
    for i in np.flatnonzero(covered):
        segment = values[lo[i] : hi[i]]
        out[i] = segment.max(axis=0) - segment.min(axis=0)  # NaN propagates: a gap gives no ROM
    return out


def cycle_mean_sd(cycles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the mean and the sample SD (ddof=1) over strides of ``cycles`` (n_strides, n_points, n_channels).

    Per channel, only the strides without a NaN (see :func:`normalise_cycles`) are averaged: the mean is NaN with no
    such stride, the SD with fewer than two. Both arrays are (n_points, n_channels).
    """
    if cycles.ndim != 3:
        raise ValueError(f"cycles must be an array (n_strides, n_points, n_channels), got shape {cycles.shape}.")
    mean = np.full(cycles.shape[1:], np.nan)
    sd = np.full(cycles.shape[1:], np.nan)
    for channel in range(cycles.shape[2]):
        valid = cycles[np.isfinite(cycles[:, :, channel]).all(axis=1), :, channel]
        if len(valid):
            mean[:, channel] = valid.mean(axis=0)
        if len(valid) > 1:
            sd[:, channel] = valid.std(axis=0, ddof=1)
    return mean, sd
