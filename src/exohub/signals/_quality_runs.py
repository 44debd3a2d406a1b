"""Sample ranges of a channel's defects: runs, flat lines and saturation, for :mod:`exohub.signals.quality`.

The range helpers (runs of a mask, union of ranges) and the searches for flat lines and clipped extremes; the
full-length passes read the channel in rows or chunks so that their temporaries stay in cache.
"""

from __future__ import annotations

import numpy as np

#: Samples per chunk of the full-length passes: their temporaries stay in cache.
_CHUNK = 1 << 15
#: Rows of the search for a channel's extremes: only rows that reach one are compared sample by sample.
_ROW = 1 << 10
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


def _nan_row_extremes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`_row_extremes` with NaN ignored (NaN only for a row without a number)."""
    n_rows = -(-len(values) // _ROW)
    padded = np.full(n_rows * _ROW, np.nan)
    padded[: len(values)] = values
    rows = padded.reshape(n_rows, _ROW)
    return np.fmax.reduce(rows, axis=1), np.fmin.reduce(rows, axis=1)


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
