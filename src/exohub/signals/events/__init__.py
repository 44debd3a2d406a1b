"""Gait events (initial and final contact) from whatever sensor is present: foot or shank IMU, hip or thigh angle,
force or footswitch. Each detector returns ``events_`` with columns ``event`` and ``time_s``.
"""

from exohub.signals.events._angle_event_detection import AngleEventDetection, StreamingAngleEventDetection
from exohub.signals.events._force_event_detection import ForceEventDetection
from exohub.signals.events._imu_event_detection import ImuEventDetection

__all__ = ["AngleEventDetection", "ForceEventDetection", "ImuEventDetection", "StreamingAngleEventDetection"]
