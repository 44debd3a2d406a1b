"""Continuous gait phase in [0, 1): offline from events, causal from stride times, and the real-time protocol.

Phase errors are circular (:func:`circular_error`) and reported in % of the gait cycle (:func:`compute_phase_rmse`).
"""

from exohub.signals.phase._event_phase_estimation import EventPhaseEstimation, compute_phase_from_events
from exohub.signals.phase._metrics import circular_error, compute_phase_rmse
from exohub.signals.phase._protocol import GaitPhaseEstimator
from exohub.signals.phase._stride_time_phase_estimation import MAX_PHASE, StrideTimePhaseEstimation

__all__ = [
    "MAX_PHASE",
    "EventPhaseEstimation",
    "GaitPhaseEstimator",
    "StrideTimePhaseEstimation",
    "circular_error",
    "compute_phase_from_events",
    "compute_phase_rmse",
]
