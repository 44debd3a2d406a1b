"""Gait metrics: strides, bouts, temporal parameters, symmetry, range of motion, EMG per cycle, skin temperature."""

from exohub.signals.metrics._cycles import normalise_cycles, range_of_motion
from exohub.signals.metrics._report import GaitReport, compute_gait_report, to_json_values
from exohub.signals.metrics._spatiotemporal import add_step_and_support, symmetry_index_pct
from exohub.signals.metrics._strides import find_bouts, find_strides
from exohub.signals.metrics._temperature import temperature_summary

__all__ = [
    "GaitReport",
    "add_step_and_support",
    "compute_gait_report",
    "find_bouts",
    "find_strides",
    "normalise_cycles",
    "range_of_motion",
    "symmetry_index_pct",
    "temperature_summary",
    "to_json_values",
]
