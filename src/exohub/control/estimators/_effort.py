"""User effort from EMG, one sample at a time: band-pass, rectify, low-pass, divide by each channel's MVC."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import signal

from exohub._utils._checks import check_positive, check_sampling_rate
from exohub.exceptions import ValidationError
from exohub.signals.preprocessing import design_butterworth_sos

try:  # the in-place kernel behind scipy.signal.sosfilt (as in exohub.signals.preprocessing): no copy per tick
    from scipy.signal._sosfilt import _sosfilt as _sosfilt_kernel
except ImportError:  # pragma: no cover - a later scipy may move it; the public function is the fallback
    _sosfilt_kernel = None


def _run(sos: np.ndarray, rows: np.ndarray, state: np.ndarray) -> None:
    """Filter ``rows`` (``(n_channels, 1)``) in place, continuing from ``state`` (``(n_channels, n_sections, 2)``)."""
    if _sosfilt_kernel is not None:
        _sosfilt_kernel(sos, rows, state)
        return
    filtered, final = signal.sosfilt(sos, rows, axis=-1, zi=np.moveaxis(state, 1, 0))  # pragma: no cover
    rows[...], state[...] = filtered, np.moveaxis(final, 0, 1)  # pragma: no cover


class EmgEffort:
    """Normalised EMG envelope per channel (0 = rest, 1 = maximal voluntary contraction), streaming.

    The streaming twin of ``compute_emg_envelope(filter_emg(emg, rate, causal=True), rate, causal=True)`` divided by
    the MVC references (:mod:`exohub.signals.emg`): a Butterworth band-pass of order ``band_order`` (forward only),
    full-wave rectification, a Butterworth low-pass of order ``envelope_order`` at ``envelope_cutoff_hz``, then a
    division by ``mvc_v``. Stepping through a recording reproduces the offline result to rounding (about 1e-15 of
    the envelope's scale; tested on the gaitalytics EMG).

    Parameters
    ----------
    sampling_rate_hz
        The EMG sampling rate; :meth:`step` must be called once per EMG sample.
    mvc_v
        Per channel, the envelope amplitude (volts) during a maximal voluntary contraction, processed the same way.
    band_hz
        Pass band (Hz); the upper edge must be below Nyquist (the offline pipeline clips it at 95 % of Nyquist
        with a warning; here a bad band is refused).
    band_order, envelope_cutoff_hz, envelope_order
        As ``filter_emg(order=...)`` and ``compute_emg_envelope(cutoff_hz=..., order=...)``.

    Attributes
    ----------
    effort
        The latest normalised envelope per channel, a preallocated array that :meth:`step` overwrites.

    Notes
    -----
    :meth:`step` runs two calls of scipy's in-place second-order-section kernel on preallocated arrays (channels
    filtered together) and allocates nothing; about 5 us per sample for 8 channels
    (``benchmarks/validate_control_estimators.py``). EMG at 1-2 kHz is usually sampled faster than the control loop
    runs: call :meth:`step` for every sample of the block the loop receives and read :attr:`effort` once per tick.
    """

    def __init__(
        self,
        sampling_rate_hz: float,
        mvc_v: Sequence[float] | np.ndarray,
        band_hz: tuple[float, float] = (20.0, 450.0),
        band_order: int = 2,
        envelope_cutoff_hz: float = 6.0,
        envelope_order: int = 2,
    ) -> None:
        self.sampling_rate_hz = sampling_rate_hz
        self.mvc_v = mvc_v
        self.band_hz = band_hz
        self.band_order = band_order
        self.envelope_cutoff_hz = envelope_cutoff_hz
        self.envelope_order = envelope_order
        self.reset()

    def reset(self) -> None:
        """Check the parameters, design the filters and start from rest (zero filter state)."""
        rate = check_sampling_rate(self.sampling_rate_hz)
        mvc = np.array(self.mvc_v, dtype=np.float64, ndmin=1)
        if mvc.ndim != 1 or mvc.size == 0:
            raise ValidationError(f"mvc_v must hold one MVC reference (volts) per channel, got shape {mvc.shape}.")
        bad = ~np.isfinite(mvc) | (mvc <= 0)
        if bad.any():
            index = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"mvc_v[{index}] = {mvc[index]!r}; an MVC reference must be a positive voltage.")
        check_positive("envelope_cutoff_hz", self.envelope_cutoff_hz)
        self._band = design_butterworth_sos(self.band_order, tuple(self.band_hz), rate, "bandpass")
        self._low = design_butterworth_sos(self.envelope_order, self.envelope_cutoff_hz, rate, "lowpass")
        n = mvc.size
        self._inverse_mvc = 1.0 / mvc
        self._rows = np.zeros((n, 1))
        self._band_state = np.zeros((n, len(self._band), 2))
        self._low_state = np.zeros((n, len(self._low), 2))
        self.effort = np.zeros(n)

    @property
    def n_channels(self) -> int:
        """The number of EMG channels (one per MVC reference)."""
        return self.effort.size

    def step(self, emg_v: np.ndarray | Sequence[float], /) -> np.ndarray:
        """Take one EMG sample per channel (volts); return :attr:`effort` (overwritten by the next step).

        A NaN would stay in the filter state for ever, so a sample with NaN or infinity is refused with a
        ``ValidationError`` naming the channel and the state is left as it was; the caller treats it as a sensor
        fault.
        """
        rows = self._rows
        column = rows[:, 0]
        column[:] = emg_v
        if not np.isfinite(column.sum()):
            index = int(np.flatnonzero(~np.isfinite(column))[0])
            raise ValidationError(f"EMG channel {index} is {column[index]!r}; the envelope needs finite samples.")
        _run(self._band, rows, self._band_state)
        np.abs(rows, out=rows)
        _run(self._low, rows, self._low_state)
        np.multiply(column, self._inverse_mvc, out=self.effort)
        return self.effort
