"""Signal quality: where a recording has dropouts, NaN runs, flat lines, clipping, spikes or (EMG) too little signal.

Each channel is read in place (a pandas column is a contiguous view: nothing is copied) and every full-length step
is either a reduction (extremes, block sums) or a pass in cache-sized chunks; the exact, costlier tests (flat-line
runs, the shape of a spike) run only where a cheap necessary condition holds. An hour of 8 EMG channels at 2 kHz
plus 22 channels at 200 Hz takes a fraction of a second on one core (``benchmarks/bench_emg.py``).

The range, flat-line and saturation searches live in :mod:`exohub.signals._quality_runs`, the glitch tests in
:mod:`exohub.signals._quality_spikes`; this module assembles them per channel and across the channels of an IMU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

import numpy as np
import pandas as pd

from exohub._utils._checks import check_instance, check_sampling_rate
from exohub.exceptions import ValidationError
from exohub.signals._quality_runs import (
    _CHUNK,
    Defect,
    _clipped,
    _defects,
    _extreme_runs,
    _flat_runs,
    _merge,
    _nan_row_extremes,
    _row_extremes,
    _runs,
    _sorted_ranges,
    _sorted_ranges_with,
)
from exohub.signals._quality_spikes import _alone, _block_scale, _jumps_out, _residuals, _reversals, _windows
from exohub.signals.base import BaseAlgorithm
from exohub.signals.channels import parse_channel

FLAGS = ("dropout", "nan_run", "flat_line", "saturation", "spike", "low_snr")
FLAG_COLUMNS = ("channel", "flag", "start_s", "end_s", "detail")
#: A time step longer than this many nominal sample periods is a dropout.
GAP_FACTOR = 1.5
#: A spike candidate is an impact, not a glitch, when another channel of the same IMU (same location, acc or gyr)
#: departs at least this many times its own local scale within ``IMPACT_REACH_SAMPLES`` samples of it.
IMPACT_DEPARTURE = 3.0
IMPACT_REACH_SAMPLES = 2
#: Consistency of the index with ``sampling_rate_hz``: the median step may differ by this fraction.
_RATE_TOLERANCE = 0.5
#: Spike scale: blocks of at least this many samples, each scaled from the residuals of its first samples.
_MIN_SPIKE_BLOCK = 32
_IMU_QUANTITIES = ("acc", "gyr")


def _gaps(time_s: np.ndarray, period_s: float) -> np.ndarray:
    """Indices ``i`` where the step to ``time_s[i + 1]`` exceeds ``GAP_FACTOR`` periods (read in chunks)."""
    found = [
        start + np.flatnonzero(np.diff(time_s[start : start + _CHUNK + 1]) > GAP_FACTOR * period_s)
        for start in range(0, len(time_s) - 1, _CHUNK)
    ]
    return np.concatenate(found)


def _gap_flags(time_s: np.ndarray, gaps: np.ndarray, period_s: float) -> list[tuple[str, float, float, str]]:
    steps = time_s[gaps + 1] - time_s[gaps]
    return [
        (
            "dropout",
            time_s[i],
            time_s[i + 1],
            f"gap of {step:.6g} s in the time index (~{round(step / period_s) - 1} samples missing)",
        )
        for i, step in zip(gaps, steps, strict=True)
    ]


@dataclass
class _ChannelState:
    """What the assessment of one channel keeps until the glitches are told from impacts across channels."""

    values: np.ndarray
    defects: list[Defect]
    glitches: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.intp))
    scale: np.ndarray = field(default_factory=lambda: np.zeros(1))


def _sensor(column: object) -> str | None:
    """``<location>`` of an acc/gyr channel (the IMU it belongs to), else ``None``."""
    try:
        channel = parse_channel(str(column))
    except ValidationError:
        return None
    return channel.location if channel.quantity in _IMU_QUANTITIES else None


def _is_emg(column: object) -> bool:
    try:
        return parse_channel(str(column)).quantity == "emg"
    except ValidationError:
        return False


class SignalQualityAssessment(BaseAlgorithm):
    """Flag the stretches of each channel that should not be trusted.

    Parameters
    ----------
    flat_line_min_s
        A run of identical consecutive values at least this long is a ``flat_line`` (sensor stuck, cable off).
    saturation_min_samples
        A run of at least this many samples at the channel's maximum or minimum is ``saturation`` (clipping),
        counted in updates where the signal holds each value for several samples, and only where the parabola
        through the 3 samples each side would overshoot the run by more than 2 quantisation steps: a smooth
        quantised signal that lingers on the level of its peak is not clipped.
    spike_threshold
        A sample that steps away from both neighbours and back, and whose departure from the cubic through its
        two neighbours each side exceeds this many times the local robust scale of that residual (blocks of
        ``spike_window_s / 5``, the median of 5 blocks) and this many times the residuals 3-4 samples away is a
        ``spike``: a glitch that jumps away and straight back, leaving both neighbours within a third of its
        departure (from the cubic through the samples 2-3 away). Impacts (heel strike), bursts and sharp
        motor-unit potentials have a shape over several samples and are not spikes; nor is a one-sample
        excursion of an IMU channel while another acc/gyr channel of the same sensor (same location) departs at
        least ``IMPACT_DEPARTURE`` (3) times its own local scale within ``IMPACT_REACH_SAMPLES`` (2) samples:
        an impact shakes the whole sensor, a glitch hits one channel.
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
    Saturation is judged from the data alone (the channel's own extremes and their surroundings).

    The EMG ``snr_db`` is ``10 log10(P90 / P10)`` of the power of the raw signal in consecutive windows of
    ``snr_window_s``, each window's own mean removed (its variance): bursts against the quietest tenth of the
    recording. Nothing is filtered out, so mains hum counts as noise: a channel dominated by 50/60 Hz has nearly
    the same power in every window and a low ratio. Windows holding NaN are left out. The local spike scale of
    each block comes from the residuals of its first 36 samples (a strided subsample).
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
        check_instance("data", data, pd.DataFrame, "a pandas DataFrame")
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
        # The median step of at most ~65k evenly spread steps: enough to tell the unit of the index.
        stride = max(1, len(time_s) // _CHUNK // 2)
        median_step = float(np.median(time_s[stride::stride] - time_s[stride - 1 : -1 : stride]))
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
        gap_at = _gaps(time_s, 1 / rate)
        gaps = _gap_flags(time_s, gap_at, 1 / rate)
        expected = len(time_s) + sum(round((end - start) * rate) - 1 for _, start, end, _ in gaps)
        block = max(_MIN_SPIKE_BLOCK, round(self.spike_window_s * rate / 5))
        states = {
            column: self._channel(data[column].to_numpy(dtype=np.float64), rate, gap_at, block)
            for column in data.columns
        }
        self._drop_impacts(states, block)
        rows, summary = [], {}
        for column, state in states.items():
            defects = state.defects + [
                ("spike", i, i + 1, f"glitch: one sample at {state.values[i]:.6g}, away from both neighbours and back")
                for i in state.glitches
            ]
            flags = [(flag, time_s[start], time_s[end - 1], detail) for flag, start, end, detail in defects]
            snr_db = np.nan
            if _is_emg(column):
                snr_db = self._emg_snr_db(state.values, rate)
                if snr_db < self.snr_min_db:
                    flags.append(("low_snr", time_s[0], time_s[-1], f"activity/rest power {snr_db:.1f} dB"))
            flags = gaps + flags
            rows += [(column, *flag) for flag in flags]
            counts = {f"n_{flag}": sum(row[0] == flag for row in flags) for flag in FLAGS}
            lo, hi = _merge(*_sorted_ranges(defects))
            usable = (len(time_s) - (hi - lo).sum()) / expected
            summary[column] = {"usable_fraction": usable, "snr_db": snr_db, **counts}
        self.flags_ = pd.DataFrame(rows, columns=list(FLAG_COLUMNS)).astype({"start_s": float, "end_s": float})
        self.summary_ = pd.DataFrame.from_dict(summary, orient="index").rename_axis("channel")
        return self

    def _channel(self, values: np.ndarray, rate: float, gap_at: np.ndarray, block: int) -> _ChannelState:
        """Defects of one channel (NaN runs, flat lines, saturation) and its glitch candidates."""
        defects: list[Defect] = []
        maxima, minima = _row_extremes(values)
        has_nan = bool(np.isnan(maxima).any())
        if has_nan:
            defects += _defects("nan_run", values, *_runs(np.isnan(values)), "{n} missing samples")
            maxima, minima = _nan_row_extremes(values)
        min_samples = max(2, int(np.ceil(self.flat_line_min_s * rate * (1 - 1e-9))))
        starts, ends = _flat_runs(values, min_samples)
        long = (ends - starts) / rate >= self.flat_line_min_s
        defects += _defects("flat_line", values, starts[long], ends[long], "{n} identical samples at {v:.6g}")
        finite = (~np.isnan(values)).sum() if has_nan else len(values)
        top, bottom = np.fmax.reduce(maxima), np.fmin.reduce(minima)
        if finite > 1 and top > bottom:
            for extreme, row_extremes in ((top, maxima), (bottom, minima)):
                runs = _extreme_runs(values, extreme, row_extremes, int(self.saturation_min_samples))
                clipped = _clipped(values, *runs, int(self.saturation_min_samples))
                runs = runs[0][clipped], runs[1][clipped]
                defects += _defects("saturation", values, *runs, "{n} samples clipped at {v:.6g}")
        state = _ChannelState(values, defects)
        if finite >= _MIN_SPIKE_BLOCK:
            # Samples in or next to a defect found so far, or across a time gap, are not judged.
            lo, hi = _sorted_ranges(defects)
            masked = _merge(*_sorted_ranges_with(lo - 1, hi + 1, np.r_[gap_at, gap_at + 1]))
            state.scale = _block_scale(values, block)
            floor = 1e-12 * max(abs(top), abs(bottom))
            state.glitches = self._glitches(values, state.scale, floor, block, masked)
        return state

    def _glitches(
        self, values: np.ndarray, scale: np.ndarray, floor: float, block: int, masked: tuple[np.ndarray, np.ndarray]
    ) -> np.ndarray:
        """Samples that jump away from both neighbours and straight back: glitches, not physiological transients.

        The residual from the cubic through the two neighbours each side must exceed ``spike_threshold`` times
        both the local robust scale of the residual and the residuals 3 and 4 samples away (outside the glitch's
        own footprint): an impact or a burst has a shape over several samples, a glitch has none. The steps into
        and out of it must have opposite signs and each be half the residual (a held sample followed by a double
        step, a timing stall, is not a glitch); of a cluster, the largest residual is kept.
        """
        limit = self.spike_threshold * np.maximum(scale, floor)
        candidates = _reversals(values, (limit / 2) ** 2, block)
        # The 5 samples around each candidate tell which jump out; the wider window then tells glitches.
        near = values.take(candidates[None, :] + np.arange(-2, 3)[:, None])
        candidates = candidates[_jumps_out(near, 2, limit[candidates // block])]
        if len(candidates) == 0:
            return candidates
        windows = _windows(values, candidates, 6, masked)
        magnitude = np.abs(_residuals(windows))  # offsets -4 .. +4
        around = np.nan_to_num(magnitude[[0, 1, 7, 8]]).max(axis=0)
        limit = np.maximum(limit[candidates // block], self.spike_threshold * around)
        largest = np.argmax(np.nan_to_num(magnitude[2:7]), axis=0) == 2
        glitch = _jumps_out(windows, 6, limit) & largest & _alone(windows, 6)
        return candidates[glitch]

    def _drop_impacts(self, states: dict[object, _ChannelState], block: int) -> None:
        """Drop the glitches of an IMU channel where another acc/gyr channel of the same sensor departs too."""
        sensors: dict[str, list[object]] = {}
        for column in states:
            location = _sensor(column)
            if location is not None:
                sensors.setdefault(location, []).append(column)
        no_mask = (np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp))
        reach = IMPACT_REACH_SAMPLES
        for columns in sensors.values():
            for column in columns:
                state = states[column]
                if len(state.glitches) == 0:
                    continue
                impact = np.zeros(len(state.glitches), dtype=bool)
                for other in (states[name] for name in columns if name != column):
                    windows = _windows(other.values, state.glitches, reach + 2, no_mask)
                    departure = np.abs(_residuals(windows))
                    scale = other.scale[np.minimum(state.glitches // block, len(other.scale) - 1)]
                    with np.errstate(invalid="ignore"):
                        impact |= (departure >= IMPACT_DEPARTURE * scale).any(axis=0)
                state.glitches = state.glitches[~impact]

    def _emg_snr_db(self, values: np.ndarray, rate: float) -> float:
        """Ratio in dB of activity (90th percentile) to rest (10th) of the windowed variance of the raw EMG."""
        window = max(2, round(self.snr_window_s * rate))
        n_windows = len(values) // window
        if n_windows < 2:
            return np.nan
        rows = values[: n_windows * window].reshape(n_windows, window)
        mean = rows.sum(axis=1) / window
        power = np.einsum("ij,ij->i", rows, rows) / window - mean**2
        power = power[np.isfinite(power)]
        if len(power) < 2:
            return np.nan
        rest, active = np.percentile(np.maximum(power, 0.0), [10, 90])
        if active <= 0:
            return -np.inf
        return float(10 * np.log10(active / rest)) if rest > 0 else np.inf
