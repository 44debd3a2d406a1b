"""EMG median and mean frequency per window (Welch spectra), the usual spectral index of muscle fatigue."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal

from exohub.signals.emg._checks import check_emg_data
from exohub.signals.emg._processing import DEFAULT_BAND_HZ

FREQUENCY_QUANTITIES = ("median_frequency_hz", "mean_frequency_hz")
#: Windows are analysed in blocks of about this many values, to bound memory on hour-long recordings.
_BLOCK_VALUES = 4_000_000


def _median_and_mean(psd: np.ndarray, freqs_hz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median and mean frequency of spectra along the last axis; NaN where a spectrum holds no power."""
    cumulative = np.cumsum(psd, axis=-1)
    total = cumulative[..., -1]
    median_bin = np.argmax(cumulative >= total[..., None] / 2, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (psd @ freqs_hz) / total
    silent = total <= 0
    return np.where(silent, np.nan, freqs_hz[median_bin]), np.where(silent, np.nan, mean)


def spectral_frequencies(
    values: np.ndarray, sampling_rate_hz: float, *, window: int, step: int, segment: int, band_hz: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window start samples and ``(n_windows, n_channels)`` median and mean frequencies of ``values``."""
    frames = sliding_window_view(values, window, axis=0)[::step]  # (n_windows, n_channels, window), a view
    starts = np.arange(len(frames)) * step
    median = np.empty(frames.shape[:2])
    mean = np.empty(frames.shape[:2])
    per_block = max(1, _BLOCK_VALUES // (window * values.shape[1]))
    for first in range(0, len(frames), per_block):
        block = slice(first, first + per_block)
        freqs_hz, psd = signal.welch(frames[block], fs=sampling_rate_hz, nperseg=segment, axis=-1)
        in_band = (freqs_hz >= band_hz[0]) & (freqs_hz <= band_hz[1])
        median[block], mean[block] = _median_and_mean(psd[..., in_band], freqs_hz[in_band])
    return starts, median, mean


def check_frequency_windows(
    window_s: float,
    step_s: float | None,
    segment_s: float,
    band_hz: tuple[float, float],
    *,
    sampling_rate_hz: float,
    n_samples: int,
) -> tuple[int, int, int]:
    """Window, step and Welch segment lengths in samples, or a ``ValueError`` saying which does not fit."""
    window = round(window_s * sampling_rate_hz)
    step = window if step_s is None else round(step_s * sampling_rate_hz)
    segment = round(segment_s * sampling_rate_hz)
    if not 8 <= segment <= window <= n_samples:
        raise ValueError(
            f"Need 8 samples <= segment_s ({segment_s!r} s) <= window_s ({window_s!r} s) <= the data "
            f"({n_samples / sampling_rate_hz:g} s) at {sampling_rate_hz:g} Hz."
        )
    if step < 1:
        raise ValueError(f"step_s = {step_s!r} is shorter than one sample at {sampling_rate_hz:g} Hz.")
    if not 0 <= band_hz[0] < band_hz[1]:
        raise ValueError(f"band_hz must be (low, high) with 0 <= low < high, got {band_hz!r}.")
    return window, step, segment


def compute_emg_frequencies(
    data: pd.DataFrame,
    sampling_rate_hz: float,
    *,
    window_s: float = 1.0,
    step_s: float | None = None,
    segment_s: float = 0.25,
    band_hz: tuple[float, float] = DEFAULT_BAND_HZ,
) -> pd.DataFrame:
    """Median and mean power frequency of each EMG channel in consecutive windows.

    Each window's spectrum is Welch's estimate (Hann segments of ``segment_s``, 50 % overlap); the median frequency
    splits its power within ``band_hz`` in two halves, the mean frequency is its centroid. A falling median
    frequency over a session is the classic sign of muscle fatigue.

    Parameters
    ----------
    data
        EMG in volts (band-passed), columns ``*_emg``, indexed by ``time_s``.
    sampling_rate_hz
        Sampling rate of ``data``.
    window_s
        Length of each analysis window.
    step_s
        Distance between window starts; ``None``: ``window_s`` (no overlap).
    segment_s
        Welch segment length; the frequency resolution is ``1 / segment_s`` Hz.
    band_hz
        Frequencies counted in the spectrum.

    Returns
    -------
    pandas.DataFrame
        Indexed by the window centre ``time_s``; columns a MultiIndex (``quantity``, ``channel``) with quantities
        ``median_frequency_hz`` and ``mean_frequency_hz``: ``result["median_frequency_hz"]`` is a channels table.
        NaN for a window without power in the band.
    """
    values = check_emg_data(data, sampling_rate_hz)
    window, step, segment = check_frequency_windows(
        window_s, step_s, segment_s, band_hz, sampling_rate_hz=sampling_rate_hz, n_samples=len(values)
    )
    starts, median, mean = spectral_frequencies(
        values, sampling_rate_hz, window=window, step=step, segment=segment, band_hz=band_hz
    )
    time_s = data.index.to_numpy(dtype=np.float64)
    centre_s = (time_s[starts] + time_s[starts + window - 1]) / 2
    columns = pd.MultiIndex.from_product([FREQUENCY_QUANTITIES, data.columns], names=["quantity", "channel"])
    return pd.DataFrame(np.hstack([median, mean]), index=pd.Index(centre_s, name="time_s"), columns=columns)
