"""Offline gait phase: linear in time between consecutive initial contacts."""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from exohub.signals.base import BasePhaseEstimation
from exohub.signals.consts import TIME_COLUMN
from exohub.signals.phase._checks import check_stride_limit, check_time_s

DEFAULT_MAX_STRIDE_TIME_S = 2.5


def compute_phase_from_events(
    time_s: ArrayLike, ic_times_s: ArrayLike, *, max_stride_time_s: float = DEFAULT_MAX_STRIDE_TIME_S
) -> np.ndarray:
    """Return the phase in [0, 1) at ``time_s``, interpolated linearly between consecutive initial contacts.

    Parameters
    ----------
    time_s
        Sample times in seconds, strictly increasing.
    ic_times_s
        Times of the anchor event (phase 0), strictly increasing; usually initial contacts.
    max_stride_time_s
        Intervals between anchors longer than this are gaps (standing, a pause, missed events): NaN there.

    Returns
    -------
    numpy.ndarray
        Phase per sample; NaN before the first anchor, from the last one on, and over gaps.
    """
    times = check_time_s(time_s)
    anchors = check_time_s(ic_times_s, "ic_times_s") if np.size(ic_times_s) else np.empty(0)
    limit = check_stride_limit("max_stride_time_s", max_stride_time_s)
    phase = np.full(times.size, np.nan)
    if anchors.size < 2:
        return phase
    stride = np.searchsorted(anchors, times, side="right") - 1
    inside = (stride >= 0) & (stride < anchors.size - 1)
    start = anchors[stride[inside]]
    duration = anchors[stride[inside] + 1] - start
    values = (times[inside] - start) / duration
    values[duration > limit] = np.nan
    phase[inside] = values
    return phase


class EventPhaseEstimation(BasePhaseEstimation):
    """Offline phase between consecutive anchor events (initial contacts): the reference most labels use.

    Parameters
    ----------
    max_stride_time_s
        Intervals longer than this are gaps and get NaN.

    Attributes
    ----------
    phase_
        ``pandas.Series`` named ``phase`` indexed by ``time_s``, in [0, 1), NaN outside strides.

    Other Parameters
    ----------------
    time_s
        Sample times (s).
    ic_times_s
        Anchor event times (s), e.g. the ``initial_contact`` rows of a detector's ``events_``.

    Notes
    -----
    Non-causal: the phase of a sample needs the next event. Vectorised, about 20 ms per hour at 200 Hz.
    """

    def __init__(self, max_stride_time_s: float = DEFAULT_MAX_STRIDE_TIME_S) -> None:
        self.max_stride_time_s = max_stride_time_s

    def estimate(self, time_s: ArrayLike, ic_times_s: ArrayLike) -> Self:
        """Interpolate the phase; set ``phase_``."""
        self.time_s, self.ic_times_s = time_s, ic_times_s
        phase = compute_phase_from_events(time_s, ic_times_s, max_stride_time_s=self.max_stride_time_s)
        index = pd.Index(np.asarray(time_s, dtype=np.float64), name=TIME_COLUMN)
        self.phase_ = pd.Series(phase, index=index, name="phase")
        return self
