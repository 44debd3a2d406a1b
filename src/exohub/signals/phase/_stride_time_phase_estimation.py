"""Causal gait phase: time since the last initial contact over the mean of the last stride times."""

from __future__ import annotations

import math
from collections import deque
from typing import Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from exohub.exceptions import ValidationError
from exohub.signals.base import BasePhaseEstimation
from exohub.signals.consts import TIME_COLUMN
from exohub.signals.phase._checks import check_stride_limit, check_time_s
from exohub.signals.phase._event_phase_estimation import DEFAULT_MAX_STRIDE_TIME_S

#: the largest phase a causal estimate returns while it waits for the next initial contact.
MAX_PHASE = float(np.nextafter(1.0, 0.0))


class StrideTimePhaseEstimation(BasePhaseEstimation):
    """Phase = time since the last initial contact / mean duration of the last ``n_strides`` strides, below 1.

    The classic time-based estimator of hip exoskeletons. It meets
    :class:`~exohub.signals.phase.GaitPhaseEstimator`: the loop calls :meth:`reset`, then :meth:`step` every tick
    with a flag saying whether an initial contact was detected at that tick. :meth:`estimate` runs the same rules
    over a whole recording, vectorised and exactly equal to stepping sample by sample.

    Parameters
    ----------
    n_strides
        How many of the most recent stride times are averaged.
    min_stride_time_s
        An initial contact sooner than this after the previous one is ignored (a spurious detection).
    max_stride_time_s
        A stride longer than this is a gap (standing, pause): the stride history is cleared and the phase is NaN
        until a stride is known again; the phase is also NaN once this long has passed without a contact.

    Attributes
    ----------
    phase_
        From :meth:`estimate`: ``pandas.Series`` named ``phase`` indexed by ``time_s``; NaN until two initial
        contacts have been seen (one stride time), and over gaps.

    Other Parameters
    ----------------
    time_s
        Sample times (s).
    ic_times_s
        Times of the initial contacts (s), i.e. of the anchor events themselves.
    detected_at_s
        When each contact became known to a causal detector (s), ``>= ic_times_s``; by default at its own time.
        The phase runs from the contact's own time, so a detection delay costs nothing once it has passed; until
        then the previous stride's phase stays clipped just below 1.

    Notes
    -----
    With perfectly timed contacts its error is that of assuming this stride lasts as long as the last ones.
    """

    def __init__(
        self,
        n_strides: int = 3,
        min_stride_time_s: float = 0.4,
        max_stride_time_s: float = DEFAULT_MAX_STRIDE_TIME_S,
    ) -> None:
        self.n_strides = n_strides
        self.min_stride_time_s = min_stride_time_s
        self.max_stride_time_s = max_stride_time_s
        self.reset()

    def reset(self) -> None:
        """Forget every contact and stride time."""
        self._check_params()
        self._strides: deque[float] = deque(maxlen=self.n_strides)
        self._last_ic_s = math.nan

    def step(self, time_s: float, ic_detected: bool, ic_time_s: float | None = None) -> float:
        """Take one tick; ``ic_time_s`` is the contact's own time when the detector reports it late."""
        if ic_detected:
            self._on_contact(time_s if ic_time_s is None else ic_time_s)
        if not self._strides:
            return math.nan
        elapsed = time_s - self._last_ic_s
        if elapsed > self.max_stride_time_s:
            return math.nan
        return min(max(elapsed, 0.0) * len(self._strides) / sum(self._strides), MAX_PHASE)

    def estimate(self, time_s: ArrayLike, ic_times_s: ArrayLike, *, detected_at_s: ArrayLike | None = None) -> Self:
        """Run the causal estimator over a recording; set ``phase_``."""
        self.reset()
        times = check_time_s(time_s)
        anchors = check_time_s(ic_times_s, "ic_times_s") if np.size(ic_times_s) else np.empty(0)
        known = anchors if detected_at_s is None else np.asarray(detected_at_s, dtype=np.float64)
        if known.shape != anchors.shape or np.any(known < anchors) or np.any(np.diff(known) < 0):
            raise ValidationError(
                "detected_at_s must have one non-decreasing time per initial contact, none before its contact."
            )
        self.time_s, self.ic_times_s, self.detected_at_s = time_s, ic_times_s, detected_at_s
        last_ic, mean_stride = self._state_after_each_contact(anchors)
        phase = np.full(times.size, np.nan)
        event = np.searchsorted(known, times, side="right") - 1
        seen = event >= 0
        elapsed = times[seen] - last_ic[event[seen]]
        values = np.minimum(np.maximum(elapsed, 0.0) / mean_stride[event[seen]], MAX_PHASE)
        values[elapsed > self.max_stride_time_s] = np.nan
        phase[seen] = values
        self.reset()
        self.phase_ = pd.Series(phase, index=pd.Index(times, name=TIME_COLUMN), name="phase")
        return self

    def _on_contact(self, ic_time_s: float) -> None:
        if math.isnan(self._last_ic_s):
            self._last_ic_s = ic_time_s
            return
        stride = ic_time_s - self._last_ic_s
        if stride < self.min_stride_time_s:
            return
        if stride > self.max_stride_time_s:
            self._strides.clear()
        else:
            self._strides.append(stride)
        self._last_ic_s = ic_time_s

    def _state_after_each_contact(self, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The last contact and the mean stride time right after each contact (a loop over contacts, not samples)."""
        last_ic = np.empty(anchors.size)
        mean_stride = np.empty(anchors.size)
        for index, anchor in enumerate(anchors.tolist()):
            self._on_contact(anchor)
            last_ic[index] = self._last_ic_s
            mean_stride[index] = sum(self._strides) / len(self._strides) if self._strides else math.nan
        return last_ic, mean_stride

    def _check_params(self) -> None:
        if not isinstance(self.n_strides, int | np.integer) or isinstance(self.n_strides, bool) or self.n_strides < 1:
            raise ValueError(f"n_strides must be a positive integer, got {self.n_strides!r}.")
        low = check_stride_limit("min_stride_time_s", self.min_stride_time_s)
        high = check_stride_limit("max_stride_time_s", self.max_stride_time_s)
        if low >= high:
            raise ValueError(f"min_stride_time_s ({low}) must be below max_stride_time_s ({high}).")
