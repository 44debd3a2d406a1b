"""One-sample glitches of a channel for :mod:`exohub.signals.quality`: the local residual scale, the spike tests.

A glitch jumps away from both neighbours and straight back; the residual from the cubic through its neighbours,
its local robust scale and the shape of its surroundings tell it from impacts, bursts and motor-unit potentials.
"""

from __future__ import annotations

import numpy as np

from exohub.signals._quality_runs import _CHUNK

_MAD_TO_SD = 1.4826
#: Each spike-scale block is scaled from the residuals of its first this many samples.
_SCALE_SAMPLES = 32
#: The cubic through the samples at -3, -2, +2, +3 evaluated at 0 and at -1 (Lagrange weights).
_CENTRE_WEIGHTS = np.array([-0.4, 0.9, 0.9, -0.4])
_BEFORE_WEIGHTS = np.array([-0.4, 1.2, 0.4, -0.2])


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
