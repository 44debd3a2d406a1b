"""Gait metrics: strides, bouts, parameters, symmetry, ROM, angle and EMG per cycle, skin, up time, assistance."""

from exohub.signals.metrics._activity import (
    ASSISTANCE_METRICS,
    UpTime,
    compute_assistance_over_time,
    compute_up_time,
)
from exohub.signals.metrics._cycles import cycle_mean_sd, normalise_cycles, range_of_motion
from exohub.signals.metrics._report import GaitReport, compute_gait_report, to_json_values
from exohub.signals.metrics._spatiotemporal import add_step_and_support, symmetry_index_pct
from exohub.signals.metrics._strides import find_bouts, find_strides
from exohub.signals.metrics._temperature import temperature_summary

__all__ = [
    "ASSISTANCE_METRICS",
    "GaitReport",
    "UpTime",
    "add_step_and_support",
    "compute_assistance_over_time",
    "compute_gait_report",
    "compute_up_time",
    "cycle_mean_sd",
    "find_bouts",
    "find_strides",
    "normalise_cycles",
    "range_of_motion",
    "symmetry_index_pct",
    "temperature_summary",
    "to_json_values",
]
