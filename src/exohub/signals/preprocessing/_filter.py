"""IIR filters as second-order sections: design, offline application (zero-phase or causal) and a streaming twin.

Offline filters work on all columns at once along axis 0 (time). NaN is never filtered over: an IIR filter would
spread it to the end of the signal (causal) or over all of it (zero-phase), so the filters raise a
``ValidationError`` naming the column and the time of the first NaN. Fill or interpolate gaps first;
:class:`~exohub.signals.quality.SignalQualityAssessment` locates them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Self

import numpy as np
import pandas as pd
from scipy import signal

from exohub._utils._checks import check_option, check_sampling_rate
from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.base import BaseFilter
from exohub.signals.preprocessing._apply_sos import apply_sos, check_finite

BTYPES = ("lowpass", "highpass", "bandpass", "bandstop")
_BAND_BTYPES = ("bandpass", "bandstop")


def _check_order(order: int) -> int:
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 1:
        raise ValueError(f"order must be a positive integer, got {order!r}.")
    return int(order)


def _check_frequency(name: str, value: float, nyquist_hz: float) -> float:
    freq = float(value)
    if not np.isfinite(freq) or freq <= 0:
        raise ValueError(f"{name} must be a finite positive frequency in Hz, got {value!r}.")
    if freq >= nyquist_hz:
        raise ValueError(
            f"{name} = {freq:g} Hz is not below the Nyquist frequency ({nyquist_hz:g} Hz at "
            f"{2 * nyquist_hz:g} Hz sampling); lower it or use a higher sampling rate."
        )
    return freq


def _check_cutoff(cutoff_hz: float | Sequence[float], btype: str, nyquist_hz: float) -> float | tuple[float, float]:
    if btype in _BAND_BTYPES:
        if np.ndim(cutoff_hz) != 1 or len(cutoff_hz) != 2:  # type: ignore[arg-type]
            raise ValueError(f"A {btype} filter needs cutoff_hz = (low, high) in Hz, got {cutoff_hz!r}.")
        low, high = (_check_frequency("cutoff_hz", value, nyquist_hz) for value in cutoff_hz)  # type: ignore[union-attr]
        if low >= high:
            raise ValueError(f"cutoff_hz must be (low, high) with low < high, got {cutoff_hz!r}.")
        return low, high
    if np.ndim(cutoff_hz) != 0:
        raise ValueError(f"A {btype} filter needs a single cutoff_hz in Hz, got {cutoff_hz!r}.")
    return _check_frequency("cutoff_hz", cutoff_hz, nyquist_hz)  # type: ignore[arg-type]


def design_butterworth_sos(
    order: int, cutoff_hz: float | Sequence[float], sampling_rate_hz: float, btype: str = "lowpass"
) -> np.ndarray:
    """Design a Butterworth filter as second-order sections.

    Parameters
    ----------
    order
        Filter order (a band filter has twice as many poles).
    cutoff_hz
        The -3 dB frequency in Hz; ``(low, high)`` for ``"bandpass"`` and ``"bandstop"``. Must lie in
        ``(0, sampling_rate_hz / 2)``.
    sampling_rate_hz
        Sampling rate of the signal to filter.
    btype
        ``"lowpass"``, ``"highpass"``, ``"bandpass"`` or ``"bandstop"``.

    Returns
    -------
    numpy.ndarray
        ``(n_sections, 6)`` coefficients for :func:`scipy.signal.sosfilt`.
    """
    check_option("btype", btype, BTYPES)
    order = _check_order(order)
    rate = check_sampling_rate(sampling_rate_hz)
    cutoff = _check_cutoff(cutoff_hz, btype, rate / 2)
    return signal.butter(order, cutoff, btype=btype, fs=rate, output="sos")


def design_notch_sos(freq_hz: float, quality: float, sampling_rate_hz: float, harmonics: int = 1) -> np.ndarray:
    """Design a cascade of notch filters at ``freq_hz`` and its first ``harmonics - 1`` multiples.

    Parameters
    ----------
    freq_hz
        Fundamental frequency to remove (mains: 50 or 60 Hz).
    quality
        Quality factor ``freq / bandwidth`` of each notch (30 removes about +-0.8 Hz at 50 Hz).
    sampling_rate_hz
        Sampling rate of the signal to filter.
    harmonics
        Number of notches: ``freq_hz, 2 * freq_hz, ...``. Harmonics at or above Nyquist are left out with an
        ``ExohubWarning``.

    Returns
    -------
    numpy.ndarray
        ``(n_notches, 6)`` second-order sections.
    """
    rate = check_sampling_rate(sampling_rate_hz)
    freq = _check_frequency("freq_hz", freq_hz, rate / 2)
    if isinstance(harmonics, bool) or not isinstance(harmonics, int | np.integer) or harmonics < 1:
        raise ValueError(f"harmonics must be a positive integer, got {harmonics!r}.")
    if not np.isfinite(quality) or quality <= 0:
        raise ValueError(f"quality must be a finite positive number, got {quality!r}.")
    freqs = freq * np.arange(1, int(harmonics) + 1)
    if freqs[-1] >= rate / 2:
        warnings.warn(
            f"Notch harmonics at {', '.join(f'{f:g}' for f in freqs[freqs >= rate / 2])} Hz are at or above Nyquist "
            f"({rate / 2:g} Hz) and are left out; lower harmonics to {int(np.sum(freqs < rate / 2))}.",
            ExohubWarning,
            stacklevel=2,
        )
    sections = [signal.tf2sos(*signal.iirnotch(f, quality, fs=rate)) for f in freqs[freqs < rate / 2]]
    return np.vstack(sections)


def _as_2d(data: pd.DataFrame | np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Return the data as a float64 ``(n_samples, n_channels)`` array and the channel names for messages."""
    if isinstance(data, pd.DataFrame):
        numeric = [column for column in data.columns if not pd.api.types.is_numeric_dtype(data[column])]
        if numeric:
            raise ValidationError(f"Column {numeric[0]!r} is not numeric ({data[numeric[0]].dtype}); cannot filter it.")
        return data.to_numpy(dtype=np.float64), [str(column) for column in data.columns]
    if not isinstance(data, np.ndarray):
        raise TypeError(f"data must be a pandas DataFrame or a numpy array, got {type(data).__name__}.")
    if data.ndim not in (1, 2) or not np.issubdtype(data.dtype, np.number):
        raise ValidationError(
            f"data must be a numeric 1-D or 2-D (samples x channels) array, got {data.dtype} with shape {data.shape}."
        )
    values = np.asarray(data, dtype=np.float64)
    values = values[:, None] if values.ndim == 1 else values
    return values, [f"column {index}" for index in range(values.shape[1])]


def filter_data(sos: np.ndarray, data: pd.DataFrame | np.ndarray, *, causal: bool) -> pd.DataFrame | np.ndarray:
    """Filter a DataFrame or an array with ``sos`` and return the same type (index, columns and shape kept)."""
    values, names = _as_2d(data)
    index = data.index if isinstance(data, pd.DataFrame) else None
    if values.shape[0] == 0:
        raise ValidationError("data has no samples; nothing to filter.")
    check_finite(values, names, index)
    filtered = apply_sos(sos, values, causal=causal, names=names)
    if isinstance(data, pd.DataFrame):
        return pd.DataFrame(filtered, index=data.index, columns=data.columns)
    return filtered.reshape(data.shape)


class ButterworthFilter(BaseFilter):
    """Butterworth low-, high-, band-pass or band-stop filter, zero-phase by default.

    Parameters
    ----------
    order
        Filter order. Zero-phase filtering runs it twice, so the magnitude response is squared (cutoff at -6 dB).
    cutoff_hz
        Cutoff in Hz; ``(low, high)`` for ``"bandpass"`` and ``"bandstop"``.
    btype
        ``"lowpass"``, ``"highpass"``, ``"bandpass"`` or ``"bandstop"``.
    causal
        ``False``: forward-backward (:func:`scipy.signal.sosfiltfilt`), no phase lag, offline only.
        ``True``: forward only (:func:`scipy.signal.sosfilt`), what a real-time loop sees.

    Attributes
    ----------
    filtered_data_
        The filtered signal, of the type, index and columns of ``data``.
    sos_
        The second-order sections applied.

    Other Parameters
    ----------------
    data
        DataFrame (all columns filtered) or array (1-D, or samples x channels), without NaN.
    sampling_rate_hz
        Sampling rate of ``data``.

    Examples
    --------
    >>> import numpy as np
    >>> noisy = np.sin(np.linspace(0, 20, 1000)) + 0.1 * np.random.default_rng(0).standard_normal(1000)
    >>> smooth = ButterworthFilter(order=4, cutoff_hz=5.0).filter(noisy, sampling_rate_hz=100.0).filtered_data_
    """

    data: pd.DataFrame | np.ndarray
    sampling_rate_hz: float
    sos_: np.ndarray

    def __init__(
        self, order: int = 4, *, cutoff_hz: float | tuple[float, float], btype: str = "lowpass", causal: bool = False
    ) -> None:
        self.order = order
        self.cutoff_hz = cutoff_hz
        self.btype = btype
        self.causal = causal

    def filter(self, data: pd.DataFrame | np.ndarray, sampling_rate_hz: float) -> Self:
        """Filter every column of ``data`` and set ``filtered_data_``."""
        self.sos_ = design_butterworth_sos(self.order, self.cutoff_hz, sampling_rate_hz, self.btype)
        self.data, self.sampling_rate_hz = data, sampling_rate_hz
        self.filtered_data_ = filter_data(self.sos_, data, causal=bool(self.causal))
        return self


class NotchFilter(BaseFilter):
    """Notch (band-stop IIR) filter at a frequency and its harmonics, e.g. 50 Hz mains hum.

    Parameters
    ----------
    freq_hz
        Frequency to remove.
    quality
        Quality factor ``freq_hz / bandwidth`` of each notch.
    harmonics
        How many notches: ``freq_hz, 2 * freq_hz, ...`` (those at or above Nyquist are left out with a warning).
    causal
        ``False``: zero-phase (forward-backward); ``True``: forward only.

    Attributes
    ----------
    filtered_data_
        The filtered signal, of the type, index and columns of ``data``.
    sos_
        The second-order sections applied (one per notch).

    Other Parameters
    ----------------
    data
        DataFrame or array (samples along axis 0), without NaN.
    sampling_rate_hz
        Sampling rate of ``data``.
    """

    data: pd.DataFrame | np.ndarray
    sampling_rate_hz: float
    sos_: np.ndarray

    def __init__(self, freq_hz: float = 50.0, quality: float = 30.0, harmonics: int = 1, causal: bool = False) -> None:
        self.freq_hz = freq_hz
        self.quality = quality
        self.harmonics = harmonics
        self.causal = causal

    def filter(self, data: pd.DataFrame | np.ndarray, sampling_rate_hz: float) -> Self:
        """Filter every column of ``data`` and set ``filtered_data_``."""
        self.sos_ = design_notch_sos(self.freq_hz, self.quality, sampling_rate_hz, self.harmonics)
        self.data, self.sampling_rate_hz = data, sampling_rate_hz
        self.filtered_data_ = filter_data(self.sos_, data, causal=bool(self.causal))
        return self


class StreamingFilter:
    """Causal second-order-section filter, one sample at a time, for a real-time loop.

    The streaming twin of a ``causal=True`` :class:`ButterworthFilter` or :class:`NotchFilter`: stepping through
    a signal gives the output of :func:`scipy.signal.sosfilt` on the whole signal (same direct-form II transposed
    arithmetic, in the same order). All state and scratch space is allocated here; :meth:`step` allocates only
    the array it returns.

    Parameters
    ----------
    sos
        ``(n_sections, 6)`` second-order sections, e.g. from :func:`design_butterworth_sos`.
    n_channels
        Number of channels filtered in parallel.
    """

    def __init__(self, sos: np.ndarray, n_channels: int) -> None:
        sos = np.array(sos, dtype=np.float64, ndmin=2)
        if sos.ndim != 2 or sos.shape[1] != 6 or sos.shape[0] == 0:
            raise ValueError(f"sos must have shape (n_sections, 6), got {sos.shape}.")
        if not np.all(np.isfinite(sos)) or np.any(sos[:, 3] == 0):
            raise ValueError("sos must be finite with a non-zero a0 (column 3) in every section.")
        if isinstance(n_channels, bool) or not isinstance(n_channels, int | np.integer) or n_channels < 1:
            raise ValueError(f"n_channels must be a positive integer, got {n_channels!r}.")
        self.sos = sos / sos[:, 3:4]
        self.n_channels = int(n_channels)
        n_sections = len(self.sos)
        self._zi = np.zeros((n_sections, 2, self.n_channels))
        # Per-section views and coefficient vectors, made once so step() does no indexing work.
        self._b = [np.ascontiguousarray(section[:3]) for section in self.sos]
        self._a = [np.ascontiguousarray(section[4:]) for section in self.sos]
        self._z0 = [self._zi[s, 0] for s in range(n_sections)]
        self._z1 = [self._zi[s, 1] for s in range(n_sections)]
        self._x = np.zeros(self.n_channels)
        self._y = np.zeros(self.n_channels)
        self._bx = np.zeros((3, self.n_channels))
        self._ay = np.zeros((2, self.n_channels))

    def reset(self, sample: np.ndarray | float | None = None) -> None:
        """Clear the state; with ``sample``, start in the steady state of a constant input equal to it."""
        if sample is None:
            self._zi[...] = 0.0
            return
        x0 = self._check_sample(sample)
        self._zi[...] = signal.sosfilt_zi(self.sos)[:, :, None] * x0[None, None, :]

    def _check_sample(self, sample: np.ndarray | float) -> np.ndarray:
        x = np.asarray(sample, dtype=np.float64).reshape(-1)
        if x.shape != (self.n_channels,):
            raise ValueError(f"sample must hold {self.n_channels} channel value(s), got shape {np.shape(sample)}.")
        return x

    def step(self, sample: np.ndarray | float) -> np.ndarray:
        """Filter one sample (``n_channels`` values) and return the ``n_channels`` outputs."""
        x, y, bx, ay = self._x, self._y, self._bx, self._ay
        x[...] = sample
        for b, a, z0, z1 in zip(self._b, self._a, self._z0, self._z1, strict=True):
            np.multiply.outer(b, x, out=bx)
            np.add(bx[0], z0, out=y)
            np.multiply.outer(a, y, out=ay)
            np.subtract(bx[1], ay[0], out=z0)
            np.add(z0, z1, out=z0)
            np.subtract(bx[2], ay[1], out=z1)
            x[...] = y
        return y.copy()

    def process(self, block: np.ndarray) -> np.ndarray:
        """Filter a ``(n_samples, n_channels)`` block (or 1-D for one channel), continuing from the current state."""
        values = np.asarray(block, dtype=np.float64)
        values2d = values.reshape(len(values), -1) if values.ndim else values.reshape(1, -1)
        if values2d.shape[1] != self.n_channels:
            raise ValueError(f"block must have {self.n_channels} channel column(s), got shape {values.shape}.")
        filtered, zf = signal.sosfilt(self.sos, values2d, axis=0, zi=self._zi)
        self._zi[...] = zf
        return filtered.reshape(values.shape)
