"""Streaming estimators for the real-time loop: gait phase, user effort from EMG, locomotion mode.

Each has ``reset()`` and ``step(...)`` on floats and preallocated arrays (no allocation per step, no pandas) and an
offline twin in :mod:`exohub.signals` it is tested against on real recordings (``tests/control/test_estimators.py``).
"""

from exohub.control.estimators._effort import EmgEffort
from exohub.control.estimators._mode import LocomotionModeEstimator, StandingWalkingModeEstimator
from exohub.control.estimators._oscillator import AdaptiveOscillatorPhase

__all__ = ["AdaptiveOscillatorPhase", "EmgEffort", "LocomotionModeEstimator", "StandingWalkingModeEstimator"]
