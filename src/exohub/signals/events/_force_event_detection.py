"""Gait events from a foot force (load cell, insole, heel sensor) or a footswitch."""

from __future__ import annotations

import warnings
from typing import Self

import numpy as np
import pandas as pd

from exohub.exceptions import ExohubWarning
from exohub.signals.base import BaseEventDetection
from exohub.signals.events._common import check_frame, check_positive, check_sampling_rate, make_events

#: percentiles taken as the unloaded baseline and the loaded level when the threshold is relative.
BASELINE_PERCENTILE = 5.0
LOADED_PERCENTILE = 95.0
#: the longest a contact edge is moved from the threshold crossing to the unloaded level.
MAX_TIMING_SHIFT_S = 0.1


def schmitt_trigger(values: np.ndarray, *, low: float, high: float) -> np.ndarray:
    """Return the contact state per sample: on from the first sample >= ``high`` until the next one <= ``low``.

    Samples before the first decisive one take the state of that first decisive sample.
    """
    decided = np.where(values >= high, 1.0, np.where(values <= low, 0.0, np.nan))
    known = np.flatnonzero(~np.isnan(decided))
    if known.size == 0:
        return np.zeros(values.size, dtype=bool)
    last_known = np.maximum.accumulate(np.where(~np.isnan(decided), np.arange(values.size), known[0]))
    return decided[last_known].astype(bool)


def drop_short_runs(state: np.ndarray, *, value: bool, min_samples: int) -> np.ndarray:
    """Flip every run of ``value`` shorter than ``min_samples`` that lies between two runs of the other value."""
    if min_samples <= 1 or state.size == 0:
        return state
    edges = np.flatnonzero(np.diff(state.astype(np.int8))) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [state.size]])
    short = (state[starts] == value) & (ends - starts < min_samples) & (starts > 0) & (ends < state.size)
    flipped = state.copy()
    run_of = np.repeat(np.arange(starts.size), ends - starts)
    flipped[short[run_of]] = not value
    return flipped


def refine_edges(
    force: np.ndarray, starts: np.ndarray, ends: np.ndarray, *, level: float, max_shift: int
) -> tuple[np.ndarray, np.ndarray]:
    """Move each contact's start back, and its end forward, to where the force last (first) is at or below ``level``.

    Contacts are found with a threshold high enough to be robust; they are timed where the load leaves (returns to)
    the unloaded level, as force-plate events are. An edge moves at most ``max_shift`` samples (loading and unloading
    take well under 0.1 s in walking), never past the neighbouring contact; otherwise it stays (the sensor is still
    loaded there: the other foot on the same plate, a bias).
    """
    index = np.arange(force.size)
    below = force <= level
    last_below = np.maximum.accumulate(np.where(below, index, -1))
    first_below = np.minimum.accumulate(np.where(below, index, force.size)[::-1])[::-1]
    previous_end = np.concatenate([[0], ends])[np.searchsorted(ends, starts)]
    next_start = np.concatenate([starts, [force.size - 1]])[np.searchsorted(starts, ends)]
    candidate_starts, candidate_ends = last_below[starts] + 1, first_below[ends]
    new_starts = np.where(
        (candidate_starts > previous_end) & (starts - candidate_starts <= max_shift), candidate_starts, starts
    )
    new_ends = np.where((candidate_ends < next_start) & (candidate_ends - ends <= max_shift), candidate_ends, ends)
    return np.minimum(new_starts, starts), np.maximum(new_ends, ends)


def contact_edges(state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sample indices where contact starts and where it ends (first sample of the new state)."""
    change = np.diff(state.astype(np.int8))
    return np.flatnonzero(change == 1) + 1, np.flatnonzero(change == -1) + 1


class ForceEventDetection(BaseEventDetection):
    """Initial contact where the foot load crosses a threshold upward, final contact where it crosses downward.

    Parameters
    ----------
    threshold_n
        Absolute contact threshold in newtons. ``None``: relative, see ``relative_threshold``.
    relative_threshold
        With no ``threshold_n``: the threshold is ``baseline + relative_threshold x reference``, where the baseline
        is the 5th percentile of the force (the unloaded sensor) and the reference is ``body_weight_n`` when given,
        otherwise the loading range (95th minus 5th percentile).
    body_weight_n
        Body weight in newtons, the reference of a relative threshold; ``None`` uses the loading range.
    hysteresis
        Width of the hysteresis band as a fraction of the loading range, centred on the threshold: contact starts
        above ``threshold + band/2`` and ends below ``threshold - band/2``.
    timing_level
        Contacts found with the threshold are timed where the force crosses ``baseline + timing_level x loading
        range`` (the unloaded level, as force-plate events are timed), so the threshold can stay high enough to be
        robust without making the events late. ``0`` keeps the threshold crossings.
    min_contact_s, min_swing_s
        Debounce: a contact (or a swing) shorter than this, between two of the other kind, is absorbed by its
        neighbours; short swings (bounces, dropouts) are filled first. They apply to footswitches too.

    Attributes
    ----------
    events_
        ``event`` (``initial_contact`` | ``final_contact``) and ``time_s``: the first sample of each new state.
        A recording that starts (or ends) in contact does not make an event there.
    threshold_n_
        The threshold used (NaN for a footswitch).

    Other Parameters
    ----------------
    data
        DataFrame indexed by ``time_s`` with the column ``force`` (N, or any unit when the threshold is relative)
        or ``switch`` (0 = off, 1 = on; values above 0.5 count as on). ``force`` wins when both are present.
    sampling_rate_hz
        The sampling rate of ``data``.

    Notes
    -----
    Event times are quantised to samples: the error is below one sample period plus the time the load takes to
    rise through the upper half of the hysteresis band.
    """

    def __init__(
        self,
        threshold_n: float | None = None,
        relative_threshold: float = 0.2,
        body_weight_n: float | None = None,
        hysteresis: float = 0.05,
        timing_level: float = 0.05,
        min_contact_s: float = 0.1,
        min_swing_s: float = 0.1,
    ) -> None:
        self.threshold_n = threshold_n
        self.relative_threshold = relative_threshold
        self.body_weight_n = body_weight_n
        self.hysteresis = hysteresis
        self.timing_level = timing_level
        self.min_contact_s = min_contact_s
        self.min_swing_s = min_swing_s

    def detect(self, data: pd.DataFrame, *, sampling_rate_hz: float) -> Self:
        """Find the events in ``data``; set ``events_`` and ``threshold_n_``."""
        rate = check_sampling_rate(sampling_rate_hz)
        check_positive("relative_threshold", self.relative_threshold)
        check_positive("min_contact_s", self.min_contact_s)
        check_positive("min_swing_s", self.min_swing_s)
        if not 0 <= self.hysteresis < 1:
            raise ValueError(f"hysteresis must be a fraction in [0, 1), got {self.hysteresis!r}.")
        time_s = check_frame(data, required=[], one_of=["force", "switch"])
        self.data, self.sampling_rate_hz = data, rate
        force = data["force"].to_numpy(dtype=np.float64) if "force" in data.columns else None
        if force is not None:
            state = self._force_state(force)
        else:
            self.threshold_n_ = float("nan")
            state = data["switch"].to_numpy(dtype=np.float64) > 0.5
        # gaps inside a contact (bounce, dropout) are filled first, so they cannot split a contact into short pieces
        state = drop_short_runs(state, value=False, min_samples=round(self.min_swing_s * rate))
        state = drop_short_runs(state, value=True, min_samples=round(self.min_contact_s * rate))
        starts, ends = contact_edges(state)
        if force is not None and self.timing_level > 0:
            baseline, loaded = np.percentile(force, [BASELINE_PERCENTILE, LOADED_PERCENTILE])
            level = baseline + self.timing_level * (loaded - baseline)
            starts, ends = refine_edges(force, starts, ends, level=level, max_shift=round(MAX_TIMING_SHIFT_S * rate))
        self.events_ = make_events(time_s[starts], time_s[ends])
        return self

    def _force_state(self, force: np.ndarray) -> np.ndarray:
        baseline, loaded = np.percentile(force, [BASELINE_PERCENTILE, LOADED_PERCENTILE])
        loading_range = float(loaded - baseline)
        if self.threshold_n is not None:
            threshold = float(self.threshold_n)
        else:
            if self.body_weight_n is not None:
                reference = check_positive("body_weight_n", self.body_weight_n)
            else:
                reference = loading_range
            threshold = float(baseline) + self.relative_threshold * reference
        self.threshold_n_ = threshold
        if loading_range <= 0:
            warnings.warn(
                "column 'force' is flat (95th percentile equals the 5th): no loading, so no events.",
                ExohubWarning,
                stacklevel=3,
            )
            return np.zeros(force.size, dtype=bool)
        band = self.hysteresis * loading_range
        return schmitt_trigger(force, low=threshold - band / 2, high=threshold + band / 2)
