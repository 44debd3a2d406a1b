"""Causal detection of hip (or thigh) angle extremes: an alternating peak/trough tracker with adaptive hysteresis."""

from __future__ import annotations

import math
from typing import Self

import numpy as np
import pandas as pd

from exohub._utils._checks import check_option
from exohub.signals.base import BaseAlgorithm
from exohub.signals.consts import MAX_STRIDE_TIME_S
from exohub.signals.events._common import check_frame, check_positive, check_sampling_rate, make_events

#: How many of the latest stride times the refractory period averages.
N_STRIDES_AVERAGED = 3
#: Default hysteresis fraction per event. Maximum extension: chosen by leave-one-subject-out validation on the
#: hip-exoskeleton data (every fold chose 0.3; ``benchmarks/validate_phase.py``); stance humps reach 10-25 % of the
#: swing. Maximum flexion: after its late-swing peak the hip or thigh falls only a few degrees before heel strike,
#: so a large hysteresis would confirm it late; 0.05 keeps the latency near 60-80 ms on lee2021 thigh angles.
DEFAULT_HYSTERESIS_FRACTION = {"initial_contact": 0.05, "final_contact": 0.3}
#: Default smallest hysteresis per event (rad): 0.1 (6 degrees, larger than the stance humps of small swings) for
#: maximum extension, the hip-exoskeleton data's choice; 0.03 (1.7 degrees) for maximum flexion, for its latency.
DEFAULT_MIN_RANGE_RAD = {"initial_contact": 0.03, "final_contact": 0.1}


class StreamingAngleEventDetection(BaseAlgorithm):
    """Causal detector of flexion maxima (initial contact) or extension maxima on a flexion-positive angle.

    The detector alternates between seeking a trough and seeking a peak of the angle (a Schmitt trigger on the
    turning points). An extreme is confirmed once the angle has moved back from it by the hysteresis
    ``max(min_range_rad, hysteresis_fraction x range)``, where ``range`` is the latest peak-to-trough swing: a
    plateau or a hump in the stance ramp (loading response, a stair edge, assisted walking) is smaller than a
    fraction of the stride's swing and is skipped, and the threshold follows the stride as walking turns into
    stair climbing and back. Only the extremes of the kind asked for are reported.

    Parameters
    ----------
    event
        ``"initial_contact"``: maxima of flexion; ``"final_contact"``: maxima of extension (minima of the angle).
    hysteresis_fraction
        Fraction of the latest swing (peak to trough) the angle must move back from an extreme to confirm it; in
        (0, 1). Larger skips bigger humps but confirms later. ``None``: :data:`DEFAULT_HYSTERESIS_FRACTION` of
        the event (0.3 for maximum extension, 0.05 for maximum flexion).
    min_range_rad
        The smallest hysteresis, used until a swing is known: an extreme counts only once the angle has moved this
        far from it; standing still and sensor noise make no events; walking hips move 35-50 degrees. ``None``:
        :data:`DEFAULT_MIN_RANGE_RAD` of the event (0.1 rad for maximum extension, 0.03 rad for maximum flexion).
    min_stride_fraction
        Refractory period relative to the mean of the last three stride times: an extreme sooner than this
        fraction of a stride after the previous event is not reported (a double peak within one stride); 0 turns
        it off.
    min_stride_time_s
        Absolute refractory period, for the first strides and as a floor.

    Attributes
    ----------
    events_
        From :meth:`detect`: ``event`` and ``time_s`` of the extremes (not of their detection).
    detected_at_s_
        From :meth:`detect`: when each event was known (the sample at which :meth:`step` returned True).
    last_event_time_s
        The time of the latest reported extreme, so a phase estimator can anchor on it (NaN before the first).

    Notes
    -----
    Causal: each decision uses only the samples so far. The latency is the time the angle takes to move back by
    the hysteresis: on the hip-exoskeleton data (maximum extension, ``hysteresis_fraction=0.3``) about 125 ms median,
    230 ms at the 95th percentile (``benchmarks/validate_phase.py`` prints it); the event's own time is exact to one
    sample. The defaults were chosen by leave-one-subject-out validation on that data (the benchmark prints the
    parameters each fold chose and the held-out errors). :meth:`step` keeps its state in a few floats and a
    preallocated buffer of three stride times: no allocation per sample. No filter is applied: feed it an angle
    that is already smooth (an encoder, or a causal low-pass upstream, whose group delay adds to the latency).
    """

    def __init__(
        self,
        event: str = "initial_contact",
        hysteresis_fraction: float | None = None,
        min_range_rad: float | None = None,
        min_stride_fraction: float = 0.6,
        min_stride_time_s: float = 0.4,
    ) -> None:
        self.event = event
        self.hysteresis_fraction = hysteresis_fraction
        self.min_range_rad = min_range_rad
        self.min_stride_fraction = min_stride_fraction
        self.min_stride_time_s = min_stride_time_s
        self.reset()

    def reset(self) -> None:
        """Forget the signal so far (a new recording or a restart of the loop)."""
        check_option("event", self.event, ("initial_contact", "final_contact"))
        self._polarity = 1.0 if self.event == "initial_contact" else -1.0
        self._seeking_peak = True
        self._extreme = -math.inf
        self._extreme_time_s = math.nan
        self._start_time_s = math.nan
        self._last_peak = math.nan
        self._last_trough = math.nan
        minimum = self.min_range_rad
        self._min_range = DEFAULT_MIN_RANGE_RAD[self.event] if minimum is None else float(minimum)
        self._hysteresis = self._min_range
        fraction = self.hysteresis_fraction
        self._fraction = DEFAULT_HYSTERESIS_FRACTION[self.event] if fraction is None else fraction
        self._strides = [0.0] * N_STRIDES_AVERAGED
        self._n_strides, self._stride_sum, self._slot = 0, 0.0, 0
        self.last_event_time_s = math.nan

    def step(self, time_s: float, angle_rad: float) -> bool:
        """Take one sample; return True when an extreme has just been confirmed (its time: ``last_event_time_s``)."""
        value = self._polarity * angle_rad
        if self._start_time_s != self._start_time_s:  # the first sample: a peak there may be no turning point
            self._start_time_s = time_s
        if self._seeking_peak:
            if value > self._extreme:
                self._extreme, self._extreme_time_s = value, time_s
                return False
            if self._extreme - value < self._hysteresis:
                return False
            peak_time_s, self._last_peak = self._extreme_time_s, self._extreme
            self._turn(value, time_s)
            return self._report(peak_time_s)
        if value < self._extreme:
            self._extreme, self._extreme_time_s = value, time_s
        elif value - self._extreme >= self._hysteresis:
            self._last_trough = self._extreme
            self._turn(value, time_s)
        return False

    def _turn(self, value: float, time_s: float) -> None:
        """An extreme is confirmed: adapt the hysteresis to the latest swing and seek the opposite extreme."""
        swing = self._last_peak - self._last_trough
        if swing > 0:  # NaN until both a peak and a trough are known
            self._hysteresis = max(self._min_range, self._fraction * swing)
        self._seeking_peak = not self._seeking_peak
        self._extreme, self._extreme_time_s = value, time_s

    def _report(self, peak_time_s: float) -> bool:
        """Report a confirmed peak unless it falls in the refractory period of the previous event."""
        stride = peak_time_s - self.last_event_time_s
        if peak_time_s == self._start_time_s or stride < self.min_stride_time_s:
            return False
        if self._n_strides and stride < self.min_stride_fraction * self._stride_sum / self._n_strides:
            return False
        if stride > MAX_STRIDE_TIME_S:  # a pause: the old strides say nothing about the next ones
            for slot in range(N_STRIDES_AVERAGED):
                self._strides[slot] = 0.0
            self._n_strides, self._stride_sum, self._slot = 0, 0.0, 0
        elif stride > 0:  # NaN (no previous event) fails both comparisons
            self._stride_sum += stride - self._strides[self._slot]
            self._strides[self._slot] = stride
            self._slot = (self._slot + 1) % N_STRIDES_AVERAGED
            self._n_strides = min(self._n_strides + 1, N_STRIDES_AVERAGED)
        self.last_event_time_s = peak_time_s
        return True

    def detect(self, data: pd.DataFrame, *, sampling_rate_hz: float) -> Self:
        """Run :meth:`step` over ``data["angle"]`` from a fresh state; set ``events_`` and ``detected_at_s_``."""
        check_sampling_rate(sampling_rate_hz)
        check_positive("min_stride_time_s", self.min_stride_time_s)
        if self.min_range_rad is not None:
            check_positive("min_range_rad", self.min_range_rad)
        if (
            self.hysteresis_fraction is not None
            and check_positive("hysteresis_fraction", self.hysteresis_fraction) >= 1
        ):
            raise ValueError(f"hysteresis_fraction must be below 1, got {self.hysteresis_fraction!r}.")
        if not isinstance(self.min_stride_fraction, int | float) or not 0 <= self.min_stride_fraction < 1:
            raise ValueError(f"min_stride_fraction must be in [0, 1), got {self.min_stride_fraction!r}.")
        time_s = check_frame(data, required=["angle"])
        self.data, self.sampling_rate_hz = data, float(sampling_rate_hz)
        self.reset()
        events, detected = [], []
        for t, angle in zip(time_s.tolist(), data["angle"].to_numpy(dtype=np.float64).tolist(), strict=True):
            if self.step(t, angle):
                events.append(self.last_event_time_s)
                detected.append(t)
        times = np.asarray(events, dtype=np.float64)
        self.events_ = make_events(times) if self.event == "initial_contact" else make_events(np.empty(0), times)
        self.detected_at_s_ = np.asarray(detected, dtype=np.float64)
        return self
