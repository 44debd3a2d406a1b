"""EMG median and mean frequency per window (Welch spectra from one batch of FFTs), an index of muscle fatigue."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import as_strided

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


def _welch_power(segments: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """Welch power at ``bins``, summed over the segments (axis -2), each mean-removed and Hann-windowed.

    One real FFT of the raw segments: removing the mean zeroes bin 0, and the periodic Hann window is the 3-tap
    kernel ``(-1/4, 1/2, -1/4)`` across neighbouring bins, so neither needs a windowed copy of the data. Bins other
    than 0 and Nyquist count twice, as in Welch's one-sided density. The result is proportional to Welch's average
    (a common factor, which cancels in median and mean frequencies).
    """
    size = segments.shape[-1]
    spectrum = np.fft.rfft(segments, axis=-1)
    first, last = int(bins[0]), int(bins[-1])
    if first <= 1:
        spectrum[..., 0] = 0.0
    if first >= 1 and last < size // 2:
        part = spectrum[..., first - 1 : last + 2]  # the band and one neighbour each side, a view
    else:  # the band reaches bin 0 or Nyquist: the neighbours beyond are mirrored, X[-k] = conj(X[k])
        neighbours = np.arange(first - 1, last + 2)
        mirrored = (neighbours < 0) | (neighbours > size // 2)
        part = spectrum[..., np.where(mirrored, np.abs(size - neighbours) % size, neighbours)]
        part[..., mirrored] = np.conj(part[..., mirrored])
    # 4 x the windowed spectrum, X[k - 1] + X[k + 1] - 2 X[k]: a power-of-two scale is exact and cancels.
    windowed = np.add(part[..., :-2], part[..., 2:], order="C")
    windowed -= part[..., 1:-1]
    windowed -= part[..., 1:-1]
    pairs = windowed.view(np.float64)
    np.square(pairs, out=pairs)
    power = pairs[..., 0::2].sum(axis=-2) + pairs[..., 1::2].sum(axis=-2)
    power[..., (bins > 0) & (2 * bins != size)] *= 2
    return power


def spectral_frequencies(
    values: np.ndarray, sampling_rate_hz: float, *, window: int, step: int, segment: int, band_hz: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window start samples and ``(n_windows, n_channels)`` median and mean frequencies of ``values``.

    Equal to :func:`scipy.signal.welch` per window (Hann segments, 50 % overlap, constant detrend) to rounding, but
    every segment of every window and channel comes from one strided view and one batch of FFTs.
    """
    rows = np.ascontiguousarray(values.T)  # (n_channels, n_samples); a no-copy view of pandas-ordered data
    hop = segment - segment // 2
    per_window = (window - segment) // hop + 1
    n_windows = (rows.shape[1] - window) // step + 1
    item = rows.itemsize
    segments = as_strided(
        rows,
        shape=(rows.shape[0], n_windows, per_window, segment),
        strides=(rows.strides[0], step * item, hop * item, item),
        writeable=False,
    )
    freqs_hz = np.fft.rfftfreq(segment, 1 / sampling_rate_hz)
    bins = np.flatnonzero((freqs_hz >= band_hz[0]) & (freqs_hz <= band_hz[1]))
    median = np.empty((rows.shape[0], n_windows))
    mean = np.empty((rows.shape[0], n_windows))
    per_block = max(1, _BLOCK_VALUES // (window * rows.shape[0]))
    for first in range(0, n_windows, per_block):
        block = slice(first, first + per_block)
        psd = _welch_power(segments[:, block], bins)
        median[:, block], mean[:, block] = _median_and_mean(psd, freqs_hz[bins])
    return np.arange(n_windows) * step, median.T, mean.T


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
