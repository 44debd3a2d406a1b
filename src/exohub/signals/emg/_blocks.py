"""Block means of rectified (or squared) EMG: the first, anti-aliasing step of envelopes computed at a reduced rate.

An envelope has a bandwidth of a few Hz, so it need not be computed at the 1-2 kHz of the raw EMG. Averaging
``|x|`` over consecutive blocks of ``k`` samples is a boxcar filter followed by keeping one value in ``k``: the
boxcar's nulls fall on multiples of ``rate / k``, exactly where rectified-EMG power would fold onto 0 Hz, so what
aliases into the envelope band (a few Hz either side of those nulls) is attenuated by about ``f / (rate / k)``.
"""

from __future__ import annotations

import numpy as np

#: Samples per channel read at a time, so that the rectified chunk stays in cache.
_CHUNK_SAMPLES = 1 << 15


def block_size(sampling_rate_hz: float, rate_hz: float | None) -> int:
    """Samples per block to go from ``sampling_rate_hz`` to about ``rate_hz`` (1 when ``rate_hz`` is ``None``)."""
    if rate_hz is None:
        return 1
    if isinstance(rate_hz, bool) or not np.isfinite(rate_hz) or rate_hz <= 0:
        raise ValueError(f"The envelope rate must be a finite positive number of Hz or None, got {rate_hz!r}.")
    return max(1, round(sampling_rate_hz / rate_hz))


def _sum_blocks(chunk: np.ndarray, k: int, out: np.ndarray | None = None) -> np.ndarray:
    """Sums of consecutive ``k`` samples along the last axis of ``chunk`` (whose length is a multiple of ``k``).

    A matrix-vector product with ``ones(k)``: BLAS streams the short blocks far faster than a reduction over a
    short last axis.
    """
    return np.matmul(chunk.reshape(chunk.shape[0], -1, k), np.ones(k), out=out)


def block_sums(values: np.ndarray, k: int, *, square: bool = False) -> np.ndarray:
    """``(n_samples // k, n_channels)`` sums of ``|values|`` (or ``values ** 2``) over consecutive blocks of ``k``.

    ``values`` is ``(n_samples, n_channels)``; a trailing part shorter than ``k`` is left out. Read channels-first
    in cache-sized chunks, so an hour of EMG is rectified and summed in one pass without an hour-long temporary.
    """
    rows = values.T if values.T.flags.c_contiguous else np.ascontiguousarray(values.T)
    n_blocks = rows.shape[1] // k
    out = np.empty((rows.shape[0], n_blocks))
    step = max(k, _CHUNK_SAMPLES // k * k)
    buffer = np.empty((rows.shape[0], step))
    transform = np.square if square else np.abs
    for start in range(0, n_blocks * k, step):
        stop = min(start + step, n_blocks * k)
        chunk = buffer[:, : stop - start]
        transform(rows[:, start:stop], out=chunk)
        _sum_blocks(chunk, k, out=out[:, start // k : stop // k])
    return out.T


def merge_blocks(sums: np.ndarray, m: int) -> np.ndarray:
    """Sums of ``m`` consecutive rows of ``sums`` (blocks of ``k`` to blocks of ``m * k``); a short tail is dropped."""
    if m == 1:
        return sums
    rows = np.ascontiguousarray(sums.T)
    return _sum_blocks(rows[:, : rows.shape[1] // m * m], m).T


def block_times(time_s: np.ndarray, k: int, n_blocks: int, *, causal: bool) -> np.ndarray:
    """Time of each block: its centre (mean of first and last sample time), or its last sample when ``causal``."""
    last = time_s[k - 1 : n_blocks * k : k]
    return last if causal else (time_s[0 : n_blocks * k : k] + last) / 2
