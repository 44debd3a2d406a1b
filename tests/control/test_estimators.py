"""Streaming estimators: known answers on synthetic signals, and parity with their offline twins on real recordings."""

import math
from pathlib import Path

import numpy as np
import pytest

from exohub.control import AdaptiveOscillatorPhase, EmgEffort, LocomotionModeEstimator, StandingWalkingModeEstimator
from exohub.exceptions import ValidationError
from exohub.signals.phase import GaitPhaseEstimator, circular_error, compute_phase_from_events

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
HIPEXO = DATA / "hipexo_gait_phase"
GAITALYTICS = DATA / "gaitalytics_c3d_emg"
RATE_HZ = 200.0


def _run(estimator, time_s: np.ndarray, values: np.ndarray) -> np.ndarray:
    return np.array([estimator.step(t, v) for t, v in zip(time_s.tolist(), values.tolist(), strict=True)])


def _hip_like(time_s: np.ndarray, stride_hz: float = 1.0) -> np.ndarray:
    """Flexion-positive hip angle: a fundamental and a second harmonic; extension maxima at the angle's minima."""
    angle = 2 * np.pi * stride_hz * time_s
    return 0.1 + 0.35 * np.sin(angle) + 0.06 * np.sin(2 * angle + 0.7)


# --- adaptive oscillator ------------------------------------------------------------------------------------------
def test_oscillator_meets_the_phase_protocol():
    assert isinstance(AdaptiveOscillatorPhase(), GaitPhaseEstimator)


@pytest.mark.parametrize("stride_hz", [0.6, 1.0, 1.4])
def test_oscillator_learns_the_stride_frequency_and_anchors_phase_zero_on_extension_maxima(stride_hz):
    time_s = np.arange(0, 40, 1 / RATE_HZ)
    angle = _hip_like(time_s, stride_hz)
    estimator = AdaptiveOscillatorPhase()
    phase = _run(estimator, time_s, angle)
    assert estimator.frequency_hz == pytest.approx(stride_hz, rel=0.01)
    minima = np.flatnonzero((angle[1:-1] < angle[:-2]) & (angle[1:-1] <= angle[2:])) + 1
    reference = compute_phase_from_events(time_s, time_s[minima])
    late = time_s > 25
    assert np.all(np.isfinite(phase[late]))
    assert np.sqrt(np.nanmean(circular_error(phase[late], reference[late]) ** 2)) < 0.01


def test_fixed_offset_shifts_the_phase_and_needs_no_anchor():
    time_s = np.arange(0, 30, 1 / RATE_HZ)
    angle = _hip_like(time_s)
    free = _run(AdaptiveOscillatorPhase(anchor_event=None), time_s, angle)
    shifted = _run(AdaptiveOscillatorPhase(anchor_event=None, phase_offset=0.25), time_s, angle)
    assert np.isfinite(free[time_s > 3]).all()
    np.testing.assert_allclose(circular_error(shifted[time_s > 3], free[time_s > 3]), 0.25, atol=1e-9)
    # the free-running phase advances one cycle per stride once locked
    increments = np.mod(np.diff(free[time_s > 20]), 1.0)
    assert np.median(increments) * RATE_HZ == pytest.approx(1.0, rel=0.02)


def test_oscillator_phase_is_nan_while_standing_and_before_the_first_anchor():
    time_s = np.arange(0, 30, 1 / RATE_HZ)
    angle = np.where(time_s < 15, _hip_like(time_s), 0.05)
    phase = _run(AdaptiveOscillatorPhase(), time_s, angle)
    assert np.isnan(phase[: int(0.5 * RATE_HZ)]).all()
    assert np.isnan(phase[time_s > 25]).all()
    assert np.isfinite(phase[(time_s > 8) & (time_s < 15)]).all()


def test_oscillator_skips_bad_samples_and_reset_forgets():
    time_s = np.arange(0, 20, 1 / RATE_HZ)
    angle = _hip_like(time_s)
    estimator = AdaptiveOscillatorPhase()
    clean = _run(estimator, time_s, angle)
    estimator.reset()
    assert math.isnan(estimator.offset) and estimator.frequency_hz == pytest.approx(0.9)
    with_glitches = angle.copy()
    with_glitches[[1000, 2000]] = np.nan
    glitched = _run(estimator, time_s, with_glitches)
    assert np.isnan(glitched[[1000, 2000]]).all()
    assert math.isnan(estimator.step(time_s[-1], 0.1))  # a time stamp that does not advance
    late = time_s > 15
    assert np.abs(circular_error(glitched[late], clean[late])).max() < 0.01


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"n_oscillators": 0}, "n_oscillators"),
        ({"initial_frequency_hz": 3.0}, "initial_frequency_hz"),
        ({"phase_gain": -1.0}, "phase_gain"),
        ({"anchor_event": "heel_strike"}, "anchor_event"),
        ({"anchor_weight": 0.0}, "anchor_weight"),
        ({"anchor_phase": math.nan}, "anchor_phase"),
        ({"frequency_anchor_weight": math.nan}, "frequency_anchor_weight"),
        ({"frequency_anchor_weight": 1.5}, "frequency_anchor_weight"),
    ],
)
def test_oscillator_refuses_bad_parameters(changes, message):
    with pytest.raises(ValueError, match=message):
        AdaptiveOscillatorPhase(**changes)


@pytest.mark.skipif(not HIPEXO.is_dir(), reason=f"hip-exoskeleton data not found at {HIPEXO}")
def test_oscillator_follows_the_offline_event_phase_on_a_real_recording():
    from exohub.signals.datasets import load_hipexo
    from exohub.signals.events import AngleEventDetection

    recording = load_hipexo(HIPEXO / "AB02" / "labeled_CW_ZI_1.txt.gz")
    frame = recording.to_frame()
    time_s = frame.index.to_numpy()
    angle = frame[["left_hip_angle", "left_hip_velocity"]].set_axis(["angle", "velocity"], axis=1)
    events = AngleEventDetection().detect(angle, sampling_rate_hz=RATE_HZ).events_
    extension = events.loc[events["event"] == "final_contact", "time_s"].to_numpy()
    offline = compute_phase_from_events(time_s, extension)
    online = _run(AdaptiveOscillatorPhase(), time_s, angle["angle"].to_numpy())
    converged = time_s > 5.0
    assert np.isfinite(online[converged]).all()
    error = circular_error(online[converged], offline[converged])
    assert 100 * np.sqrt(np.nanmean(error**2)) < 8.0  # 6.0 % measured


# --- EMG effort ---------------------------------------------------------------------------------------------------
def test_effort_of_a_steady_sine_is_its_rectified_mean_over_mvc():
    rate = 1000.0
    time_s = np.arange(0, 4, 1 / rate)
    emg = 1e-3 * np.sin(2 * np.pi * 100 * time_s)
    effort = EmgEffort(rate, [2e-3 / np.pi])
    values = np.array([effort.step([value])[0] for value in emg])
    assert np.mean(values[time_s > 2]) == pytest.approx(1.0, rel=0.02)  # mean |sin| = 2 / pi


def test_effort_returns_its_preallocated_buffer_and_refuses_non_finite_samples():
    effort = EmgEffort(1000.0, [1e-4, 2e-4])
    first = effort.step(np.array([1e-5, -1e-5]))
    assert effort.step([2e-5, 0.0]) is first and effort.n_channels == 2
    with pytest.raises(ValidationError, match="channel 1"):
        effort.step([0.0, np.nan])


@pytest.mark.parametrize(("mvc", "message"), [([], "one MVC"), ([1e-4, 0.0], r"mvc_v\[1\]"), ([np.inf], "mvc_v")])
def test_effort_refuses_bad_mvc(mvc, message):
    with pytest.raises(ValidationError, match=message):
        EmgEffort(1000.0, mvc)


@pytest.mark.skipif(not (GAITALYTICS / "test_small.c3d").is_file(), reason=f"no EMG sample in {GAITALYTICS}")
def test_effort_equals_the_offline_causal_envelope_on_real_emg():
    pytest.importorskip("ezc3d")
    from exohub.signals.datasets import load_gaitalytics
    from exohub.signals.emg import compute_emg_envelope, filter_emg

    recording = load_gaitalytics(GAITALYTICS / "test_small.c3d")
    names = [name for name in recording.channels if name.endswith("_emg")]
    emg = recording.get(names)
    rate = recording.sampling_rate_hz(names[0])
    offline = compute_emg_envelope(filter_emg(emg, rate, causal=True), rate, causal=True).to_numpy()
    mvc = np.percentile(offline, 99, axis=0)
    effort = EmgEffort(rate, mvc)
    online = np.array([effort.step(sample).copy() for sample in emg.to_numpy()])
    np.testing.assert_allclose(online, offline / mvc, rtol=0, atol=1e-9)
    assert 0.5 < online.max() < 2.0


# --- locomotion mode ----------------------------------------------------------------------------------------------
def test_mode_baseline_meets_the_protocol_and_follows_starts_and_stops():
    estimator = StandingWalkingModeEstimator(n_angles=2)
    assert isinstance(estimator, LocomotionModeEstimator)
    time_s = np.arange(0, 30, 1 / RATE_HZ)
    walking = (time_s >= 10) & (time_s < 20)
    noise = 0.003 * np.random.default_rng(0).standard_normal((time_s.size, 2))
    angles = np.where(walking[:, None], np.column_stack([_hip_like(time_s), _hip_like(time_s + 0.5)]), 0.05) + noise
    modes = np.array([estimator.step(t, row) for t, row in zip(time_s.tolist(), angles, strict=True)])
    settled = np.abs(time_s[:, None] - np.array([10.0, 20.0])).min(axis=1) > estimator.window_s
    assert np.all((modes == "level_ground")[settled] == walking[settled])
    assert estimator.step(30.0, [np.nan, 0.0]) == "standing"
    estimator.reset()
    assert estimator.mode == "standing"


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"n_angles": 0}, "n_angles"), ({"stand_range_rad": 0.3}, "stand_range_rad"), ({"walking_mode": ""}, "walking")],
)
def test_mode_baseline_refuses_bad_parameters(changes, message):
    with pytest.raises(ValueError, match=message):
        StandingWalkingModeEstimator(**changes)


@pytest.mark.skipif(not HIPEXO.is_dir(), reason=f"hip-exoskeleton data not found at {HIPEXO}")
def test_mode_baseline_tells_spliced_standing_from_real_walking():
    from exohub.signals.datasets import load_hipexo

    frame = load_hipexo(HIPEXO / "AB03" / "labeled_CW_ZI_2.txt.gz").to_frame()
    angles = frame[["left_hip_angle", "right_hip_angle"]].to_numpy()
    stand = np.repeat(angles[-1:], int(10 * RATE_HZ), axis=0)
    stand = stand + 0.003 * np.random.default_rng(1).standard_normal(stand.shape)
    spliced = np.vstack([angles, stand])
    time_s = np.arange(len(spliced)) / RATE_HZ
    estimator = StandingWalkingModeEstimator()
    modes = np.array([estimator.step(t, row) for t, row in zip(time_s.tolist(), spliced, strict=True)])
    walking_part = (time_s > estimator.window_s) & (time_s < len(angles) / RATE_HZ)
    standing_part = time_s > len(angles) / RATE_HZ + estimator.window_s
    assert np.mean(modes[walking_part] == "level_ground") > 0.98
    assert np.all(modes[standing_part] == "standing")
