"""Hip-angle events: known-answer synthetic gait (flexion peaks at stride starts), sign detection, streaming."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.events import AngleEventDetection, StreamingAngleEventDetection

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
RATE_HZ = 200.0
STRIDES_S = np.array([1.0, 1.2, 0.9, 1.1, 1.05, 1.3, 0.95, 1.15])
NO_REFRACTORY = {"min_stride_fraction": 0.0, "min_stride_time_s": 0.1}


def _stride_phase(strides_s, rate_hz=RATE_HZ, start_s=0.3):
    """Time and phase (cycles, increasing by 1 per stride) with stride k starting at start_s + sum(strides[:k])."""
    starts = start_s + np.concatenate([[0.0], np.cumsum(strides_s)])
    time_s = np.arange(0, starts[-1] + 0.4, 1 / rate_hz)
    phase = np.interp(time_s, starts, np.arange(starts.size), left=np.nan, right=np.nan)
    before, after = time_s < starts[0], time_s > starts[-1]
    phase[before] = (time_s[before] - starts[0]) / strides_s[0]
    phase[after] = starts.size - 1 + (time_s[after] - starts[-1]) / strides_s[-1]
    return time_s, phase, starts


def _walking_hip(phase, swing=0.35):
    """Flexion-positive hip angle: maximum flexion at integer phase, slow extension (stance), fast flexion (swing)."""
    cycle = np.mod(phase, 1.0)
    stance = cycle < 1 - swing
    return 0.4 * np.where(stance, np.cos(np.pi * cycle / (1 - swing)), -np.cos(np.pi * (cycle - 1 + swing) / swing))


def _frame(time_s, angle):
    return pd.DataFrame({"angle": angle}, index=pd.Index(time_s, name="time_s"))


def _times(events, kind):
    return events.loc[events["event"] == kind, "time_s"].to_numpy()


def test_sinusoid_ic_and_fc_exact_within_one_sample():
    time_s, phase, starts = _stride_phase(STRIDES_S)
    frame = _frame(time_s, 0.4 * np.cos(2 * np.pi * phase))
    detector = AngleEventDetection(flexion_sign="positive", lowpass_cutoff_hz=None)
    ic = _times(detector.detect(frame, sampling_rate_hz=RATE_HZ).events_, "initial_contact")
    np.testing.assert_allclose(ic, starts, atol=1 / RATE_HZ)
    fc = _times(detector.events_, "final_contact")
    np.testing.assert_allclose(fc, starts[:-1] + STRIDES_S / 2, atol=1 / RATE_HZ)


def test_low_pass_keeps_peaks_of_a_steady_sinusoid_in_place():
    time_s = np.arange(0, 30, 1 / RATE_HZ)
    frame = _frame(time_s, 0.4 * np.cos(2 * np.pi * (time_s - 0.5) / 1.1))
    detector = AngleEventDetection(flexion_sign="positive").detect(frame, sampling_rate_hz=RATE_HZ)
    ic = _times(detector.events_, "initial_contact")
    expected = 0.5 + 1.1 * np.arange(ic.size)
    np.testing.assert_allclose(ic, expected, atol=1e-3)


def test_sign_found_from_data_when_input_is_extension_positive():
    time_s, phase, starts = _stride_phase(STRIDES_S)
    frame = _frame(time_s, -_walking_hip(phase))
    detector = AngleEventDetection(lowpass_cutoff_hz=None).detect(frame, sampling_rate_hz=RATE_HZ)
    assert detector.flexion_sign_ == -1.0
    assert detector.velocity_skewness_ < -0.1
    np.testing.assert_allclose(_times(detector.events_, "initial_contact"), starts, atol=1 / RATE_HZ)


def test_velocity_column_decides_the_sign():
    time_s, phase, _ = _stride_phase(STRIDES_S)
    angle = _walking_hip(phase)
    frame = _frame(time_s, angle).assign(velocity=np.gradient(angle, time_s))
    assert AngleEventDetection().detect(frame, sampling_rate_hz=RATE_HZ).flexion_sign_ == 1.0


def test_symmetric_signal_warns_that_sign_is_ambiguous():
    time_s, phase, _ = _stride_phase(STRIDES_S)
    with pytest.warns(ExohubWarning, match="ambiguous"):
        AngleEventDetection().detect(_frame(time_s, 0.4 * np.cos(2 * np.pi * phase)), sampling_rate_hz=RATE_HZ)


def test_standing_still_gives_no_events():
    rng = np.random.default_rng(0)
    time_s = np.arange(0, 20, 1 / RATE_HZ)
    frame = _frame(time_s, 0.1 + 0.005 * rng.standard_normal(time_s.size))
    events = AngleEventDetection(flexion_sign="positive").detect(frame, sampling_rate_hz=RATE_HZ).events_
    assert events.empty


def test_min_stride_time_keeps_one_peak_per_stride():
    time_s, phase, starts = _stride_phase(STRIDES_S)
    angle = _walking_hip(phase) + 0.03 * np.sin(2 * np.pi * 9 * time_s)  # a ripple the low-pass does not remove
    detector = AngleEventDetection(flexion_sign="positive", lowpass_cutoff_hz=None).detect(
        _frame(time_s, angle), sampling_rate_hz=RATE_HZ
    )
    assert _times(detector.events_, "initial_contact").size == starts.size


@pytest.mark.parametrize(
    ("frame", "error", "match"),
    [
        (pd.DataFrame({"hip": [0.0, 1.0, 2.0]}), ValidationError, "missing the column"),
        (pd.DataFrame({"angle": [0.0, np.nan, 2.0, 1.0]}), ValidationError, "'angle' is not finite at sample 1"),
        (pd.DataFrame({"angle": [0.0, 1.0, 2.0]}, index=[0.0, 0.0, 0.1]), ValidationError, "strictly increasing"),
        ([0.0, 1.0], TypeError, "DataFrame"),
    ],
)
def test_rejects_bad_input(frame, error, match):
    with pytest.raises(error, match=match):
        AngleEventDetection().detect(frame, sampling_rate_hz=RATE_HZ)


def test_rejects_bad_parameters():
    frame = _frame(np.arange(10) / RATE_HZ, np.zeros(10))
    with pytest.raises(ValueError, match="sampling_rate_hz"):
        AngleEventDetection().detect(frame, sampling_rate_hz=0)
    with pytest.raises(ValueError, match="flexion_sign"):
        AngleEventDetection(flexion_sign="up").detect(frame, sampling_rate_hz=RATE_HZ)
    with pytest.raises(ValueError, match="min_range_rad"):
        AngleEventDetection(min_range_rad=-1).detect(frame, sampling_rate_hz=RATE_HZ)


def test_params_clone_and_action_returns_self():
    detector = AngleEventDetection(min_stride_time_s=0.5)
    clone = detector.clone()
    assert clone.get_params() == detector.get_params()
    assert clone is not detector
    time_s, phase, _ = _stride_phase(STRIDES_S)
    assert detector.detect(_frame(time_s, _walking_hip(phase)), sampling_rate_hz=RATE_HZ) is detector


def _stream(angle, time_s, **params):
    return StreamingAngleEventDetection(**params).detect(_frame(time_s, angle), sampling_rate_hz=RATE_HZ)


def test_streaming_detector_finds_the_flexion_peaks_with_a_short_latency():
    time_s, phase, starts = _stride_phase(STRIDES_S)
    streaming = _stream(_walking_hip(phase), time_s)
    ic = _times(streaming.events_, "initial_contact")
    np.testing.assert_allclose(ic, starts, atol=1 / RATE_HZ)
    latency = streaming.detected_at_s_ - ic
    assert np.all(latency > 0)
    assert np.all(latency <= 0.13)  # the time to fall 5 % of the 0.8 rad swing after a rounded peak


def test_streaming_final_contact_and_reset():
    time_s, phase, starts = _stride_phase(STRIDES_S)
    streaming = _stream(_walking_hip(phase), time_s, event="final_contact")
    fc = _times(streaming.events_, "final_contact")
    np.testing.assert_allclose(fc, starts[:-1] + 0.65 * STRIDES_S, atol=1 / RATE_HZ)
    assert np.all(streaming.detected_at_s_ - fc <= 0.3)
    streaming.reset()
    assert np.isnan(streaming.last_event_time_s)
    assert not streaming.step(0.0, 0.0)


def _hump(time_s, centres_s, height_rad, width_s=0.05):
    return height_rad * np.exp(-0.5 * ((time_s[:, None] - centres_s[None, :]) / width_s) ** 2).sum(axis=1)


def test_a_hump_in_the_stance_ramp_is_not_an_extension_maximum():
    time_s, phase, starts = _stride_phase(STRIDES_S)
    # a 0.15 rad bump (19 % of the 0.8 rad swing) early in each stance ramp, as in loading response
    angle = _walking_hip(phase) + _hump(time_s, starts[:-1] + 0.15 * STRIDES_S, 0.15, width_s=0.03)
    fc = _times(_stream(angle, time_s, event="final_contact").events_, "final_contact")
    np.testing.assert_allclose(fc, starts[:-1] + 0.65 * STRIDES_S, atol=1 / RATE_HZ)
    # a fixed small hysteresis takes every bump for a maximum of extension
    fixed = _stream(angle, time_s, event="final_contact", hysteresis_fraction=0.01, min_range_rad=0.01, **NO_REFRACTORY)
    assert _times(fixed.events_, "final_contact").size > fc.size


def test_a_second_trough_within_a_stride_is_rejected_by_the_refractory_period():
    strides_s = np.full(12, 1.0)
    time_s, phase, starts = _stride_phase(strides_s)
    # from stride 6 on, a 0.3 rad bump early in swing leaves a second, shallow trough 0.2 s after maximum extension
    late = starts[6:-1]
    angle = _walking_hip(phase) + _hump(time_s, late + 0.75, 0.3, width_s=0.04)
    small = {"event": "final_contact", "hysteresis_fraction": 0.02, "min_range_rad": 0.01}  # sees the 0.03 rad dip
    streaming = _stream(angle, time_s, **small)
    fc = _times(streaming.events_, "final_contact")
    assert fc.size == strides_s.size
    np.testing.assert_allclose(fc[-5:], late[-5:] + 0.65, atol=0.03)  # the bump's flank moves the trough 25 ms
    assert np.diff(fc).min() > 0.6
    without = _stream(angle, time_s, **small, **NO_REFRACTORY)
    assert np.diff(_times(without.events_, "final_contact")).min() < 0.5


def test_streaming_standing_still_gives_no_events():
    rng = np.random.default_rng(0)
    time_s = np.arange(0, 20, 1 / RATE_HZ)
    angle = 0.1 + 0.002 * rng.standard_normal(time_s.size)  # 0.1 degree: an encoder's noise
    for event in ("initial_contact", "final_contact"):
        assert _stream(angle, time_s, event=event).events_.empty


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"event": "heel_strike"}, "event"),
        ({"hysteresis_fraction": 1.2}, "hysteresis_fraction"),
        ({"hysteresis_fraction": 0.0}, "hysteresis_fraction"),
        ({"min_stride_fraction": -0.1}, "min_stride_fraction"),
        ({"min_range_rad": -1.0}, "min_range_rad"),
    ],
)
def test_streaming_rejects_bad_parameters(params, match):
    time_s, phase, _ = _stride_phase(STRIDES_S)
    with pytest.raises(ValueError, match=match):
        StreamingAngleEventDetection(**params).detect(_frame(time_s, _walking_hip(phase)), sampling_rate_hz=RATE_HZ)


@pytest.mark.skipif(not (DATA / "hipexo_gait_phase").is_dir(), reason="../shared/data/hipexo_gait_phase absent")
def test_hipexo_causal_phase_from_streaming_extension_maxima():
    # Assisted walks whose stance humps fooled the previous detector (20-25 % RMSE); now 7.2-8.8 %, oracle about 5 %.
    from exohub.signals.datasets import load_hipexo
    from exohub.signals.phase import StrideTimePhaseEstimation, compute_phase_from_events, compute_phase_rmse

    for name in ("AB06/labeled_chopped_CCW_BT_4.txt.gz", "AB03/labeled_chopped_CCW_BT_1_clip_1.txt.gz"):
        recording = load_hipexo(DATA / "hipexo_gait_phase" / name)
        frame = recording.to_frame()
        time_s = frame.index.to_numpy()
        for side in ("left", "right"):
            label = recording.labels[f"{side}_phase"].to_numpy()
            covered = np.isfinite(compute_phase_from_events(time_s, time_s[1:][np.diff(label) < -0.5]))
            streaming = _stream(frame[f"{side}_hip_angle"].to_numpy(), time_s, event="final_contact")
            anchors = _times(streaming.events_, "final_contact")
            phase = StrideTimePhaseEstimation().estimate(time_s, anchors, detected_at_s=streaming.detected_at_s_)
            rmse = compute_phase_rmse(phase.phase_.to_numpy()[covered], label[covered])
            assert rmse < 11.0, (name, side, rmse)


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "gaitalytics_c3d_emg").is_dir(), reason="../shared/data/gaitalytics_c3d_emg absent")
def test_gaitalytics_hip_angle_events_match_foot_strikes():
    folder = DATA / "gaitalytics_c3d_emg"
    angles = pd.read_csv(folder / "treadmill_events_angles_100Hz.csv").set_index("time_s")
    reference = pd.read_csv(folder / "treadmill_events_events.csv")
    frame = pd.DataFrame({"angle": np.deg2rad(angles["LHipAngles_X"])})
    detector = AngleEventDetection().detect(frame, sampling_rate_hz=100.0)
    assert detector.flexion_sign_ == 1.0  # Plug-in-Gait hip angles are flexion-positive
    ic = _times(detector.events_, "initial_contact")
    strikes = reference.query("side == 'Left' and event == 'Foot Strike'")["time_s"].to_numpy()
    lag = strikes[:, None] - ic[None, :]
    nearest = lag[np.arange(strikes.size), np.argmin(np.abs(lag), axis=1)]
    matched = nearest[np.abs(nearest) < 0.3]
    assert matched.size >= strikes.size - 1
    assert 0.1 < matched.mean() < 0.25  # maximum hip flexion precedes foot strike by 10-25 % of a 1.1 s stride
    assert matched.std() < 0.03


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "hipexo_gait_phase").is_dir(), reason="../shared/data/hipexo_gait_phase absent")
def test_hipexo_angle_is_flexion_positive_and_labels_start_at_max_extension():
    from exohub.signals.datasets import load_hipexo

    recording = load_hipexo(DATA / "hipexo_gait_phase" / "AB02" / "labeled_CW_ZI_1.txt.gz")
    frame = recording.to_frame()
    for side in ("left", "right"):
        angle = pd.DataFrame({"angle": frame[f"{side}_hip_angle"], "velocity": frame[f"{side}_hip_velocity"]})
        detector = AngleEventDetection().detect(angle, sampling_rate_hz=200.0)
        assert detector.flexion_sign_ == 1.0
        label = recording.labels[f"{side}_phase"].to_numpy()
        at = np.round(_times(detector.events_, "final_contact") * 200).astype(int)
        mean = np.angle(np.mean(np.exp(2j * np.pi * label[at]))) / (2 * np.pi)
        assert abs(mean) < 0.02
