"""Preprocessing: IIR filters (offline zero-phase or causal, and a streaming twin) and stream alignment."""

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
    "StreamingFilter",
    "design_butterworth_sos",
    "design_notch_sos",
]
