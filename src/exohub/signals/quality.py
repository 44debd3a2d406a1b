"""Signal quality: where a recording has dropouts, NaN runs, flat lines, clipping, spikes or (EMG) too little signal.

Every check is vectorised over samples; channels are visited one after another (a handful per recording).
"""

from __future__ import annotations

import warnings
from typing import Self

import numpy as np
import pandas as pd

from exohub._utils._checks import validate_type
from exohub.exceptions import ValidationError
from exohub.signals.base import BaseAlgorithm
from exohub.signals.channels import parse_channel
from exohub.signals.emg._processing import emg_band_sos
from exohub.signals.preprocessing._filter import apply_sos, check_sampling_rate

FLAGS = ("dropout", "nan_run", "flat_line", "saturation", "spike", "low_snr")
FLAG_COLUMNS = ("channel", "flag", "start_s", "end_s", "detail")
#: A time step longer than this many nominal sample periods is a dropout.
GAP_FACTOR = 1.5
#: Consistency of the index with ``sampling_rate_hz``: the median step may differ by this fraction.
_RATE_TOLERANCE = 0.5
_MAD_TO_SD = 1.4826
_MEAN_AD_TO_SD = 1.2533
#: Spike scale: blocks of at least this many samples.
_MIN_SPIKE_BLOCK = 32


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the runs of ``True`` in a 1-D boolean array."""
    edges = np.diff(mask.astype(np.int8), prepend=0, append=0)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _equal_runs(values: np.ndarray, target: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Runs of consecutive identical values (``target``: only where ``values`` equals it) as sample index ranges."""
    same = values[1:] == values[:-1]
    if target is not None:
        same &= values[1:] == target
    starts, ends = _runs(same)
    return starts, ends + 1  # a run of k equal steps covers k + 1 samples


def _gap_flags(time_s: np.ndarray, period_s: float) -> list[tuple[str, float, float, str]]:
    steps = np.diff(time_s)
    gaps = np.flatnonzero(steps > GAP_FACTOR * period_s)
    return [
        (
            "dropout",
            time_s[i],
            time_s[i + 1],
            f"gap of {steps[i]:.6g} s in the time index (~{round(steps[i] / period_s) - 1} samples missing)",
        )
        for i in gaps
    ]


def _glitch_residual(values: np.ndarray) -> np.ndarray:
    """Each sample minus the cubic through its neighbours at -2, -1, +1, +2 (NaN at the ends and next to NaN)."""
    residual = np.full(len(values), np.nan)
    if len(values) >= 5:
        smooth = (4 * (values[1:-3] + values[3:-1]) - values[:-4] - values[4:]) / 6
        residual[2:-2] = values[2:-2] - smooth
    return residual


def _local_scale(residual: np.ndarray, block: int) -> np.ndarray:
    """Per sample: the median robust SD of ``residual`` among its block of ``block`` samples and 2 blocks each side."""
    n_blocks = -(-len(residual) // block)
    blocks = np.full(n_blocks * block, np.nan)
    blocks[: len(residual)] = np.abs(residual)
    blocks = blocks.reshape(n_blocks, block)
    if np.isnan(blocks).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks (a long NaN run) have no scale
            scale = np.nan_to_num(_MAD_TO_SD * np.nanmedian(blocks, axis=1), nan=0.0)
    else:
        scale = _MAD_TO_SD * np.median(blocks, axis=1)
    padded = np.pad(scale, 2, mode="edge")
    neighbourhood = np.median([padded[k : k + n_blocks] for k in range(5)], axis=0)
    return np.repeat(neighbourhood, block)[: len(residual)]


class SignalQualityAssessment(BaseAlgorithm):
    """Flag the stretches of each channel that should not be trusted.

    Parameters
    ----------
    flat_line_min_s
        A run of identical consecutive values at least this long is a ``flat_line`` (sensor stuck, cable off).
    saturation_min_samples
        A run of at least this many samples at the channel's maximum or minimum is ``saturation`` (clipping).
    spike_threshold
        A sample that steps away from both neighbours and back, and whose departure from the cubic through its
        two neighbours each side exceeds this many times the
        local robust scale of that residual (blocks of ``spike_window_s / 5``, the median of 5 blocks) and
        this many times the residuals 3-4 samples away is a ``spike``: a glitch that jumps away and straight
        back. Impacts (heel strike) and bursts have a shape over several samples and are not spikes.
    spike_window_s
        Neighbourhood of the spike scale.
    snr_min_db
        ``*_emg`` channels whose activity-to-rest power ratio is below this are ``low_snr``.
    snr_window_s
        Window of the EMG power estimates; rest is their 10th percentile, activity their 90th.

    Attributes
    ----------
    flags_
        One row per defect: ``channel``, ``flag`` (one of ``dropout``, ``nan_run``, ``flat_line``, ``saturation``,
        ``spike``, ``low_snr``), ``start_s``, ``end_s`` and a human-readable ``detail``.
    summary_
        Per channel (index): ``usable_fraction`` (samples outside every defect, over the samples expected from
        the time span), ``snr_db`` (EMG only, else NaN) and ``n_<flag>`` counts.

    Other Parameters
    ----------------
    data
        Channels indexed by ``time_s`` (seconds, increasing); NaN marks missing values.
    sampling_rate_hz
        Nominal sampling rate; time steps above 1.5 periods are dropouts.

    Notes
    -----
    Saturation is judged from the data alone (the channel's own extremes): a smooth signal quantised so coarsely
    that several samples share its peak value can be flagged. ``low_snr`` uses the 20-450 Hz band (clipped below
    Nyquist), after NaN runs are bridged linearly.
    """

    data: pd.DataFrame
    sampling_rate_hz: float
    flags_: pd.DataFrame
    summary_: pd.DataFrame

    def __init__(
        self,
        flat_line_min_s: float = 0.25,
        saturation_min_samples: int = 3,
        spike_threshold: float = 10.0,
        spike_window_s: float = 0.25,
        snr_min_db: float = 6.0,
        snr_window_s: float = 0.1,
    ) -> None:
        self.flat_line_min_s = flat_line_min_s
        self.saturation_min_samples = saturation_min_samples
        self.spike_threshold = spike_threshold
        self.spike_window_s = spike_window_s
        self.snr_min_db = snr_min_db
        self.snr_window_s = snr_window_s

    def _check(self, data: pd.DataFrame, sampling_rate_hz: float) -> np.ndarray:
        validate_type(data, pd.DataFrame, "data")
        rate = check_sampling_rate(sampling_rate_hz)
        for name in ("flat_line_min_s", "spike_threshold", "spike_window_s", "snr_window_s"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number, got {value!r}.")
        if int(self.saturation_min_samples) < 2:
            raise ValueError(f"saturation_min_samples must be at least 2, got {self.saturation_min_samples!r}.")
        if len(data) < 3 or data.shape[1] == 0:
            raise ValidationError(f"Quality assessment needs at least 3 samples and 1 channel, got shape {data.shape}.")
        for column in data.columns:
            if not pd.api.types.is_numeric_dtype(data[column]):
                raise ValidationError(f"Channel {column!r} is not numeric ({data[column].dtype}).")
        if not pd.api.types.is_numeric_dtype(data.index) or not data.index.is_monotonic_increasing:
            raise ValidationError("data must be indexed by increasing time_s in seconds.")
        time_s = data.index.to_numpy(dtype=np.float64)
        median_step = float(np.median(np.diff(time_s)))
        if abs(median_step * rate - 1) > _RATE_TOLERANCE:
            raise ValidationError(
                f"The index steps by {median_step:.6g} s (median) but sampling_rate_hz = {rate:g} means "
                f"{1 / rate:.6g} s; index data by time_s in seconds and give its sampling rate."
            )
        return time_s

    def assess(self, data: pd.DataFrame, sampling_rate_hz: float) -> Self:
        """Find the defects of every channel of ``data`` and set ``flags_`` and ``summary_``."""
        time_s = self._check(data, sampling_rate_hz)
        self.data, self.sampling_rate_hz = data, sampling_rate_hz
        rate = float(sampling_rate_hz)
        gaps = _gap_flags(time_s, 1 / rate)
        expected = len(time_s) + sum(round((end - start) * rate) - 1 for _, start, end, _ in gaps)
        rows, summary = [], {}
        for column in data.columns:
            values = data[column].to_numpy(dtype=np.float64)
            flags, bad = self._channel_flags(values, time_s, rate)
            snr_db = np.nan
            if _is_emg(column):
                snr_db = self._emg_snr_db(values, rate)
                if snr_db < self.snr_min_db:
                    flags.append(("low_snr", time_s[0], time_s[-1], f"activity/rest power {snr_db:.1f} dB"))
            flags = gaps + flags
            rows += [(column, *flag) for flag in flags]
            counts = {f"n_{flag}": sum(row[0] == flag for row in flags) for flag in FLAGS}
            summary[column] = {"usable_fraction": (len(values) - bad.sum()) / expected, "snr_db": snr_db, **counts}
        self.flags_ = pd.DataFrame(rows, columns=list(FLAG_COLUMNS)).astype({"start_s": float, "end_s": float})
        self.summary_ = pd.DataFrame.from_dict(summary, orient="index").rename_axis("channel")
        return self

    def _channel_flags(
        self, values: np.ndarray, time_s: np.ndarray, rate: float
    ) -> tuple[list[tuple[str, float, float, str]], np.ndarray]:
        """Defects of one channel and the mask of the samples they cover."""
        flags: list[tuple[str, float, float, str]] = []
        bad = np.zeros(len(values), dtype=bool)

        def add(flag: str, starts: np.ndarray, ends: np.ndarray, detail: str) -> None:
            for start, end in zip(starts, ends, strict=True):
                bad[start:end] = True
                flags.append((flag, time_s[start], time_s[end - 1], detail.format(n=end - start, v=values[start])))

        nan = np.isnan(values)
        add("nan_run", *_runs(nan), "{n} missing samples")
        starts, ends = _equal_runs(values)
        long = (ends - starts) / rate >= self.flat_line_min_s
        add("flat_line", starts[long], ends[long], "{n} identical samples at {v:.6g}")
        if (~nan).sum() > 1 and np.nanmax(values) > np.nanmin(values):
            for extreme in (np.nanmax(values), np.nanmin(values)):
                starts, ends = _equal_runs(values, np.float64(extreme))
                keep = ends - starts >= int(self.saturation_min_samples)
                add("saturation", starts[keep], ends[keep], "{n} samples clipped at {v:.6g}")
        # Samples in or next to a defect already found, or across a time gap, are not judged.
        suspect = np.asarray(values, dtype=np.float64).copy()
        near = bad.copy()
        near[:-1] |= bad[1:]
        near[1:] |= bad[:-1]
        gap = np.flatnonzero(np.diff(time_s) > GAP_FACTOR / rate)
        near[np.r_[gap, gap + 1]] = True
        suspect[near] = np.nan
        spikes = self._spikes(suspect)
        add("spike", spikes, spikes + 1, "glitch: one sample at {v:.6g}, away from both neighbours and back")
        return flags, bad

    def _spikes(self, values: np.ndarray) -> np.ndarray:
        """Samples that jump away from both neighbours and straight back: glitches, not physiological transients.

        The residual from the cubic through the two neighbours each side must exceed ``spike_threshold`` times
        both the local robust scale of the residual and the residuals 3 and 4 samples away (outside the glitch's
        own footprint): an impact or a burst has a shape over several samples, a glitch has none.
        """
        residual = _glitch_residual(values)
        if np.isfinite(residual).sum() < _MIN_SPIKE_BLOCK:
            return np.array([], dtype=int)
        block = max(_MIN_SPIKE_BLOCK, round(self.spike_window_s * self.sampling_rate_hz / 5))
        magnitude = np.abs(residual)
        floor = 1e-12 * float(np.nanmax(np.abs(values)))
        around = np.zeros_like(magnitude)
        for shift in (3, 4):
            around[shift:] = np.fmax(around[shift:], magnitude[:-shift])
            around[:-shift] = np.fmax(around[:-shift], magnitude[shift:])
        limit = self.spike_threshold * np.maximum(np.maximum(_local_scale(residual, block), around), floor)
        # ... and it must leave and come back: steps of opposite sign into and out of it, each half the residual
        # (a held sample followed by a double step, a timing stall, is not a glitch).
        step_in, step_out = np.full(len(values), np.nan), np.full(len(values), np.nan)
        step_in[1:] = np.diff(values)
        step_out[:-1] = step_in[1:]
        with np.errstate(invalid="ignore"):
            away_and_back = (step_in * step_out < 0) & (np.fmin(np.abs(step_in), np.abs(step_out)) >= magnitude / 2)
            glitch = (magnitude > limit) & away_and_back
        # The neighbours' cubic residuals carry the glitch too (2/3 and 1/6 of it): keep the largest of a cluster.
        candidates = np.flatnonzero(glitch)
        if len(candidates) == 0:
            return candidates
        window = np.lib.stride_tricks.sliding_window_view(np.pad(np.nan_to_num(magnitude), 2), 5)[candidates]
        return candidates[np.argmax(window, axis=1) == 2]

    def _emg_snr_db(self, values: np.ndarray, rate: float) -> float:
        """Ratio in dB of activity (90th percentile) to rest (10th) windowed power of the band-passed EMG."""
        finite = np.isfinite(values)
        window = max(2, round(self.snr_window_s * rate))
        if finite.sum() < 2 * window:
            return np.nan
        bridged = np.interp(np.arange(len(values)), np.flatnonzero(finite), values[finite])
        filtered = apply_sos(emg_band_sos(rate), bridged[:, None], causal=False, names=["emg"])[:, 0]
        n_windows = len(filtered) // window
        power = np.mean(np.square(filtered[: n_windows * window]).reshape(n_windows, window), axis=1)
        rest, active = np.percentile(power, [10, 90])
        if active <= 0:
            return -np.inf
        return float(10 * np.log10(active / rest)) if rest > 0 else np.inf


def _is_emg(column: object) -> bool:
    try:
        return parse_channel(str(column)).quantity == "emg"
    except ValidationError:
        return False
