"""``EmgProcessing``: raw EMG to filtered signal, envelope, normalised envelope, onsets and fatigue frequencies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

import numpy as np
import pandas as pd

from exohub.signals.base import BaseAlgorithm
from exohub.signals.emg._checks import as_frame, check_emg_data
from exohub.signals.emg._frequency import check_frequency_windows, spectral_frequencies
from exohub.signals.emg._onsets import baseline_statistics, check_onset_parameters, onset_table
from exohub.signals.emg._processing import DEFAULT_BAND_HZ, emg_band_sos, envelope_values, normalize_values
from exohub.signals.preprocessing._filter import apply_sos


class EmgProcessing(BaseAlgorithm):
    """Standard surface-EMG pipeline, every channel at once.

    Band-pass (+ optional notch) -> envelope (linear: rectify + low-pass, or RMS) -> normalisation (to MVC or
    peak) -> onsets (baseline mean + k SD) -> median/mean frequency per window (Welch).

    Parameters
    ----------
    band_hz, band_order
        Butterworth band-pass; the upper edge is clipped to 95 % of Nyquist.
    notch_hz, notch_quality, notch_harmonics
        Mains notch (``None``: none).
    envelope_method
        ``"linear"`` or ``"rms"``.
    envelope_cutoff_hz, envelope_order
        Low-pass of the linear envelope.
    rms_window_ms
        Window of the RMS envelope.
    mvc_v
        Per-channel MVC envelope amplitude in volts; ``None`` normalises to each channel's peak.
    onset_threshold_sd, onset_min_duration_s, baseline_s, baseline_window_s
        Onset detection, see :func:`~exohub.signals.emg.find_emg_onsets`.
    frequency_window_s, frequency_segment_s
        Windows of the median/mean frequency, see :func:`~exohub.signals.emg.compute_emg_frequencies`.
    causal
        ``True``: forward-only filters and trailing windows (what a real-time loop could compute);
        ``False``: zero-phase.

    Attributes
    ----------
    filtered_data_
        Band-passed (and notched) EMG in volts.
    envelope_
        Envelope in volts.
    normalized_envelope_
        Envelope as a fraction of MVC (or of its peak).
    onsets_
        ``channel``, ``onset_s``, ``offset_s`` per activation.
    median_frequency_hz_, mean_frequency_hz_
        Per window (indexed by its centre ``time_s``) and channel.

    Other Parameters
    ----------------
    data
        Raw EMG in volts, columns ``*_emg``, indexed by ``time_s``, without NaN.
    sampling_rate_hz
        Sampling rate of ``data``.

    Notes
    -----
    Defaults follow SENIAM practice: 20-450 Hz band-pass, a 6 Hz linear envelope, both 2nd order run forward and
    backward (4th-order zero lag). Frequencies are computed from the band-passed signal.
    """

    data: pd.DataFrame
    sampling_rate_hz: float
    filtered_data_: pd.DataFrame
    envelope_: pd.DataFrame
    normalized_envelope_: pd.DataFrame
    onsets_: pd.DataFrame
    median_frequency_hz_: pd.DataFrame
    mean_frequency_hz_: pd.DataFrame

    def __init__(
        self,
        band_hz: tuple[float, float] = DEFAULT_BAND_HZ,
        band_order: int = 2,
        notch_hz: float | None = None,
        notch_quality: float = 30.0,
        notch_harmonics: int = 1,
        envelope_method: str = "linear",
        envelope_cutoff_hz: float = 6.0,
        envelope_order: int = 2,
        rms_window_ms: float = 100.0,
        mvc_v: Mapping[str, float] | None = None,
        onset_threshold_sd: float = 3.0,
        onset_min_duration_s: float = 0.05,
        baseline_s: tuple[float, float] | None = None,
        baseline_window_s: float = 0.5,
        frequency_window_s: float = 1.0,
        frequency_segment_s: float = 0.25,
        causal: bool = False,
    ) -> None:
        self.band_hz = band_hz
        self.band_order = band_order
        self.notch_hz = notch_hz
        self.notch_quality = notch_quality
        self.notch_harmonics = notch_harmonics
        self.envelope_method = envelope_method
        self.envelope_cutoff_hz = envelope_cutoff_hz
        self.envelope_order = envelope_order
        self.rms_window_ms = rms_window_ms
        self.mvc_v = mvc_v
        self.onset_threshold_sd = onset_threshold_sd
        self.onset_min_duration_s = onset_min_duration_s
        self.baseline_s = baseline_s
        self.baseline_window_s = baseline_window_s
        self.frequency_window_s = frequency_window_s
        self.frequency_segment_s = frequency_segment_s
        self.causal = causal

    def process(self, data: pd.DataFrame, sampling_rate_hz: float) -> Self:
        """Run the pipeline on ``data`` and set the results."""
        values = check_emg_data(data, sampling_rate_hz)
        check_onset_parameters(self.onset_threshold_sd, self.onset_min_duration_s)
        window, _, segment = check_frequency_windows(
            self.frequency_window_s,
            None,
            self.frequency_segment_s,
            self.band_hz,
            sampling_rate_hz=sampling_rate_hz,
            n_samples=len(data),
        )
        self.data, self.sampling_rate_hz = data, sampling_rate_hz
        names = [str(column) for column in data.columns]
        sos = emg_band_sos(
            sampling_rate_hz,
            band_hz=self.band_hz,
            order=self.band_order,
            notch_hz=self.notch_hz,
            notch_quality=self.notch_quality,
            notch_harmonics=self.notch_harmonics,
        )
        filtered = apply_sos(sos, values, causal=bool(self.causal), names=names)
        envelope = envelope_values(
            filtered,
            sampling_rate_hz,
            method=self.envelope_method,
            cutoff_hz=self.envelope_cutoff_hz,
            order=self.envelope_order,
            window_ms=self.rms_window_ms,
            causal=bool(self.causal),
            names=names,
        )
        self.filtered_data_ = as_frame(filtered, data)
        self.envelope_ = as_frame(envelope, data)
        self.normalized_envelope_ = as_frame(normalize_values(envelope, data.columns, self.mvc_v), data)
        time_s = data.index.to_numpy(dtype=np.float64)
        mean, sd = baseline_statistics(
            envelope, time_s, sampling_rate_hz, baseline_s=self.baseline_s, baseline_window_s=self.baseline_window_s
        )
        min_samples = max(1, round(self.onset_min_duration_s * sampling_rate_hz))
        threshold = mean + self.onset_threshold_sd * sd
        self.onsets_ = onset_table(envelope, time_s, data.columns, threshold, min_samples)
        starts, median, mean_hz = spectral_frequencies(
            filtered,
            sampling_rate_hz,
            window=window,
            step=window,
            segment=segment,
            band_hz=self.band_hz,
        )
        centre_s = pd.Index((time_s[starts] + time_s[starts + window - 1]) / 2, name="time_s")
        self.median_frequency_hz_ = pd.DataFrame(median, index=centre_s, columns=data.columns)
        self.mean_frequency_hz_ = pd.DataFrame(mean_hz, index=centre_s, columns=data.columns)
        return self
