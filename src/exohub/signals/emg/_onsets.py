"""Muscle activity onsets: the envelope above baseline mean + k SD for long enough, all channels at once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exohub.exceptions import ValidationError
from exohub.signals.emg._checks import check_emg_data

ONSET_COLUMNS = ("channel", "onset_s", "offset_s")


def _quietest_window(values: np.ndarray, window: int) -> tuple[np.ndarray, int]:
    """Start sample per channel, and length, of the stretch of about ``window`` samples with the lowest mean.

    Candidate windows start on a grid of ``window // 10`` samples: sums per grid block, then a running sum of
    blocks, so an hour of EMG is read once.
    """
    block = max(1, window // 10)
    per_window = window // block
    n_blocks = len(values) // block
    block_sums = np.add.reduceat(values[: n_blocks * block], np.arange(n_blocks) * block, axis=0)
    cumulative = np.cumsum(block_sums, axis=0)
    window_sums = cumulative[per_window - 1 :].copy()
    window_sums[1:] -= cumulative[: n_blocks - per_window]
    return np.argmin(window_sums, axis=0) * block, per_window * block


def baseline_statistics(
    values: np.ndarray,
    time_s: np.ndarray,
    sampling_rate_hz: float,
    *,
    baseline_s: tuple[float, float] | None,
    baseline_window_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD per channel over the baseline: ``baseline_s`` (start, end), or the quietest window."""
    if baseline_s is not None:
        start_s, end_s = baseline_s
        inside = (time_s >= start_s) & (time_s <= end_s)
        if inside.sum() < 2:
            raise ValidationError(
                f"baseline_s = {baseline_s!r} holds {int(inside.sum())} samples of the data "
                f"({time_s[0]:g}-{time_s[-1]:g} s); give a window of rest inside the recording."
            )
        rest = values[inside]
    else:
        window = round(baseline_window_s * sampling_rate_hz)
        if not 2 <= window <= len(values):
            raise ValueError(
                f"baseline_window_s = {baseline_window_s!r} must span 2 samples to the whole recording "
                f"({len(values) / sampling_rate_hz:g} s)."
            )
        start, window = _quietest_window(values, window)
        rest = values[start[None, :] + np.arange(window)[:, None], np.arange(values.shape[1])[None, :]]
    return rest.mean(axis=0), rest.std(axis=0, ddof=1)


def onset_table(
    values: np.ndarray,
    time_s: np.ndarray,
    columns: pd.Index,
    threshold: np.ndarray,
    min_samples: int,
) -> pd.DataFrame:
    """Runs of ``values > threshold`` at least ``min_samples`` long, as a channel/onset_s/offset_s table."""
    # Channels-first rows with a False sentinel at each end: every run starts and ends inside its own row, so the
    # changes of the flattened mask alternate start, end, start, end ... in channel then time order.
    n_samples = values.shape[0]
    above = np.zeros((values.shape[1], n_samples + 2), dtype=bool)
    np.greater(values.T, np.asarray(threshold, dtype=np.float64)[:, None], out=above[:, 1:-1])
    flat = above.ravel()
    changes = np.flatnonzero(flat[1:] != flat[:-1])
    start, end = changes[0::2], changes[1::2]  # flat indices of the first sample in, the first sample out (+1)
    channel = start // (n_samples + 2)
    start, end = start - channel * (n_samples + 2), end - channel * (n_samples + 2)
    keep = end - start >= min_samples
    channel, start, end = channel[keep], start[keep], end[keep]
    return pd.DataFrame(
        {
            "channel": np.asarray(columns, dtype=object)[channel],
            "onset_s": time_s[start],
            "offset_s": time_s[end - 1],
        },
        columns=list(ONSET_COLUMNS),
    )


def check_onset_parameters(threshold_sd: float, min_duration_s: float) -> None:
    """Raise a ``ValueError`` unless the threshold (in SDs) and the minimum duration are non-negative numbers."""
    if not np.isfinite(threshold_sd) or threshold_sd < 0:
        raise ValueError(f"threshold_sd must be a non-negative number of SDs, got {threshold_sd!r}.")
    if not np.isfinite(min_duration_s) or min_duration_s < 0:
        raise ValueError(f"min_duration_s must be a non-negative duration in seconds, got {min_duration_s!r}.")


def find_emg_onsets(
    envelope: pd.DataFrame,
    sampling_rate_hz: float,
    *,
    threshold_sd: float = 3.0,
    min_duration_s: float = 0.05,
    baseline_s: tuple[float, float] | None = None,
    baseline_window_s: float = 0.5,
) -> pd.DataFrame:
    """Find when each muscle switches on and off: envelope above baseline mean + ``threshold_sd`` SD.

    Parameters
    ----------
    envelope
        EMG envelope in volts (from :func:`compute_emg_envelope`), columns ``*_emg``, indexed by ``time_s``.
    sampling_rate_hz
        Sampling rate of ``envelope``.
    threshold_sd
        ``k`` in the threshold ``baseline mean + k * baseline SD`` (Hodges & Bui 1996).
    min_duration_s
        Shorter excursions above the threshold are not activity.
    baseline_s
        ``(start, end)`` in seconds of a rest period. ``None``: each channel's quietest stretch of
        ``baseline_window_s`` (the window of lowest mean envelope), for recordings without a rest period.
    baseline_window_s
        Length of the automatic baseline window.

    Returns
    -------
    pandas.DataFrame
        One row per activation: ``channel``, ``onset_s`` (first sample above the threshold), ``offset_s`` (last
        sample above it); ordered by channel (as in ``envelope``) then time.
    """
    values = check_emg_data(envelope, sampling_rate_hz)
    check_onset_parameters(threshold_sd, min_duration_s)
    time_s = envelope.index.to_numpy(dtype=np.float64)
    mean, sd = baseline_statistics(
        values, time_s, sampling_rate_hz, baseline_s=baseline_s, baseline_window_s=baseline_window_s
    )
    min_samples = max(1, round(min_duration_s * sampling_rate_hz))
    return onset_table(values, time_s, envelope.columns, mean + threshold_sd * sd, min_samples)


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channel, first sample and end (exclusive) of every run of ``True`` in the ``(n_samples, n_channels)`` mask."""
    n_samples = mask.shape[0]
    padded = np.zeros((mask.shape[1], n_samples + 2), dtype=bool)
    padded[:, 1:-1] = mask.T
    flat = padded.ravel()
    changes = np.flatnonzero(flat[1:] != flat[:-1])  # alternate start, end: every run lies inside its own row
    start, end = changes[0::2], changes[1::2]
    channel = start // (n_samples + 2)
    return channel, start - channel * (n_samples + 2), end - channel * (n_samples + 2)


def _crossing_s(values: np.ndarray, time_s: np.ndarray, index: np.ndarray, channel: np.ndarray, level: np.ndarray):
    """Time where ``values[:, channel]`` crosses ``level`` between samples ``index - 1`` and ``index`` (linear)."""
    before = np.maximum(index - 1, 0)
    v0, v1 = values[before, channel], values[index, channel]
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.clip(np.where(v1 != v0, (level - v0) / (v1 - v0), 1.0), 0.0, 1.0)
    return time_s[before] + fraction * (time_s[index] - time_s[before])


def hysteresis_onset_table(
    values: np.ndarray,
    time_s: np.ndarray,
    columns: pd.Index,
    on_threshold: np.ndarray,
    off_threshold: np.ndarray,
    *,
    min_samples: int,
    min_gap_samples: int,
) -> pd.DataFrame:
    """Activations with hysteresis, as a channel/onset_s/offset_s table.

    An activation is a stretch above ``off_threshold`` (per channel) that reaches ``on_threshold``: it starts where
    the envelope rises through ``on_threshold`` and ends where it falls through ``off_threshold`` (both interpolated
    linearly between samples), so noise around one threshold cannot split it. Activations shorter than
    ``min_samples`` are dropped (blips of noise), then those of a channel separated by fewer than
    ``min_gap_samples`` are merged (a burst's envelope dipping for a moment).
    """
    channel, start, end = _runs(values > off_threshold)
    high_channel, high_start, _ = _runs(values > on_threshold)
    # First sample above on_threshold at or after each run's start, as one sorted key (channel, sample).
    stride = values.shape[0] + 1
    high_keys = high_channel * stride + high_start
    position = np.searchsorted(high_keys, channel * stride + start)
    if len(high_keys):
        onset = high_keys[np.minimum(position, len(high_keys) - 1)] - channel * stride
    else:
        onset = np.full(len(start), values.shape[0])
    valid = (position < len(high_keys)) & (onset < end)
    keep = valid & (end - onset >= min_samples)  # blips of noise are dropped before merging
    channel, onset, end = channel[keep], onset[keep], end[keep]
    if len(onset) > 1:  # merge activations of a channel separated by a short gap
        first = np.r_[True, (channel[1:] != channel[:-1]) | (onset[1:] - end[:-1] >= min_gap_samples)]
        last = np.r_[first[1:], True]
        channel, onset, end = channel[first], onset[first], end[last]
    on = np.asarray(on_threshold, dtype=np.float64)[channel]
    off = np.asarray(off_threshold, dtype=np.float64)[channel]
    offset_index = np.minimum(end, values.shape[0] - 1)
    offset_s = np.where(end < values.shape[0], _crossing_s(values, time_s, offset_index, channel, off), time_s[end - 1])
    return pd.DataFrame(
        {
            "channel": np.asarray(columns, dtype=object)[channel],
            "onset_s": _crossing_s(values, time_s, onset, channel, on),
            "offset_s": offset_s,
        },
        columns=list(ONSET_COLUMNS),
    )
