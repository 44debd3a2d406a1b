"""Known-answer tests of exohub.signals.kinematics on simulated walking: random mountings, noise, gyroscope bias."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals import Recording
from exohub.signals.kinematics import (
    JOINT_SEGMENTS,
    ComplementaryOrientationEstimation,
    JointAngleEstimation,
    compute_joint_angles,
    simulate_leg_imus,
)
from exohub.signals.kinematics._quaternion import cumulative_quat_product, quat_from_rotvec, quat_mul

RATE_HZ = 100.0
STANDING = (0.5, 4.5)
ANGLES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gaitalytics_c3d_emg"
ANGLES_CSV = ANGLES / "treadmill_events_angles_100Hz.csv"


def _rmse_deg(estimate: pd.Series, truth: pd.Series) -> float:
    walking = truth.index > STANDING[1] + 3.0
    return float(np.degrees(np.sqrt(np.mean((estimate.to_numpy() - truth.to_numpy())[walking] ** 2))))


@pytest.fixture(scope="module")
def walk():
    return simulate_leg_imus(duration_s=40.0, sampling_rate_hz=RATE_HZ, seed=1)


@pytest.mark.parametrize("joint", ["knee", "ankle"])  # hip: see the pelvis-axis limitation in the Notes
def test_angle_matches_truth_with_random_mounting(walk, joint):
    imus, truth = walk
    proximal, distal = JOINT_SEGMENTS[joint]
    est = JointAngleEstimation(standing_window_s=STANDING).estimate(
        imus[proximal], imus[distal], sampling_rate_hz=RATE_HZ, joint=joint
    )
    assert _rmse_deg(est.angle_, truth[joint]) < 3.0
    velocity_error = (est.velocity_ - np.gradient(truth[joint], 1 / RATE_HZ))[truth.index > 8]
    assert np.sqrt(np.mean(velocity_error**2)) < 0.2


def test_knee_without_standing_uses_extension_floor(walk):
    imus, truth = walk
    est = JointAngleEstimation().estimate(imus["thigh"], imus["shank"], sampling_rate_hz=RATE_HZ)
    assert np.percentile(est.angle_, 1) == pytest.approx(0.0, abs=1e-9)
    shape_error = (est.angle_ - truth["knee"])[truth.index > 8]
    assert np.degrees(shape_error.std()) < 3.0


@settings(max_examples=8, deadline=None)
@given(mounting=st.lists(st.integers(0, 2**31), min_size=2, max_size=2), seed=st.integers(0, 1000))
def test_knee_sign_and_accuracy_for_any_mounting(mounting, seed):
    rotations = {
        name: Rotation.random(rng=np.random.default_rng(m))
        for name, m in zip(("thigh", "shank"), mounting, strict=True)
    }
    imus, truth = simulate_leg_imus(duration_s=25.0, sampling_rate_hz=RATE_HZ, mounting=rotations, seed=seed)
    est = JointAngleEstimation(standing_window_s=STANDING).estimate(
        imus["thigh"], imus["shank"], sampling_rate_hz=RATE_HZ
    )
    assert _rmse_deg(est.angle_, truth["knee"]) < 3.0
    axis = rotations["shank"].inv().apply([1.0, 0.0, 0.0])  # the subject's right in the shank sensor's frame
    assert est.distal_axis_ @ axis > 0.99


@pytest.mark.slow
def test_knee_does_not_drift_over_ten_minutes_with_gyro_bias():
    imus, truth = simulate_leg_imus(duration_s=600.0, sampling_rate_hz=RATE_HZ, gyr_bias_rad_s=np.radians(2.0), seed=3)
    est = JointAngleEstimation(standing_window_s=STANDING).estimate(
        imus["thigh"], imus["shank"], sampling_rate_hz=RATE_HZ
    )
    assert _rmse_deg(est.angle_, truth["knee"]) < 5.0
    last_minute = truth.index > 540
    assert _rmse_deg(est.angle_[last_minute], truth["knee"][last_minute]) < 5.0


@pytest.mark.skipif(not ANGLES_CSV.exists(), reason="gaitalytics angles not in ../shared/data (see its README.md)")
def test_knee_follows_motion_capture_curves():
    angles = pd.read_csv(ANGLES_CSV, index_col="time_s")
    true_angles = np.radians(angles[["RHipAngles_X", "RKneeAngles_X", "RAnkleAngles_X"]]).set_axis(
        ["hip", "knee", "ankle"], axis=1
    )
    imus, truth = simulate_leg_imus(duration_s=16.5, sampling_rate_hz=RATE_HZ, true_angles=true_angles, seed=4)
    est = JointAngleEstimation(standing_window_s=STANDING).estimate(
        imus["thigh"], imus["shank"], sampling_rate_hz=RATE_HZ
    )
    assert _rmse_deg(est.angle_, truth["knee"]) < 3.0


def test_orientation_recovers_inclination_of_a_tilted_still_sensor():
    tilt = Rotation.from_rotvec([0.4, -0.9, 0.2])
    n = 2000
    acc = np.tile(tilt.inv().apply([0.0, 0.0, 9.81]), (n, 1)) + np.random.default_rng(0).normal(0, 0.05, (n, 3))
    data = pd.DataFrame(
        np.hstack((acc, np.zeros((n, 3)) + 0.01)), columns=["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    )
    est = ComplementaryOrientationEstimation().estimate(data, sampling_rate_hz=RATE_HZ)
    expected = tilt.inv().apply([0.0, 0.0, 1.0])
    assert np.degrees(np.arccos(np.clip(est.up_direction_.to_numpy() @ expected, -1, 1))).max() < 2.0
    world_up = Rotation.from_quat(np.array(est.orientation_), scalar_first=True).apply(np.array(est.up_direction_))
    np.testing.assert_allclose(world_up, np.tile([0.0, 0.0, 1.0], (n, 1)), atol=1e-9)


def test_blocked_scan_equals_sequential_product():
    increments = quat_from_rotvec(np.random.default_rng(2).normal(0, 0.1, (1001, 3)))
    expected = increments.copy()
    for k in range(1, len(expected)):
        expected[k] = quat_mul(expected[k - 1], increments[k])
    np.testing.assert_allclose(cumulative_quat_product(increments), expected, atol=1e-12)


def test_compute_joint_angles_names_every_pair_present(walk):
    imus, _ = walk
    frames = [frame.add_prefix(f"right_{name}_" if name != "pelvis" else "pelvis_") for name, frame in imus.items()]
    recording = Recording([pd.concat(frames, axis=1)])
    angles = compute_joint_angles(recording, standing_window_s=STANDING)
    assert list(angles.columns) == [
        f"right_{joint}_{quantity}" for joint in ("knee", "ankle") for quantity in ("angle", "velocity")
    ]
    with pytest.warns(ExohubWarning, match="hip angles from pelvis and thigh"):
        with_hip = compute_joint_angles(recording, joints=("hip", "knee"), standing_window_s=STANDING)
    assert list(with_hip.columns)[:2] == ["right_hip_angle", "right_hip_velocity"]
    only_knee = recording.drop([c for c in recording.channels if c.startswith(("pelvis", "right_foot"))])
    assert list(compute_joint_angles(only_knee).columns) == ["right_knee_angle", "right_knee_velocity"]
    with pytest.raises(ValidationError, match="No joint has IMUs"):
        compute_joint_angles(
            recording.drop([c for c in recording.channels if c.startswith("right_thigh")]), joints=["knee"]
        )


def test_rejects_bad_input(walk):
    imus, _ = walk
    thigh, shank = imus["thigh"], imus["shank"]
    est = JointAngleEstimation()
    with pytest.raises(ValidationError, match="missing IMU column"):
        est.estimate(thigh.drop(columns="gyr_z"), shank, sampling_rate_hz=RATE_HZ)
    with pytest.raises(ValidationError, match="units of g"):
        est.estimate(
            thigh.assign(acc_x=thigh.acc_x / 9.81, acc_y=thigh.acc_y / 9.81, acc_z=thigh.acc_z / 9.81),
            shank,
            sampling_rate_hz=RATE_HZ,
        )
    with pytest.raises(ValidationError, match="rad/s"):
        est.estimate(thigh, shank.assign(gyr_x=np.degrees(shank.gyr_x)), sampling_rate_hz=RATE_HZ)
    with pytest.raises(ValidationError, match="'acc_y' is nan"):
        est.estimate(
            thigh.assign(acc_y=np.where(thigh.index > 3, np.nan, thigh.acc_y)), shank, sampling_rate_hz=RATE_HZ
        )
    with pytest.raises(ValidationError, match="share one clock"):
        est.estimate(thigh.iloc[:-1], shank, sampling_rate_hz=RATE_HZ)
    with pytest.raises(ValidationError, match="hardly rotates"):
        est.estimate(thigh.assign(gyr_x=0.0, gyr_y=0.0, gyr_z=0.0), shank, sampling_rate_hz=RATE_HZ)
    with pytest.raises(ValueError, match="'joint'"):
        est.estimate(thigh, shank, sampling_rate_hz=RATE_HZ, joint="elbow")
    with pytest.raises(ValueError, match="contains no sample"):
        JointAngleEstimation(standing_window_s=(100.0, 200.0)).estimate(thigh, shank, sampling_rate_hz=RATE_HZ)


def test_params_clone_and_action_returns_self(walk):
    imus, _ = walk
    est = JointAngleEstimation(cutoff_freq_hz=0.3, standing_window_s=STANDING)
    assert est.clone().get_params() == {"cutoff_freq_hz": 0.3, "standing_window_s": STANDING, "min_angle_rad": None}
    assert est.estimate(imus["thigh"], imus["shank"], sampling_rate_hz=RATE_HZ) is est
