"""Preprocessing: IIR filters (offline zero-phase or causal, and a streaming twin) and stream alignment."""

from exohub.signals.preprocessing._alignment import SagittalFrame, check_imu_data, find_sagittal_frame
from exohub.signals.preprocessing._filter import (
    ButterworthFilter,
    NotchFilter,
    StreamingFilter,
    design_butterworth_sos,
    design_notch_sos,
)

__all__ = [
    "ButterworthFilter",
    "NotchFilter",
    "SagittalFrame",
    "StreamingFilter",
    "check_imu_data",
    "design_butterworth_sos",
    "design_notch_sos",
    "find_sagittal_frame",
]
