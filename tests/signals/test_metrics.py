"""Known-answer gait: stride 1.0 s, stance 60 %, step 0.5 s, so double support 20 % and cadence 120 steps/min."""

import json

import numpy as np
import pandas as pd
import pytest

from exohub.signals import Recording
from exohub.signals.metrics import compute_gait_report, find_bouts, find_strides, symmetry_index_pct


def _events(n_strides=10, stride_s=1.0, stance=0.6, start_s=0.0):
    rows = []
    for k in range(n_strides + 1):
        t = start_s + k * stride_s
        rows += [("left", "initial_contact", t), ("left", "final_contact", t + stance * stride_s)]
        rows += [
            ("right", "initial_contact", t + 0.5 * stride_s),
            ("right", "final_contact", t + (0.5 + stance) * stride_s),
        ]
    return pd.DataFrame(rows, columns=["side", "event", "time_s"])


@pytest.fixture
def walk():
    time_s = np.arange(0, 12, 0.01)
    stream = pd.DataFrame(
        {"left_hip_angle": np.radians(20) * np.sin(2 * np.pi * time_s), "left_shank_skin_temp": 30 + time_s / 3600},
        index=time_s,
    )
    return Recording([stream])


def test_temporal_parameters(walk):
    report = compute_gait_report(walk, _events())
    left = report.summary["left"]
    assert left["stride_time_s_mean"] == pytest.approx(1.0)
    assert left["stance_pct_mean"] == pytest.approx(60.0)
    assert left["swing_pct_mean"] == pytest.approx(40.0)
    assert left["step_time_s_mean"] == pytest.approx(0.5)
    assert left["double_support_pct_mean"] == pytest.approx(20.0)
    assert report.summary["cadence_steps_per_min"] == pytest.approx(120.0)
    assert report.summary["symmetry_index_pct"]["stride_time_s"] == pytest.approx(0.0, abs=1e-9)
    assert report.summary["rom_deg"]["left_hip_angle"] == pytest.approx(40.0, abs=0.1)
    assert report.skin_temperature["left_shank_skin_temp"]["trend_c_per_h"] == pytest.approx(1.0)


def test_a_missed_final_contact_gives_nan_not_a_wrong_stance():
    events = _events()
    events = events.drop(events.index[(events["side"] == "left") & (events["event"] == "final_contact")][3])
    strides = find_strides(events)
    left = strides[strides["side"] == "left"]
    assert left["stance_time_s"].isna().sum() == 1
    assert left["stance_time_s"].dropna().eq(0.6).all() or np.allclose(left["stance_time_s"].dropna(), 0.6)


def test_a_missed_initial_contact_drops_the_long_stride():
    events = _events(stride_s=1.6)
    events = events.drop(events.index[(events["side"] == "left") & (events["event"] == "initial_contact")][4])
    strides = find_strides(events)
    assert (strides["stride_time_s"] <= 3.0).all()
    assert len(strides[strides["side"] == "left"]) == 8


def test_bouts_split_at_pauses():
    events = pd.concat([_events(5), _events(5, start_s=20.0)])
    bouts = find_bouts(find_strides(events))
    assert len(bouts) == 2
    assert bouts["n_strides"].tolist() == [10, 10]


def test_symmetry_index_sign_says_which_side():
    assert symmetry_index_pct(1.1, 1.0) == pytest.approx(100 * 0.1 / 1.05)
    assert symmetry_index_pct(1.0, 1.1) < 0
    assert np.isnan(symmetry_index_pct(0.0, 0.0))


def test_emg_profile_is_time_normalised(walk):
    time_s = np.arange(0, 12, 0.001)
    envelope = pd.DataFrame({"left_tibialis_anterior_emg": np.mod(time_s, 1.0)}, index=time_s)  # ramps each stride
    report = compute_gait_report(walk, _events(), emg_envelope=envelope)
    profile = report.emg_profiles["left_tibialis_anterior_emg"]
    np.testing.assert_allclose(profile.iloc[1:-1], profile.index[1:-1] / 100.0, atol=2e-3)
    assert report.to_dict()["emg_profiles"]["cycle_pct"][-1] == 100.0


def _per_stride(time_s, amplitudes):
    """Each 1 s stride k (of ``_events``) scaled by ``amplitudes[k]``; the last amplitude after the strides."""
    return np.asarray(amplitudes)[np.minimum(np.floor(time_s).astype(int), len(amplitudes) - 1)]


def test_angle_profile_is_the_mean_and_sd_of_the_strides_in_degrees():
    time_s = np.arange(0, 12, 0.01)
    amplitudes_deg = np.array([10.0, 30.0, 15.0, 25.0, 20.0, 12.0, 28.0, 18.0, 22.0, 20.0, 20.0, 20.0])
    angle_rad = np.radians(_per_stride(time_s, amplitudes_deg)) * np.sin(2 * np.pi * time_s)
    report = compute_gait_report(Recording([pd.DataFrame({"left_hip_angle": angle_rad}, index=time_s)]), _events())
    strides = amplitudes_deg[:10]  # the left strides start at 0, 1, ..., 9 s
    shape = np.sin(2 * np.pi * report.angle_profiles_deg.index / 100.0)
    np.testing.assert_allclose(report.angle_profiles_deg["left_hip_angle"], strides.mean() * shape, atol=1e-9)
    np.testing.assert_allclose(
        report.angle_profiles_sd_deg["left_hip_angle"], strides.std(ddof=1) * np.abs(shape), atol=1e-9
    )
    assert report.angle_profiles_deg.index.name == "cycle_pct" and len(report.angle_profiles_deg) == 101


def test_emg_profile_sd_spreads_with_the_strides(walk):
    time_s = np.arange(0, 12, 0.001)
    scale = np.array([1.0, 3.0] * 6)
    envelope = pd.DataFrame({"left_tibialis_anterior_emg": np.mod(time_s, 1.0) * _per_stride(time_s, scale)}, time_s)
    report = compute_gait_report(walk, _events(), emg_envelope=envelope)
    pct = report.emg_profiles.index[1:-1] / 100.0
    np.testing.assert_allclose(report.emg_profiles["left_tibialis_anterior_emg"].iloc[1:-1], 2.0 * pct, atol=5e-3)
    sd = report.emg_profiles_sd["left_tibialis_anterior_emg"].iloc[1:-1]
    np.testing.assert_allclose(sd, scale[:10].std(ddof=1) * pct, atol=5e-3)


def test_report_json_has_profiles_up_time_and_assistance(walk):
    time_s = np.arange(0, 12, 0.01)
    stream = pd.DataFrame(
        {
            "left_hip_angle": np.radians(20) * np.sin(2 * np.pi * time_s),
            "right_hip_angle": np.radians(20) * np.sin(2 * np.pi * (time_s - 0.5)),
            "left_hip_torque": 10.0 * np.sin(2 * np.pi * time_s),
        },
        index=time_s,
    )
    report = compute_gait_report(Recording([stream]), _events(), assistance_bin_s=5.0)
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert set(data["angle_profiles_deg"]) == {"cycle_pct", "left_hip_angle", "right_hip_angle"}
    assert data["angle_profiles_sd_deg"]["left_hip_angle"][25] == pytest.approx(0.0, abs=1e-9)
    assert data["summary"]["up_time_s"] == pytest.approx(12.0)
    assert data["summary"]["up_time_source"] == "hip angles: left_hip_angle, right_hip_angle"
    assert data["up_time"]["sitting_time_s"] == 0.0 and data["up_time"]["n_sit_to_stand"] == 0
    left = data["assistance"]["left_hip_torque"]
    assert left["bin_start_s"] == [0.0, 5.0, 10.0] and left["covered_s"] == pytest.approx([5.0, 5.0, 2.0])
    assert left["mean_abs_torque_nm"][0] == pytest.approx(20 / np.pi, rel=1e-3)
    assert left["positive_work_j"] == [None, None, None]  # no velocity channel: no power, JSON null
    assert "emg_profiles_sd" not in data


def test_report_without_angles_or_torque_says_why(walk):
    report = compute_gait_report(walk.drop(["left_hip_angle"]), _events())
    assert report.angle_profiles_deg is None and report.assistance is None
    data = report.to_dict()
    assert data["summary"]["up_time_s"] is None
    assert data["summary"]["up_time_source"] == "no hip or thigh angles of both sides"
    assert "assistance" not in data and "angle_profiles_deg" not in data
