"""Gait events (initial and final contact) from whatever sensor is present: foot or shank IMU, hip or thigh angle,
force or footswitch. Each detector returns ``events_`` with columns ``event`` and ``time_s``.
"""

__all__: list[str] = []
