"""Up time and assistance over time: known-answer postures and torques, and real hip-exoskeleton walking."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exohub.signals import Recording
from exohub.signals.datasets import load_hipexo
from exohub.signals.metrics import ASSISTANCE_METRICS, compute_assistance_over_time, compute_up_time

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "hipexo_gait_phase"
RATE_HZ = 100.0


def _hips(left_deg: np.ndarray, right_deg: np.ndarray, *, body_part: str = "hip") -> Recording:
    time_s = np.arange(left_deg.size) / RATE_HZ
    stream = {f"left_{body_part}_angle": np.radians(left_deg), f"right_{body_part}_angle": np.radians(right_deg)}
    return Recording([pd.DataFrame(stream, index=time_s)])


def _postures(*segments: tuple[float, float]) -> np.ndarray:
    """Hip flexion (deg) held at each ``(angle_deg, duration_s)`` in turn."""
    return np.concatenate(
        [np.full(round(duration_s * RATE_HZ), float(angle_deg)) for angle_deg, duration_s in segments]
    )


def test_up_time_counts_standing_and_walking_not_sitting() -> None:
    # 30 s up with a 1 s squat (too short to be sitting), 20 s sitting, 1.5 s risen (too short to be up),
    # 10 s sitting, 40 s walking
    walking = 20.0 + 25.0 * np.sin(2 * np.pi * np.arange(round(40 * RATE_HZ)) / RATE_HZ)
    left = np.concatenate([_postures((10, 15), (75, 1), (10, 14), (90, 20), (30, 1.5), (90, 10)), walking])
    right = np.concatenate([_postures((12, 15), (75, 1), (12, 14), (85, 20), (30, 1.5), (85, 10)), walking[::-1]])
    up = compute_up_time(_hips(left, right))
    assert up.sitting_time_s == pytest.approx(31.5)  # short postures keep the posture before them
    assert up.up_time_s == pytest.approx(70.0)
    assert up.unknown_time_s == 0.0 and up.n_sit_to_stand == 1
    assert up.source == "hip angles: left_hip_angle, right_hip_angle"


def test_one_hip_held_flexed_is_still_up_and_nan_counts_to_neither() -> None:
    left = _postures((5, 10), (95, 5), (5, 10))  # standing hip-flexion exercise: the left knee raised for 5 s
    right = _postures((5, 25))
    right[100:300] = np.nan  # 2 s without the right angle
    up = compute_up_time(_hips(left, right))
    assert up.up_time_s == pytest.approx(23.0) and up.sitting_time_s == 0.0
    assert up.unknown_time_s == pytest.approx(2.0) and up.n_sit_to_stand == 0


def test_threshold_and_minimum_duration_are_parameters() -> None:
    left = right = _postures((10, 10), (50, 3), (10, 10))
    assert compute_up_time(_hips(left, right)).sitting_time_s == 0.0
    assert compute_up_time(_hips(left, right), sitting_hip_flexion_deg=45.0).sitting_time_s == pytest.approx(3.0)
    assert compute_up_time(_hips(left, right), sitting_hip_flexion_deg=45.0, min_posture_s=5.0).sitting_time_s == 0.0


def test_thigh_angles_serve_without_hip_angles() -> None:
    up = compute_up_time(_hips(_postures((0, 5), (90, 5)), _postures((0, 5), (90, 5)), body_part="thigh"))
    assert up.source == "thigh angles: left_thigh_angle, right_thigh_angle"
    assert up.up_time_s == pytest.approx(5.0) and up.sitting_time_s == pytest.approx(5.0)


def test_hip_angles_with_anatomical_axes_use_the_flexion_axis() -> None:
    time_s = np.arange(round(20 * RATE_HZ)) / RATE_HZ
    flexion = np.radians(np.where(time_s < 10, 10.0, 90.0))
    stream = {
        f"{side}_hip_angle_{axis}": flexion if axis == "x" else np.radians(5.0) * np.sin(time_s)
        for side in ("left", "right")
        for axis in "xyz"
    }
    up = compute_up_time(Recording([pd.DataFrame(stream, index=time_s)]))
    assert up.source == "hip angles: left_hip_angle_x, right_hip_angle_x"
    assert up.sitting_time_s == pytest.approx(10.0)


def test_up_time_is_unknown_without_angles_of_both_sides() -> None:
    time_s = np.arange(100) / RATE_HZ
    trunk = Recording([pd.DataFrame({"pelvis_acc_x": np.zeros(100), "pelvis_acc_y": np.full(100, 9.81)}, index=time_s)])
    up = compute_up_time(trunk)
    assert up.up_time_s is None and up.sitting_time_s is None and up.n_sit_to_stand is None
    assert up.source == "no hip or thigh angles of both sides"
    one_side = compute_up_time(Recording([pd.DataFrame({"left_hip_angle": np.zeros(100)}, index=time_s)]))
    assert one_side.up_time_s is None and "one side only (left_hip_angle)" in one_side.source


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sitting_hip_flexion_deg": 0.0}, "sitting_hip_flexion_deg must be a finite positive number, got 0.0"),
        ({"sitting_hip_flexion_deg": 200.0}, r"sitting_hip_flexion_deg must be an angle in \(0, 180\)"),
        ({"min_posture_s": -1.0}, "min_posture_s must be a finite number of at least 0, got -1.0"),
    ],
)
def test_up_time_rejects_bad_parameters(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        compute_up_time(_hips(np.zeros(10), np.zeros(10)), **kwargs)


def _torque(duration_s: float = 150.0, rate_hz: float = 1000.0, *, velocity: bool = True) -> Recording:
    time_s = np.arange(round(duration_s * rate_hz)) / rate_hz
    stream = {"left_hip_torque": 10.0 * np.sin(2 * np.pi * time_s)}
    if velocity:
        stream["left_hip_velocity"] = np.cos(2 * np.pi * time_s)
    return Recording([pd.DataFrame(stream, index=time_s)])


def test_assistance_of_a_sine_torque_has_the_known_mean_peak_power_and_work() -> None:
    assistance = compute_assistance_over_time(_torque(), bin_s=60.0)
    np.testing.assert_allclose(assistance.index, [0.0, 60.0, 120.0])
    left = assistance["left_hip_torque"]
    assert list(left.columns) == list(ASSISTANCE_METRICS)
    np.testing.assert_allclose(left["covered_s"], [60.0, 60.0, 30.0])
    np.testing.assert_allclose(left["mean_abs_torque_nm"], 20.0 / np.pi, rtol=1e-5)
    np.testing.assert_allclose(left["peak_abs_torque_nm"], 10.0)
    # power 10 sin * cos = 5 sin(4 pi t): mean |p| = 10/pi W, positive work 5/pi J per second
    np.testing.assert_allclose(left["mean_abs_power_w"], 10.0 / np.pi, rtol=1e-4)  # sampled at 1 kHz
    np.testing.assert_allclose(left["positive_work_j"], [300 / np.pi, 300 / np.pi, 150 / np.pi], rtol=1e-4)


def test_assistance_skips_nan_and_needs_a_velocity_for_power() -> None:
    recording = _torque(duration_s=10.0, velocity=False)
    recording.streams[0].iloc[:2000, 0] = np.nan  # the first 2 s lost
    left = compute_assistance_over_time(recording, bin_s=5.0)["left_hip_torque"]
    np.testing.assert_allclose(left["covered_s"], [3.0, 5.0])
    np.testing.assert_allclose(left["mean_abs_torque_nm"], 20.0 / np.pi, rtol=1e-5)
    assert left["mean_abs_power_w"].isna().all() and left["positive_work_j"].isna().all()


def test_assistance_takes_a_velocity_from_another_clock() -> None:
    time_s = np.arange(10_000) / 1000.0
    slow_s = np.arange(1000) / 100.0
    recording = Recording(
        [
            pd.DataFrame({"right_knee_torque": 10.0 * np.sin(2 * np.pi * time_s)}, index=time_s),
            pd.DataFrame({"right_knee_velocity": np.cos(2 * np.pi * slow_s)}, index=slow_s),
        ]
    )
    right = compute_assistance_over_time(recording, bin_s=5.0)["right_knee_torque"]
    np.testing.assert_allclose(right["mean_abs_power_w"].iloc[0], 10.0 / np.pi, rtol=2e-3)


def test_assistance_without_torque_has_no_columns_and_rejects_a_bad_bin() -> None:
    recording = _hips(np.zeros(200), np.zeros(200))
    assert compute_assistance_over_time(recording).columns.empty
    with pytest.raises(ValueError, match="bin_s must be a finite positive number, got 0"):
        compute_assistance_over_time(_torque(duration_s=1.0), bin_s=0)


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data/hipexo_gait_phase absent")
def test_real_hip_exo_walking_is_all_up_time_and_a_sat_down_stretch_is_not() -> None:
    recording = load_hipexo(DATA / "AB01" / "labeled_CW_ZI_1.txt.gz")
    up = compute_up_time(recording)
    period_s = 1.0 / recording.sampling_rate_hz("left_hip_angle")
    # the circuit has stairs: one hip passes 60 degrees for up to ~0.4 s, never long enough to count as sitting
    assert up.up_time_s == pytest.approx(recording.duration_s + period_s) and up.sitting_time_s == 0.0
    # the same walk with a 10 s stretch moved to a sitting posture (real joint noise kept, offset by 85 degrees)
    stream = recording.streams[0].copy()
    sitting = (stream.index >= 8.0) & (stream.index < 18.0)
    for side in ("left", "right"):
        values = stream[f"{side}_hip_angle"].to_numpy()
        stream.loc[sitting, f"{side}_hip_angle"] = np.radians(85.0) + 0.1 * (values[sitting] - values[sitting].mean())
    up = compute_up_time(Recording([stream]))
    assert up.sitting_time_s == pytest.approx(10.0, abs=0.05) and up.n_sit_to_stand == 1
