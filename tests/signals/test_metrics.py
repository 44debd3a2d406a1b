"""Known-answer gait: stride 1.0 s, stance 60 %, step 0.5 s, so double support 20 % and cadence 120 steps/min."""

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
