"""Real time: the fixed-rate loop beside the device, its clocks and timing report, and the loop's ring-buffer log.

Everything here runs at loop rate or next to it, on floats and preallocated numpy buffers (no pandas per tick).
It depends on :mod:`exohub.signals` only.
"""

from exohub.control._timing import Clock, MonotonicClock, SimulatedClock, TimingReport
from exohub.control.estimators import (
    AdaptiveOscillatorPhase,
    EmgEffort,
    LocomotionModeEstimator,
    StandingWalkingModeEstimator,
)
from exohub.control.loop import FixedRateLoop
from exohub.control.ringlog import RingLog, RingLogFlusher

__all__ = [
    "AdaptiveOscillatorPhase",
    "Clock",
    "EmgEffort",
    "FixedRateLoop",
    "LocomotionModeEstimator",
    "MonotonicClock",
    "RingLog",
    "RingLogFlusher",
    "SimulatedClock",
    "StandingWalkingModeEstimator",
    "TimingReport",
]
