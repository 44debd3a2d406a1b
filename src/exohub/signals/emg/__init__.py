"""Surface EMG, every channel at once: filtering, envelopes, normalisation, onsets and fatigue frequencies.

Channels follow the recording convention (``left_tibialis_anterior_emg``, ``channel_3_emg``), values in volts,
DataFrames indexed by ``time_s``.
"""

from exohub.signals.emg._frequency import compute_emg_frequencies
from exohub.signals.emg._onsets import find_emg_onsets
from exohub.signals.emg._pipeline import EmgProcessing
from exohub.signals.emg._processing import (
    compute_emg_envelope,
    filter_emg,
    normalize_emg,
    rectify_emg,
)

__all__ = [
    "EmgProcessing",
    "compute_emg_envelope",
    "compute_emg_frequencies",
    "filter_emg",
    "find_emg_onsets",
    "normalize_emg",
    "rectify_emg",
]
