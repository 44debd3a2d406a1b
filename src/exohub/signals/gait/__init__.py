"""Gait analysis of a whole recording: events from the best sensor per side, continuous phase, the full report.

The one-call layer over :mod:`exohub.signals.events`, :mod:`exohub.signals.phase`, :mod:`exohub.signals.metrics`,
:mod:`exohub.signals.emg` and :mod:`exohub.signals.quality` that the CLI, the clinic and the models use.
"""

from exohub.signals.gait._analysis import GaitAnalysis, analyse_gait
from exohub.signals.gait._events import GaitEvents, detect_gait_events
from exohub.signals.gait._phase import PHASE_DEFINITION, GaitPhase, estimate_gait_phase
from exohub.signals.gait._sources import SOURCE_KINDS, EventSource, find_event_sources

__all__ = [
    "PHASE_DEFINITION",
    "SOURCE_KINDS",
    "EventSource",
    "GaitAnalysis",
    "GaitEvents",
    "GaitPhase",
    "analyse_gait",
    "detect_gait_events",
    "estimate_gait_phase",
    "find_event_sources",
]
