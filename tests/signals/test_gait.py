"""The one-call gait layer: source choice, events, phase (offline and causal), analysis; known answers and real data."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exohub.exceptions import ValidationError
from exohub.signals import Recording
from exohub.signals.events import NORMATIVE_INITIAL_CONTACT_LAG
from exohub.signals.gait import analyse_gait, detect_gait_events, estimate_gait_phase, find_event_sources
from exohub.signals.phase import circular_error

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
RATE_HZ = 200.0
EMG_RATE_HZ = 1000.0
STRIDE_S = 1.1
STANCE = 0.62
N_STRIDES = 20


def _contacts(side: str) -> np.ndarray:
    """Initial-contact times: the right leg half a stride after the left."""
    return 1.0 + (0.5 * STRIDE_S if side == "right" else 0.0) + STRIDE_S * np.arange(N_STRIDES)


def _hip_flexion(time_s: np.ndarray, side: str) -> np.ndarray:
    """Flexion-positive hip angle whose maximum comes NORMATIVE_INITIAL_CONTACT_LAG of a stride before contact."""
    cycle = np.mod((time_s - _contacts(side)[0]) / STRIDE_S + NORMATIVE_INITIAL_CONTACT_LAG, 1.0)
    swing = 0.35
    stance = cycle < 1 - swing
    return 0.4 * np.where(stance, np.cos(np.pi * cycle / (1 - swing)), -np.cos(np.pi * (cycle - 1 + swing) / swing))


def _walk(*, switches: bool = True, angles: bool = True) -> Recording:
    time_s = np.arange(0.0, 1.5 + N_STRIDES * STRIDE_S, 1 / RATE_HZ)
    slow = {}
    for side in ("left", "right"):
        if angles:
            slow[f"{side}_hip_angle"] = _hip_flexion(time_s, side)
        if switches:
            elapsed = np.mod(time_s - _contacts(side)[0], STRIDE_S)
            inside = (time_s >= _contacts(side)[0]) & (time_s < _contacts(side)[-1] + STRIDE_S)
            slow[f"{side}_foot_switch"] = ((elapsed < STANCE * STRIDE_S) & inside).astype(float)
    slow["left_thigh_skin_temp"] = 32.0 + time_s / 3600.0
    emg_time_s = np.arange(0.0, time_s[-1], 1 / EMG_RATE_HZ)
    rng = np.random.default_rng(0)
    # Tibialis anterior active around the left heel strike: a burst in the 10 % of the stride around each contact.
    near_contact = np.abs(circular_error((emg_time_s - _contacts("left")[0]) / STRIDE_S % 1.0, 0.0)) < 0.05
    emg = {"left_tibialis_anterior_emg": rng.normal(0, 1e-5, emg_time_s.size) * (1 + 20 * near_contact)}
    return Recording(
        [
            pd.DataFrame(slow, index=pd.Index(time_s, name="time_s")),
            pd.DataFrame(emg, index=pd.Index(emg_time_s, name="time_s")),
        ],
        {"description": "synthetic walk"},
    )


def _initial_contacts(events: pd.DataFrame, side: str) -> np.ndarray:
    return events.query("side == @side and event == 'initial_contact'")["time_s"].to_numpy()


def test_a_load_sensor_is_trusted_before_a_hip_angle() -> None:
    assert {side: source.kind for side, source in find_event_sources(_walk()).items()} == {
        "left": "switch",
        "right": "switch",
    }
    assert find_event_sources(_walk(switches=False))["left"].kind == "hip_angle"


def test_footswitch_contacts_are_found_to_the_sample() -> None:
    events = detect_gait_events(_walk()).events
    for side in ("left", "right"):
        np.testing.assert_allclose(_initial_contacts(events, side), _contacts(side), atol=1 / RATE_HZ)


def test_hip_angle_contacts_come_a_normative_lag_after_maximum_flexion() -> None:
    events = detect_gait_events(_walk(switches=False)).events
    for side in ("left", "right"):
        found = _initial_contacts(events, side)
        expected = _contacts(side)
        matched = expected[np.abs(expected[:, None] - found[None, :]).min(axis=1) < 0.1]
        assert len(matched) >= N_STRIDES - 2
        # The 6 Hz zero-phase low-pass moves the peak of this asymmetric curve by about two samples.
        assert np.abs(np.subtract.outer(found, matched)).min(axis=0).max() < 3 / RATE_HZ


def test_no_usable_sensor_names_what_would_do() -> None:
    time_s = np.arange(0, 10, 0.01)
    recording = Recording([pd.DataFrame({"pelvis_acc_x": np.sin(time_s)}, index=pd.Index(time_s, name="time_s"))])
    with pytest.raises(ValidationError, match=r"No channel to find gait events from.*foot_force.*pelvis_acc_x"):
        detect_gait_events(recording)


def test_offline_phase_is_zero_at_contact_and_half_at_mid_stride() -> None:
    gait_phase = estimate_gait_phase(_walk())
    assert gait_phase.sampling_rate_hz == RATE_HZ and not gait_phase.causal
    for side in ("left", "right"):
        phase = gait_phase.phase[f"{side}_phase"]
        contacts = _contacts(side)[1:-1]
        at_contact = phase.to_numpy()[np.searchsorted(phase.index, contacts)]
        at_middle = np.interp(contacts + STRIDE_S / 2, phase.index, phase.to_numpy())
        assert np.abs(circular_error(at_contact, 0.0)).max() < 0.01
        np.testing.assert_allclose(at_middle, 0.5, atol=0.01)


def test_causal_phase_tracks_steady_walking_and_never_looks_ahead() -> None:
    recording = _walk()
    full = estimate_gait_phase(recording, causal=True).phase
    steady = full.loc[_contacts("left")[4] : _contacts("left")[-2], "left_phase"]
    offline = estimate_gait_phase(recording).phase.loc[steady.index, "left_phase"]
    # Exact stride times: the causal estimate equals the offline one except while a contact awaits confirmation.
    assert np.sqrt(np.nanmean(circular_error(steady, offline) ** 2)) < 0.05
    cut_s = _contacts("left")[10] + 0.3
    early = estimate_gait_phase(recording.crop(None, cut_s), causal=True).phase
    pd.testing.assert_frame_equal(early, full.loc[:cut_s])


def test_analysis_reports_steps_emg_and_temperature_as_json_and_text() -> None:
    analysis = analyse_gait(_walk())
    report = json.loads(json.dumps(analysis.to_dict()))
    assert report["event_sources"]["left"]["kind"] == "switch"
    assert report["summary"]["n_strides"] >= 2 * (N_STRIDES - 2)
    assert report["summary"]["cadence_steps_per_min"] == pytest.approx(120 / STRIDE_S, rel=0.01)
    assert report["summary"]["left"]["stance_pct_mean"] == pytest.approx(100 * STANCE, abs=1.0)
    profile = analysis.report.emg_profiles["left_tibialis_anterior_emg"]
    assert profile.idxmax() < 8 or profile.idxmax() > 92  # the burst sits at heel strike
    assert report["skin_temperature"]["left_thigh_skin_temp"]["max_c"] == pytest.approx(32.0 + 23.5 / 3600, abs=1e-3)
    text = analysis.to_text()
    assert "cadence 109.1 steps/min" in text and "left_tibialis_anterior_emg" in text


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")
def test_foot_imu_events_on_the_real_walk_match_motion_capture() -> None:
    from exohub.signals.datasets import load_gaitmap_imu

    recording = load_gaitmap_imu(DATA / "gaitmap_example" / "imu_sample.csv")
    gait_events = detect_gait_events(recording)
    assert {source.kind for source in gait_events.sources.values()} == {"foot_imu"}
    for side in ("left", "right"):
        reference = _initial_contacts(recording.events, side)
        found = _initial_contacts(gait_events.events, side)
        found = found[(found > reference[0] - 0.05) & (found < reference[-1] + 0.05)]
        errors_s = np.abs(np.subtract.outer(found, reference)).min(axis=0)
        assert (errors_s < 0.05).mean() >= 0.95
        assert np.median(errors_s) < 0.015


def test_analysis_adds_knee_angle_from_thigh_and_shank_imus() -> None:
    from exohub.signals.kinematics import simulate_leg_imus

    imus, truth = simulate_leg_imus(duration_s=40.0, sampling_rate_hz=RATE_HZ, seed=1)
    frames = [frame.add_prefix(f"right_{segment}_") for segment, frame in imus.items() if segment != "pelvis"]
    analysis = analyse_gait(Recording([pd.concat(frames, axis=1)]))
    assert analysis.gait_events.sources["right"].kind == "foot_imu"
    rom_deg = analysis.report.summary["rom_deg"]
    assert set(rom_deg) == {"right_knee_angle", "right_ankle_angle"}
    walking = truth.loc[10.0:, "knee"]
    assert rom_deg["right_knee_angle"] == pytest.approx(np.degrees(walking.max() - walking.min()), abs=3.0)
