"""Gait events (initial and final contact) from whatever sensor is present.

Foot or shank IMU, hip or thigh angle, force or footswitch: each detector returns ``events_`` with columns ``event``
and ``time_s``.
"""

from exohub.signals.events._angle_event_detection import (
    NORMATIVE_FINAL_CONTACT_LAG,
    NORMATIVE_INITIAL_CONTACT_LAG,
    AngleEventDetection,
)
from exohub.signals.events._force_event_detection import ForceEventDetection
from exohub.signals.events._imu_event_detection import ImuEventDetection
from exohub.signals.events._streaming_angle import StreamingAngleEventDetection

__all__ = [
    "NORMATIVE_FINAL_CONTACT_LAG",
    "NORMATIVE_INITIAL_CONTACT_LAG",
    "AngleEventDetection",
    "ForceEventDetection",
    "ImuEventDetection",
    "StreamingAngleEventDetection",
]
