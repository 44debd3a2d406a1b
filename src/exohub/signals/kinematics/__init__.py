"""Segment orientation and sagittal joint angles from IMUs mounted in any orientation (no magnetometer).

:class:`ComplementaryOrientationEstimation` gives each IMU's orientation and inclination; :class:`JointAngleEstimation`
turns the IMUs of two adjacent segments into the flexion angle of the joint between them; :func:`compute_joint_angles`
does that for every joint of a :class:`~exohub.signals.Recording` whose two segments carry IMUs.
:func:`simulate_leg_imus` makes known-answer IMU data of a walking leg for validation.
"""

from exohub.signals.kinematics._joint_angles import (
    IMU_JOINTS,
    JOINT_SEGMENTS,
    NORMATIVE_MIN_ANGLE_RAD,
    JointAngleEstimation,
    compute_joint_angles,
    find_imu_joint_pairs,
)
from exohub.signals.kinematics._orientation import ComplementaryOrientationEstimation
from exohub.signals.kinematics._simulation import normal_gait_angles, simulate_leg_imus

__all__ = [
    "IMU_JOINTS",
    "JOINT_SEGMENTS",
    "NORMATIVE_MIN_ANGLE_RAD",
    "ComplementaryOrientationEstimation",
    "JointAngleEstimation",
    "compute_joint_angles",
    "find_imu_joint_pairs",
    "normal_gait_angles",
    "simulate_leg_imus",
]
