"""Sagittal joint angles (hip, knee, ankle flexion) from the IMUs of the two segments that meet at the joint."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Self

import numpy as np
import pandas as pd

from exohub._utils._checks import check_instance, check_option
from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.base import BaseAlgorithm
from exohub.signals.channels import channel_name
from exohub.signals.consts import JOINTS, SIDES, TIME_COLUMN, UNSIDED_SEGMENTS
from exohub.signals.kinematics._axes import (
    orient_right,
    principal_axis,
    sagittal_angle,
    swing_asymmetry,
)
from exohub.signals.kinematics._orientation import check_cutoff, estimate_orientation
from exohub.signals.kinematics._validation import IMU_COLUMNS, check_imu_frame, check_sampling_rate
from exohub.signals.recording import Recording

#: Joints computed by default. The hip (pelvis + thigh IMUs) is left out: the pelvis tilts and rolls at similar rates,
#: so its flexion axis cannot yet be told from the gyro alone and roll leaks into the angle (about 6-7 degrees RMSE in
#: simulation against under 2 for knee and ankle); ask for it explicitly and it is computed with a warning.
IMU_JOINTS = ("knee", "ankle")

#: joint -> (proximal segment, distal segment)
JOINT_SEGMENTS: dict[str, tuple[str, str]] = {
    "hip": ("pelvis", "thigh"),
    "knee": ("thigh", "shank"),
    "ankle": ("shank", "foot"),
}
#: With both axes pointing right, angle = sign * (distal rotation - proximal rotation): hip flexion = thigh - pelvis,
#: knee flexion = thigh - shank, ankle dorsiflexion = foot - shank.
_JOINT_SIGN = {"hip": 1.0, "knee": -1.0, "ankle": 1.0}
#: The segment whose fast forward swing tells which way is right: thigh for the hip, shank for knee and ankle.
_SWING_IS_DISTAL = {"hip": True, "knee": True, "ankle": False}
#: Normative minimum of each angle during walking (rad), the zero reference when no standing window is given:
#: near-full knee extension before heel strike, ~10 deg hip extension at terminal stance, ~15 deg plantarflexion
#: at toe-off (Perry & Burnfield, Gait Analysis, 2010).
NORMATIVE_MIN_ANGLE_RAD = {"hip": np.radians(-10.0), "knee": 0.0, "ankle": np.radians(-15.0)}
MIN_DURATION_S = 2.0


class JointAngleEstimation(BaseAlgorithm):
    """Sagittal joint angle from two IMUs mounted in any orientation on the segments that meet at a hinge-like joint.

    Each IMU's inclination comes from :class:`ComplementaryOrientationEstimation` (gyroscope, drift-corrected by
    gravity). Each segment's flexion axis is found in its sensor's frame from the data, its rotation about that axis
    is read from the inclination, and the joint angle is the difference of the two segments' rotations. Nothing
    assumes how the sensors are mounted.

    Parameters
    ----------
    cutoff_freq_hz
        Cut-off of the orientation filter's gravity low-pass (see :class:`ComplementaryOrientationEstimation`).
    standing_window_s
        ``(start_s, end_s)`` in the data's time (index) when the subject stood upright with straight legs: the angle
        is 0 there on average. The most accurate zero; use it whenever the protocol has a standing phase.
    min_angle_rad
        Without a standing window, the angle's 1st percentile during the recording is set to this value (the joint's
        minimum while walking). ``None``: :data:`NORMATIVE_MIN_ANGLE_RAD` of the joint (knee 0, hip -10 deg, ankle
        -15 deg), which is off by the person's deviation from the norm (typically a few degrees).

    Attributes
    ----------
    angle_
        Flexion angle (rad) per sample, ISB sign: hip and knee flexion positive, ankle dorsiflexion positive.
    velocity_
        Its time derivative (rad/s).
    proximal_axis_, distal_axis_
        Unit flexion axis of each segment in its sensor's frame, pointing to the subject's right.
    segment_angles_
        Each segment's rotation about its axis (rad, columns ``proximal`` and ``distal``), positive when its distal
        end swings forward, relative to the segment's mean pose.

    Other Parameters
    ----------------
    proximal, distal
        The IMUs of the proximal and distal segment (pelvis/thigh for the hip, thigh/shank for the knee, shank/foot
        for the ankle): columns ``acc_x..acc_z`` (m/s^2) and ``gyr_x..gyr_z`` (rad/s), same index (time_s).
    sampling_rate_hz
        Sampling rate of both.
    joint
        ``"hip"``, ``"knee"`` or ``"ankle"``.

    Notes
    -----
    Axis: a segment's flexion axis is the principal axis of its angular rate after the vertical part is removed
    (legs turn mostly about their medio-lateral axis while walking). For a hinge (knee, ankle) the difference of the
    two segments' rotations about the shared axis is exactly the joint angle, whatever the segments do out of plane.
    The pelvis is the weak link of the hip: its tilt (+-2 deg at twice the stride frequency) and obliquity (+-5 deg)
    turn it at similar rates, so its principal axis may be antero-posterior and then obliquity enters the hip angle
    as if it were tilt (a few degrees). When the trunk bends, tilt dominates and the axis is right.

    Sign, from walking data only (documented rules):

    1. Right: a leg segment swings forward fast and briefly and back slowly, so about the axis that points to the
       subject's right its rate has tall positive peaks (:func:`swing_asymmetry` > 0). The thigh sets it for the
       hip, the shank for knee and ankle.
    2. The other segment's axis points the same way as the one whose rotation differs least from the first's: the
       joint angle has a smaller range than the sum of the segments' rotations.
    3. Knee check: flexion is large and brief in swing and near zero in stance, so the knee angle's 99th percentile
       lies farther above its median than the 1st percentile below it; if not, a warning is raised.

    The angle is only as good as these rules: they hold for walking and running, not for sitting, cycling or
    standing still. The pelvis's sign (rule 2) is weak too; hip angles rest mostly on the thigh.
    Drift: the inclination comes from the gyroscope corrected by gravity at every sample, so it does not drift.

    References
    ----------
    Seel, Raisch, Schauer. IMU-based joint angle measurement for gait analysis. Sensors 14(4):6891-6909, 2014.
    """

    _action_methods = ("estimate",)

    angle_: pd.Series
    velocity_: pd.Series
    proximal_axis_: np.ndarray
    distal_axis_: np.ndarray
    segment_angles_: pd.DataFrame

    def __init__(
        self,
        cutoff_freq_hz: float = 0.2,
        standing_window_s: tuple[float, float] | None = None,
        min_angle_rad: float | None = None,
    ) -> None:
        self.cutoff_freq_hz = cutoff_freq_hz
        self.standing_window_s = standing_window_s
        self.min_angle_rad = min_angle_rad

    def estimate(
        self, proximal: pd.DataFrame, distal: pd.DataFrame, *, sampling_rate_hz: float, joint: str = "knee"
    ) -> Self:
        """Estimate the joint angle; sets ``angle_``, ``velocity_``, the axes and ``segment_angles_``."""
        check_option("joint", joint, JOINTS)
        rate_hz = check_sampling_rate(sampling_rate_hz)
        check_cutoff(self.cutoff_freq_hz, rate_hz)
        proximal_imu = check_imu_frame(proximal, name="proximal")
        distal_imu = check_imu_frame(distal, name="distal")
        _check_same_clock(proximal, distal, rate_hz)
        standing = _standing_mask(self.standing_window_s, proximal.index)
        self.proximal, self.distal, self.sampling_rate_hz, self.joint = proximal, distal, sampling_rate_hz, joint

        result = _joint_angle(
            proximal_imu,
            distal_imu,
            sampling_rate_hz=rate_hz,
            joint=joint,
            cutoff_freq_hz=float(self.cutoff_freq_hz),
        )
        angle, self.proximal_axis_, self.distal_axis_, segment_angles = result
        if standing is not None:
            angle -= angle[standing].mean()
        else:
            floor = NORMATIVE_MIN_ANGLE_RAD[joint] if self.min_angle_rad is None else float(self.min_angle_rad)
            angle += floor - np.percentile(angle, 1.0)
        self.angle_ = pd.Series(angle, index=proximal.index, name="angle")
        self.velocity_ = pd.Series(np.gradient(angle, 1.0 / rate_hz), index=proximal.index, name="velocity")
        self.segment_angles_ = pd.DataFrame(segment_angles, index=proximal.index, columns=["proximal", "distal"])
        return self


def _joint_angle(
    proximal: np.ndarray, distal: np.ndarray, *, sampling_rate_hz: float, joint: str, cutoff_freq_hz: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(angle, proximal_axis, distal_axis, segment_angles (n, 2))`` before the zero is set."""
    _, up_proximal = estimate_orientation(
        proximal[:, :3], proximal[:, 3:], sampling_rate_hz=sampling_rate_hz, cutoff_freq_hz=cutoff_freq_hz
    )
    _, up_distal = estimate_orientation(
        distal[:, :3], distal[:, 3:], sampling_rate_hz=sampling_rate_hz, cutoff_freq_hz=cutoff_freq_hz
    )
    axes = [
        principal_axis(proximal[:, 3:], up_proximal, name="proximal"),
        principal_axis(distal[:, 3:], up_distal, name="distal"),
    ]
    gyr = [proximal[:, 3:], distal[:, 3:]]
    ups = [up_proximal, up_distal]
    lead = 1 if _SWING_IS_DISTAL[joint] else 0
    other = 1 - lead
    axes[lead] = orient_right(axes[lead], gyr[lead], name=("proximal", "distal")[lead])
    rotations = [sagittal_angle(ups[0], axes[0]), sagittal_angle(ups[1], axes[1])]
    if np.var(rotations[lead] + rotations[other]) < np.var(rotations[lead] - rotations[other]):
        axes[other], rotations[other] = -axes[other], -rotations[other]
    angle = _JOINT_SIGN[joint] * (rotations[1] - rotations[0])
    if joint == "knee":
        _check_knee_sign(angle)
    return angle, axes[0], axes[1], np.column_stack(rotations)


def _check_knee_sign(angle: np.ndarray) -> None:
    if swing_asymmetry(angle) < 0:
        warnings.warn(
            "knee: the estimated flexion has deeper troughs than peaks, unlike walking (large flexion in swing, near "
            "extension in stance); the sign may be wrong or the data may not be walking.",
            ExohubWarning,
            stacklevel=4,
        )


def _check_same_clock(proximal: pd.DataFrame, distal: pd.DataFrame, sampling_rate_hz: float) -> None:
    if len(proximal) != len(distal) or not np.allclose(
        np.asarray(proximal.index, dtype=np.float64), np.asarray(distal.index, dtype=np.float64)
    ):
        raise ValidationError(
            f"proximal ({len(proximal)} samples) and distal ({len(distal)} samples) must share one clock: same index "
            "(time_s) sample for sample; resample them together first (Recording.align)."
        )
    duration_s = len(proximal) / sampling_rate_hz
    if duration_s < MIN_DURATION_S:
        raise ValidationError(
            f"The IMU data last {duration_s:.3g} s; joint angles need at least {MIN_DURATION_S:g} s of walking "
            "(better 10 strides or more) to find the flexion axes."
        )


def _standing_mask(window_s: tuple[float, float] | None, index: pd.Index) -> np.ndarray | None:
    if window_s is None:
        return None
    if not isinstance(window_s, tuple | list) or len(window_s) != 2 or not window_s[0] < window_s[1]:
        raise ValueError(f"standing_window_s must be a (start_s, end_s) pair with start_s < end_s, got {window_s!r}.")
    time_s = np.asarray(index, dtype=np.float64)
    mask = (time_s >= window_s[0]) & (time_s <= window_s[1])
    if not mask.any():
        raise ValueError(
            f"standing_window_s={tuple(window_s)!r} contains no sample; the data cover "
            f"{time_s[0]:g}-{time_s[-1]:g} (index, s)."
        )
    return mask


def compute_joint_angles(
    recording: Recording,
    *,
    joints: Sequence[str] = IMU_JOINTS,
    standing_window_s: tuple[float, float] | None = None,
    cutoff_freq_hz: float = 0.2,
) -> pd.DataFrame:
    """Return ``<side>_<joint>_angle`` and ``<side>_<joint>_velocity`` for every joint whose two segment IMUs exist.

    Looks for ``pelvis`` + ``<side>_thigh`` (hip), ``<side>_thigh`` + ``<side>_shank`` (knee) and ``<side>_shank`` +
    ``<side>_foot`` (ankle), each with ``acc_x..z`` and ``gyr_x..z`` channels, and runs :class:`JointAngleEstimation`
    on each pair. Channels on different clocks are first aligned to the faster one.

    Parameters
    ----------
    recording
        The recording.
    joints
        Which joints to compute, among ``"hip"``, ``"knee"``, ``"ankle"`` (default :data:`IMU_JOINTS`; the hip warns).
    standing_window_s, cutoff_freq_hz
        Passed to :class:`JointAngleEstimation`.

    Returns
    -------
    DataFrame
        Indexed by ``time_s``: angles (rad) and angular velocities (rad/s), named by the channel convention.
    """
    check_instance("recording", recording, Recording, "an exohub Recording")
    for joint in joints:
        check_option("joints", joint, JOINTS)
    if "hip" in joints:
        warnings.warn(
            "hip angles from pelvis and thigh IMUs can mix pelvic roll into flexion (about 6-7 degrees RMSE in "
            "simulation); prefer an encoder or motion capture for the hip.",
            ExohubWarning,
            stacklevel=2,
        )
    pairs = find_imu_joint_pairs(recording, joints)
    if not pairs:
        wanted = ", ".join(f"{joint}: {' + '.join(_locations('<side>', joint))}" for joint in joints)
        raise ValidationError(
            f"No joint has IMUs (acc_x..gyr_z) on both of its segments; looked for {wanted}. "
            f"Channels present: {recording.channels[:12]}{' ...' if len(recording.channels) > 12 else ''}"
        )
    estimator = JointAngleEstimation(cutoff_freq_hz=cutoff_freq_hz, standing_window_s=standing_window_s)
    columns = {}
    for side, joint in pairs:
        proximal, distal, rate_hz = _pair_frames(recording, side, joint)
        estimator.estimate(proximal, distal, sampling_rate_hz=rate_hz, joint=joint)
        columns[channel_name(f"{side}_{joint}", "angle")] = estimator.angle_
        columns[channel_name(f"{side}_{joint}", "velocity")] = estimator.velocity_
    return pd.DataFrame(columns).rename_axis(TIME_COLUMN)


def _locations(side: str, joint: str) -> tuple[str, str]:
    return tuple(segment if segment in UNSIDED_SEGMENTS else f"{side}_{segment}" for segment in JOINT_SEGMENTS[joint])


def _imu_channels(location: str) -> list[str]:
    return [f"{location}_{column}" for column in IMU_COLUMNS]


def find_imu_joint_pairs(recording: Recording, joints: Sequence[str] = IMU_JOINTS) -> list[tuple[str, str]]:
    """Return the (side, joint) pairs of ``joints`` whose two segments both carry a full IMU in ``recording``."""
    return [(side, joint) for side in SIDES for joint in joints if _has_pair(recording, side, joint)]


def _has_pair(recording: Recording, side: str, joint: str) -> bool:
    present = set(recording.channels)
    return all(set(_imu_channels(location)) <= present for location in _locations(side, joint))


def _pair_frames(recording: Recording, side: str, joint: str) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    locations = _locations(side, joint)
    names = [name for location in locations for name in _imu_channels(location)]
    rate_hz = max(recording.sampling_rate_hz(name) for name in names)
    if len({recording.sampling_rate_hz(name) for name in names}) == 1:
        try:
            data = recording.get(names)
        except ValidationError:
            data = recording.align(rate_hz, names)
    else:
        data = recording.align(rate_hz, names)
    frames = []
    for location in locations:
        frame = data.loc[:, _imu_channels(location)]
        frames.append(frame.set_axis(list(IMU_COLUMNS), axis=1))
    return frames[0], frames[1], rate_hz
