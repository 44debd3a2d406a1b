"""Signal quality: where a recording has dropouts, NaN runs, flat lines, clipping, spikes or (EMG) too little signal.

Each channel is read in place (a pandas column is a contiguous view: nothing is copied) and every full-length step
is either a reduction (extremes, block sums) or a pass in cache-sized chunks; the exact, costlier tests (flat-line
runs, the shape of a spike) run only where a cheap necessary condition holds. An hour of 8 EMG channels at 2 kHz
plus 22 channels at 200 Hz takes a fraction of a second on one core (``benchmarks/bench_emg.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

import numpy as np
import pandas as pd

from exohub._utils._checks import check_sampling_rate, validate_type
from exohub.exceptions import ValidationError
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
_MAD_TO_SD = 1.4826
#: Spike scale: blocks of at least this many samples, each scaled from the residuals of its first samples.
_MIN_SPIKE_BLOCK = 32
_SCALE_SAMPLES = 32
#: Samples per chunk of the full-length passes: their temporaries stay in cache.
_CHUNK = 1 << 15
#: Rows of the search for a channel's extremes: only rows that reach one are compared sample by sample.
_ROW = 1 << 10
_IMU_QUANTITIES = ("acc", "gyr")
#: The cubic through the samples at -3, -2, +2, +3 evaluated at 0 and at -1 (Lagrange weights).
_CENTRE_WEIGHTS = np.array([-0.4, 0.9, 0.9, -0.4])
_BEFORE_WEIGHTS = np.array([-0.4, 1.2, 0.4, -0.2])
#: Samples each side of a run at an extreme in which the hold (samples per distinct value) is measured.
_HOLD_REACH = 32

#: One defect of a channel: flag, first sample, end sample (exclusive), detail.
Defect = tuple[str, int, int, str]


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) indices of the runs of ``True`` in a 1-D boolean array."""
    edges = np.diff(mask.astype(np.int8), prepend=0, append=0)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _consecutive_runs(index: np.ndarray, min_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Runs of consecutive integers in the sorted ``index``, at least ``min_length`` long, as (start, end) ranges."""
    if len(index) == 0:
        return index, index
    breaks = np.flatnonzero(np.diff(index) != 1) + 1
    first, last = np.r_[0, breaks], np.r_[breaks, len(index)]
    keep = last - first >= min_length
    return index[first[keep]], index[last[keep] - 1] + 1


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


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The sample indices of the sorted, disjoint ranges ``[lo, hi)`` concatenated."""
    lengths = hi - lo
    return np.arange(lengths.sum()) + np.repeat(lo - np.cumsum(lengths) + lengths, lengths)


def _merge(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of the ranges ``[lo, hi)`` (sorted by ``lo``) as sorted disjoint ranges."""
    if len(lo) == 0:
        return lo, hi
    reach = np.maximum.accumulate(hi)
    new = np.r_[True, lo[1:] > reach[:-1]]
    return lo[new], np.maximum.reduceat(hi, np.flatnonzero(new))


def _flat_runs(values: np.ndarray, min_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Runs of at least ``min_samples`` identical consecutive values, as (start, end) ranges.

    Such a run holds two consecutive samples of ``values[::stride]`` (``stride <= min_samples / 2``): only the
    neighbourhoods of equal pairs of that subsample are searched sample by sample.
    """
    stride = max(1, min_samples // 2)
    coarse = values[::stride]
    pairs = np.flatnonzero(coarse[1:] == coarse[:-1])
    lo, hi = _merge(
        np.maximum(pairs * stride - min_samples, 0), np.minimum((pairs + 1) * stride + min_samples, len(values))
    )
    index = _ranges(lo, hi)
    local = values[index]
    same = (local[1:] == local[:-1]) & (index[1:] == index[:-1] + 1)
    starts, ends = _runs(same)
    starts, ends = index[starts], index[ends - 1] + 2  # k equal steps cover k + 1 samples
    keep = ends - starts >= min_samples
    return starts[keep], ends[keep]


def _row_extremes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum and minimum of each row of ``_ROW`` samples (the last row may be shorter); NaN if a row holds NaN."""
    n_rows = len(values) // _ROW
    rows = values[: n_rows * _ROW].reshape(n_rows, _ROW)
    tail = values[n_rows * _ROW :]
    maxima, minima = rows.max(axis=1, initial=-np.inf), rows.min(axis=1, initial=np.inf)
    if len(tail):
        maxima, minima = np.r_[maxima, tail.max()], np.r_[minima, tail.min()]
    return maxima, minima


def _extreme_runs(
    values: np.ndarray, extreme: float, row_extremes: np.ndarray, min_samples: int
) -> tuple[np.ndarray, np.ndarray]:
    """Runs of at least ``min_samples`` samples equal to ``extreme``, as (start, end) ranges.

    Only the rows of ``_ROW`` samples whose own extreme (``row_extremes``) is ``extreme`` are compared.
    """
    hits = [
        row * _ROW + np.flatnonzero(values[row * _ROW : (row + 1) * _ROW] == extreme)
        for row in np.flatnonzero(row_extremes == extreme)
    ]
    return _consecutive_runs(np.concatenate(hits), min_samples)


def _residuals(windows: np.ndarray) -> np.ndarray:
    """Cubic residual along the first axis: a sample minus the cubic through its neighbours at -2, -1, +1, +2.

    That is the fourth difference over 6; the result is 4 rows shorter than ``windows`` (samples x candidates,
    so that every operation runs along long rows).
    """
    return np.diff(windows, 4, axis=0) / 6


def _block_scale(values: np.ndarray, block: int) -> np.ndarray:
    """Robust SD of the cubic residual per block of ``block`` samples, then the median of the 5 blocks around each.

    A block's own SD is ``1.4826 x median |residual|`` over its first ``_SCALE_SAMPLES`` samples (all of them in
    blocks of up to 32, a strided subsample of longer ones); NaN residuals (at the ends, next to NaN) are left
    out and a block without any has 0. Read in chunks of whole blocks so that the temporaries stay in cache.
    """
    n = len(values)
    used = min(block, _SCALE_SAMPLES)
    chunk = block * max(1, _CHUNK // (used + 4))
    scale = []
    for start in range(0, n, chunk):
        n_blocks = -(-(min(start + chunk, n) - start) // block)
        part = values[max(start - 2, 0) : start + n_blocks * block + 2]
        if len(part) < n_blocks * block + 4:  # the ends of the channel: no residual
            before = 2 - min(start, 2)
            part = np.r_[np.full(before, np.nan), part, np.full(n_blocks * block + 4 - len(part) - before, np.nan)]
        if block >= used + 4:  # the first used + 4 samples of each block, laid end to end
            part = np.ascontiguousarray(part[: n_blocks * block].reshape(n_blocks, block)[:, : used + 4]).ravel()
            stride = used + 4
        else:
            stride = block
        magnitude = np.abs(np.diff(part, 4))  # 6 x |residual|; rows straddling two blocks are dropped below
        rows = np.lib.stride_tricks.as_strided(
            magnitude, shape=(n_blocks, used), strides=(stride * magnitude.itemsize, magnitude.itemsize)
        )
        scale.append(_row_median(rows))
    padded = np.pad(_MAD_TO_SD / 6 * np.concatenate(scale), 2, mode="edge")
    return np.sort(np.lib.stride_tricks.sliding_window_view(padded, 5), axis=1)[:, 2]  # median of 5


def _row_median(magnitude: np.ndarray) -> np.ndarray:
    """Median of each row, NaN ignored; 0 for a row without a finite value (sorting short rows is the fastest)."""
    ordered = np.sort(magnitude, axis=1)  # NaN last
    width = ordered.shape[1]
    if not np.isnan(ordered[:, -1]).any():
        return (ordered[:, (width - 1) // 2] + ordered[:, width // 2]) / 2
    counts = (~np.isnan(ordered)).sum(axis=1)
    low = np.take_along_axis(ordered, np.maximum(counts - 1, 0)[:, None] // 2, axis=1)[:, 0]
    high = np.take_along_axis(ordered, counts[:, None] // 2 - (counts[:, None] == 0), axis=1)[:, 0]
    return np.where(counts > 0, (low + high) / 2, 0.0)


def _nan_row_extremes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`_row_extremes` with NaN ignored (NaN only for a row without a number)."""
    n_rows = -(-len(values) // _ROW)
    padded = np.full(n_rows * _ROW, np.nan)
    padded[: len(values)] = values
    rows = padded.reshape(n_rows, _ROW)
    return np.fmax.reduce(rows, axis=1), np.fmin.reduce(rows, axis=1)


def _reversals(values: np.ndarray, limit2: np.ndarray, block: int) -> np.ndarray:
    """Samples whose steps in and out have opposite signs and a product below ``-limit2`` of their block.

    A necessary condition of a glitch: both its steps are at least half its residual, which exceeds the limit.
    Read in chunks of whole blocks so that the temporaries stay in cache.
    """
    n = len(values)
    chunk = block * max(1, 2 * _CHUNK // block)
    found = []
    with np.errstate(invalid="ignore"):
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            steps = np.diff(values[max(start - 1, 0) : stop + 1])
            if start == 0 or stop == n:
                steps = np.r_[np.full(int(start == 0), np.nan), steps, np.full(int(stop == n), np.nan)]
            product = steps[:-1] * steps[1:]
            if stop - start == chunk:
                hit = product.reshape(-1, block) < -limit2[start // block : stop // block, None]
            else:
                hit = product < -np.repeat(limit2[start // block :], block)[: stop - start]
            found.append(start + np.flatnonzero(hit))
    found = np.concatenate(found)
    return found[(found >= 2) & (found < n - 2)]  # a glitch has two neighbours each side


def _windows(values: np.ndarray, centres: np.ndarray, reach: int, masked: tuple[np.ndarray, np.ndarray]):
    """Samples ``centre - reach .. centre + reach`` as rows x centres; NaN outside the channel and where masked.

    ``masked`` holds sorted, disjoint sample ranges ``[lo, hi)``; only the windows that meet one are masked
    sample by sample.
    """
    index = centres[None, :] + np.arange(-reach, reach + 1)[:, None]
    windows = values.take(index, mode="clip")
    edge = (centres < reach) | (centres >= len(values) - reach)
    lo, hi = masked
    if len(lo):
        k = np.searchsorted(lo, centres + reach, side="right") - 1
        edge |= (k >= 0) & (hi[np.maximum(k, 0)] > centres - reach)
    if edge.any():
        sub = index[:, edge]
        hidden = (sub < 0) | (sub >= len(values))
        if len(lo):
            k = np.searchsorted(lo, sub, side="right") - 1
            hidden |= (k >= 0) & (sub < hi[np.maximum(k, 0)])
        windows[:, edge] = np.where(hidden, np.nan, windows[:, edge])
    return windows


def _jumps_out(windows: np.ndarray, centre: int, limit: np.ndarray) -> np.ndarray:
    """Whether the sample in row ``centre`` has a cubic residual above ``limit`` and steps away and back.

    The steps into and out of it have opposite signs and are each at least half the residual.
    """
    own = np.abs(_residuals(windows[centre - 2 : centre + 3]))[0]
    step_in, step_out = windows[centre] - windows[centre - 1], windows[centre + 1] - windows[centre]
    with np.errstate(invalid="ignore"):
        away_and_back = (step_in * step_out < 0) & (np.fmin(np.abs(step_in), np.abs(step_out)) >= own / 2)
        return (own > limit) & away_and_back


def _alone(windows: np.ndarray, centre: int) -> np.ndarray:
    """Whether the excursion of the sample in row ``centre`` leaves its two neighbours behind.

    Departures from the cubic through the samples 2 and 3 away on each side: a neighbour that shares more than a
    third of the centre's departure, in its direction, makes the excursion a short bump (a sharp EMG motor-unit
    potential at 1 kHz spans 3 samples), not a one-sample glitch.
    """
    outer = windows[[centre - 3, centre - 2, centre + 2, centre + 3]]
    departure = windows[centre] - _CENTRE_WEIGHTS @ outer
    before = windows[centre - 1] - _BEFORE_WEIGHTS @ outer
    after = windows[centre + 1] - _BEFORE_WEIGHTS[::-1] @ outer
    direction = np.sign(departure)
    with np.errstate(invalid="ignore"):
        return (before * direction < np.abs(departure) / 3) & (after * direction < np.abs(departure) / 3)


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


def _defects(flag: str, values: np.ndarray, starts: np.ndarray, ends: np.ndarray, detail: str) -> list[Defect]:
    return [
        (flag, int(start), int(end), detail.format(n=end - start, v=values[start]))
        for start, end in zip(starts, ends, strict=True)
    ]


def _clipped(values: np.ndarray, starts: np.ndarray, ends: np.ndarray, min_updates: int) -> np.ndarray:
    """Which runs ``[start, end)`` at an extreme look clipped rather than like a quantised turning point.

    A run must last ``min_updates`` updates of the signal: where it holds each value for several samples
    (``hold``: samples per distinct value within ``_HOLD_REACH`` samples each side), a run of ``length`` samples
    lasts ``length / hold`` updates. And the parabola through the 3 samples each side of the run must bend back
    towards the rest of the signal and overshoot the run's value by more than 2 quantisation steps (the smallest
    non-zero step nearby): a clipped signal would have gone on, a smooth one peaking between two quantisation
    levels stays there a few samples.
    """
    keep = np.zeros(len(starts), dtype=bool)
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        before, after = values[max(start - _HOLD_REACH, 0) : start], values[end : end + _HOLD_REACH]
        if len(before) < 3 or len(after) < 3:
            keep[k] = True  # at the ends of the recording: nothing to tell it by
            continue
        distinct = sum(1 + np.count_nonzero(side[1:] != side[:-1]) for side in (before, after))
        updates = (end - start) * distinct / (len(before) + len(after))
        steps = np.abs(np.diff(np.r_[before, values[start], after]))
        quantum = steps[steps > 0].min(initial=np.inf)
        time = np.r_[np.arange(-3, 0), np.arange(end - start, end - start + 3)]
        curve = np.polynomial.Polynomial.fit(time, np.r_[before[-3:], after[:3]], 2).convert().coef
        direction = np.sign(values[start] - np.median(np.r_[before, after]))  # +1 at the maximum
        bends_back = len(curve) == 3 and curve[2] * direction < 0
        peak = curve[0] - curve[1] ** 2 / (4 * curve[2]) if bends_back else values[start]
        keep[k] = updates >= min_updates and (peak - values[start]) * direction > 2 * quantum
    return keep


def _sorted_ranges(defects: list[Defect]) -> tuple[np.ndarray, np.ndarray]:
    """The sample ranges ``[start, end)`` of ``defects``, sorted by start."""
    lo = np.array([start for _, start, _, _ in defects], dtype=np.intp)
    hi = np.array([end for _, _, end, _ in defects], dtype=np.intp)
    order = np.argsort(lo, kind="stable")
    return lo[order], hi[order]


def _sorted_ranges_with(lo: np.ndarray, hi: np.ndarray, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ranges ``[lo, hi)`` plus one single-sample range per entry of ``samples``, sorted by start."""
    lo, hi = np.r_[lo, samples].astype(np.intp), np.r_[hi, samples + 1].astype(np.intp)
    order = np.argsort(lo, kind="stable")
    return lo[order], hi[order]
