"""Known-answer IMU signals of a walking leg: pelvis, thigh, shank and foot driven by given joint angles."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation

from exohub.signals.kinematics._validation import GRAVITY_M_S2, IMU_COLUMNS

SEGMENTS = ("pelvis", "thigh", "shank", "foot")
TRUE_ANGLE_COLUMNS = ("hip", "knee", "ankle", "pelvis_tilt")

#: Fourier series (deg) over the gait cycle, 0 = heel strike: mean, then cos/sin of harmonics 1-6. Fitted by us to the
#: right leg of gaitalytics' treadmill_events.c3d (MIT), Plug-in-Gait angles: hip/knee flexion, ankle dorsiflexion.
NORMAL_GAIT_FOURIER_DEG: dict[str, tuple[float, ...]] = {
    "hip": (18.521, 18.461, -3.725, -3.888, -2.218, -0.865, 2.012, -0.069, 0.311, -0.224, 0.34, 0.061, 0.067),
    "knee": (32.954, -2.623, -20.63, -15.396, 5.117, -1.414, 5.737, -0.471, 0.691, -0.626, 1.19, 0.411, 0.41),
    "ankle": (5.913, -5.986, 6.452, 5.411, -5.427, -3.752, -1.221, 2.178, 0.574, 0.155, -1.712, -0.026, 0.564),
    # anterior pelvic tilt: a +-2 deg oscillation at twice the stride frequency
    "pelvis_tilt": (3.0, 0.0, 0.0, 1.5, 1.3),
}
#: Segment lengths (m) and where each sensor sits in its segment's frame (x right, y forward, z up when standing).
_THIGH_LENGTH_M = 0.45
_SHANK_LENGTH_M = 0.42
_HIP_FROM_PELVIS_M = np.array([0.09, 0.0, -0.05])
_SENSOR_POSITION_M = {
    "pelvis": np.array([0.0, -0.12, 0.05]),
    "thigh": np.array([0.08, 0.02, -0.22]),
    "shank": np.array([0.05, 0.04, -0.16]),
    "foot": np.array([0.0, 0.09, -0.02]),
}
_OVERSAMPLING = 5


def normal_gait_angles(phase: np.ndarray) -> dict[str, np.ndarray]:
    """Return hip, knee, ankle and pelvic-tilt angles (rad) of normal walking at gait phases ``phase`` (cycles)."""
    angles = {}
    for name, coefficients in NORMAL_GAIT_FOURIER_DEG.items():
        value = np.full_like(phase, coefficients[0], dtype=np.float64)
        for k in range(1, (len(coefficients) - 1) // 2 + 1):
            value += coefficients[2 * k - 1] * np.cos(2 * np.pi * k * phase)
            value += coefficients[2 * k] * np.sin(2 * np.pi * k * phase)
        angles[name] = np.radians(value)
    return angles


def simulate_leg_imus(
    *,
    duration_s: float = 60.0,
    sampling_rate_hz: float = 200.0,
    stride_time_s: float = 1.1,
    walking_speed_m_s: float = 1.2,
    standing_s: float = 5.0,
    true_angles: pd.DataFrame | None = None,
    out_of_plane_deg: float = 3.0,
    mounting: Mapping[str, np.ndarray] | None = None,
    acc_noise_m_s2: float = 0.05,
    gyr_noise_rad_s: float = 0.005,
    gyr_bias_rad_s: float = 0.0,
    seed: int = 0,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Simulate the IMUs of a walking right leg with known hip, knee and ankle angles.

    The pelvis moves forward with a vertical bob and tilts; the thigh hangs from the hip (flexion plus small
    abduction and rotation of ``out_of_plane_deg``), the shank from the knee hinge, the foot from the ankle hinge.
    Each IMU measures specific force (its acceleration at its lever arm, tangential and centripetal included,
    minus gravity) and angular rate, in its own frame, rotated by ``mounting``, with white noise and a constant
    gyroscope bias. The subject stands still for ``standing_s`` (every angle 0), then blends into walking over 2 s.

    Parameters
    ----------
    duration_s, sampling_rate_hz
        Length and rate of the output.
    stride_time_s, walking_speed_m_s
        The gait's stride time and forward speed.
    standing_s
        Quiet upright standing at the start (all joint angles 0): the calibration pose.
    true_angles
        Joint angles (rad) indexed by ``time_s`` with columns ``hip``, ``knee``, ``ankle`` and optionally
        ``pelvis_tilt``, e.g. from motion capture; interpolated with cubic splines. Default: the Fourier series of
        normal gait in :data:`NORMAL_GAIT_FOURIER_DEG`.
    out_of_plane_deg
        Amplitude of the thigh's abduction/rotation and of the pelvis's obliquity and yaw (deg).
    mounting
        Segment name -> 3x3 rotation matrix of the sensor in its segment's frame (columns: the sensor's axes).
        Segments not given get a uniformly random rotation from ``seed``.
    acc_noise_m_s2, gyr_noise_rad_s, gyr_bias_rad_s
        Standard deviation of the white noise per sample, and the magnitude of a constant gyroscope bias in a random
        direction per sensor.
    seed
        Seeds the random mounting, noise and bias directions.

    Returns
    -------
    imus
        Segment name (``pelvis``, ``thigh``, ``shank``, ``foot``) -> DataFrame ``acc_x..gyr_z`` indexed by ``time_s``.
    truth
        True ``hip``, ``knee``, ``ankle`` flexion/dorsiflexion and ``pelvis_tilt`` (rad), indexed by ``time_s``.
    """
    rng = np.random.default_rng(seed)
    rate_hz = sampling_rate_hz * _OVERSAMPLING
    time_s = np.arange(round(duration_s * rate_hz)) / rate_hz
    angles = _angle_trajectories(time_s, true_angles, standing_s, stride_time_s)
    weight = _smoothstep((time_s - standing_s) / 2.0)
    rotations = _segment_rotations(time_s, angles, weight, np.radians(out_of_plane_deg), stride_time_s)
    positions = _sensor_positions(time_s, rotations, weight, walking_speed_m_s, stride_time_s)
    keep = slice(None, None, _OVERSAMPLING)
    imus = {}
    for segment in SEGMENTS:
        mount = mounting[segment] if mounting is not None and segment in mounting else Rotation.random(rng=rng)
        mount = mount if isinstance(mount, Rotation) else Rotation.from_matrix(mount)
        acc, gyr = _ideal_imu(rotations[segment], positions[segment], rate_hz)
        acc = mount.inv().apply(acc[keep])
        gyr = mount.inv().apply(gyr[keep])
        acc += rng.normal(0.0, acc_noise_m_s2, acc.shape)
        bias = rng.normal(size=3)
        gyr += rng.normal(0.0, gyr_noise_rad_s, gyr.shape) + gyr_bias_rad_s * bias / np.linalg.norm(bias)
        imus[segment] = pd.DataFrame(
            np.hstack((acc, gyr)), index=pd.Index(time_s[keep], name="time_s"), columns=list(IMU_COLUMNS)
        )
    truth = pd.DataFrame(
        {name: angles[name][keep] * weight[keep] for name in TRUE_ANGLE_COLUMNS},
        index=pd.Index(time_s[keep], name="time_s"),
    )
    return imus, truth


def _angle_trajectories(
    time_s: np.ndarray, true_angles: pd.DataFrame | None, standing_s: float, stride_time_s: float
) -> dict[str, np.ndarray]:
    if true_angles is None:
        return normal_gait_angles((time_s - standing_s) / stride_time_s)
    source_time_s = true_angles.index.to_numpy(dtype=np.float64)
    shifted = np.clip(time_s - standing_s + source_time_s[0], source_time_s[0], source_time_s[-1])
    angles = {}
    for name in TRUE_ANGLE_COLUMNS:
        if name in true_angles.columns:
            angles[name] = CubicSpline(source_time_s, true_angles[name].to_numpy(dtype=np.float64))(shifted)
        else:
            angles[name] = normal_gait_angles((time_s - standing_s) / stride_time_s)[name]
    return angles


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (10.0 - 15.0 * x + 6.0 * x * x)


def _segment_rotations(
    time_s: np.ndarray, angles: dict[str, np.ndarray], weight: np.ndarray, out_of_plane_rad: float, stride_s: float
) -> dict[str, Rotation]:
    """Segment-to-world rotations; world x right, y forward, z up; flexion is a rotation about x."""
    cycle = 2 * np.pi * time_s / stride_s
    small = out_of_plane_rad * weight
    pelvis = Rotation.from_euler(
        "ZYX", np.column_stack((small * np.sin(cycle), small * np.cos(cycle), -weight * angles["pelvis_tilt"]))
    )
    thigh = pelvis * Rotation.from_euler(
        "XYZ",
        np.column_stack((weight * angles["hip"], small * np.sin(cycle + 1.0), 1.5 * small * np.sin(cycle + 0.5))),
    )
    shank = thigh * Rotation.from_euler("X", -weight[:, None] * angles["knee"][:, None])
    foot = shank * Rotation.from_euler("X", weight[:, None] * angles["ankle"][:, None])
    return {"pelvis": pelvis, "thigh": thigh, "shank": shank, "foot": foot}


def _sensor_positions(
    time_s: np.ndarray, rotations: dict[str, Rotation], weight: np.ndarray, speed_m_s: float, stride_s: float
) -> dict[str, np.ndarray]:
    step = time_s[1] - time_s[0]
    forward = np.cumsum(speed_m_s * weight) * step
    bob = 0.02 * weight * np.cos(4 * np.pi * time_s / stride_s)
    pelvis = np.column_stack((np.zeros_like(time_s), forward, 0.95 + bob))
    hip = pelvis + rotations["pelvis"].apply(_HIP_FROM_PELVIS_M)
    knee = hip + rotations["thigh"].apply([0.0, 0.0, -_THIGH_LENGTH_M])
    ankle = knee + rotations["shank"].apply([0.0, 0.0, -_SHANK_LENGTH_M])
    origins = {"pelvis": pelvis, "thigh": hip, "shank": knee, "foot": ankle}
    return {name: origins[name] + rotations[name].apply(_SENSOR_POSITION_M[name]) for name in SEGMENTS}


def _ideal_imu(rotation: Rotation, position: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free specific force and angular rate in the segment frame, by central differences."""
    step = 1.0 / rate_hz
    acceleration = np.gradient(np.gradient(position, step, axis=0), step, axis=0)
    specific_force = rotation.inv().apply(acceleration + np.array([0.0, 0.0, GRAVITY_M_S2]))
    matrices = rotation.as_matrix()
    derivative = np.gradient(matrices, step, axis=0)
    skew = np.einsum("nji,njk->nik", matrices, derivative)
    angular_rate = 0.5 * np.column_stack(
        (skew[:, 2, 1] - skew[:, 1, 2], skew[:, 0, 2] - skew[:, 2, 0], skew[:, 1, 0] - skew[:, 0, 1])
    )
    return specific_force, angular_rate
