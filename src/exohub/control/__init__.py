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
from exohub.control.session import SessionResult, run_session
from exohub.control.virtual import FaultInjection, VirtualPatient

__all__ = [
    "AdaptiveOscillatorPhase",
    "Clock",
    "EmgEffort",
    "FaultInjection",
    "FixedRateLoop",
    "LocomotionModeEstimator",
    "MonotonicClock",
    "RingLog",
    "RingLogFlusher",
    "SessionResult",
    "SimulatedClock",
    "StandingWalkingModeEstimator",
    "TimingReport",
    "VirtualPatient",
    "run_session",
]
