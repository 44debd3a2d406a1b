"""Gait phase: interpolation between events, the causal stride-time estimator, circular errors, real labels."""

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from exohub.exceptions import ValidationError
from exohub.signals.phase import (
    MAX_PHASE,
    EventPhaseEstimation,
    GaitPhaseEstimator,
    StrideTimePhaseEstimation,
    circular_error,
    compute_phase_from_events,
    compute_phase_rmse,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
RATE_HZ = 200.0
phases = st.floats(min_value=-3, max_value=3, allow_nan=False)


def test_phase_is_linear_between_events_and_nan_outside_and_over_gaps():
    time_s = np.arange(0, 10, 0.01)
    ic = np.array([1.0, 2.0, 3.5, 7.5, 8.5])
    phase = compute_phase_from_events(time_s, ic, max_stride_time_s=2.5)
    np.testing.assert_allclose(phase[time_s.searchsorted(1.5)], 0.5)
    np.testing.assert_allclose(phase[time_s.searchsorted(2.75)], 0.5)
    assert phase[time_s.searchsorted(2.0)] == 0.0
    assert np.isnan(phase[time_s < 1.0]).all()
    assert np.isnan(phase[(time_s >= 3.5) & (time_s < 7.5)]).all()  # 4 s gap
    assert np.isnan(phase[time_s >= 8.5]).all()
    assert np.all((phase[np.isfinite(phase)] >= 0) & (phase[np.isfinite(phase)] < 1))


def test_event_phase_estimation_returns_a_series():
    time_s = np.arange(0, 3, 0.5)
    estimator = EventPhaseEstimation().estimate(time_s, [0.0, 2.0])
    assert isinstance(estimator.phase_, pd.Series)
    assert estimator.phase_.index.name == "time_s"
    np.testing.assert_allclose(estimator.phase_.to_numpy()[:4], [0, 0.25, 0.5, 0.75])


def test_rmse_of_a_known_offset_is_that_offset():
    reference = np.mod(np.arange(0, 20, 0.005) / 1.1, 1.0)
    assert compute_phase_rmse(np.mod(reference + 0.03, 1.0), reference) == pytest.approx(3.0)
    assert compute_phase_rmse(np.mod(reference - 0.07, 1.0), reference) == pytest.approx(7.0)


def test_circular_wrap_cases():
    np.testing.assert_allclose(
        circular_error([0.99, 0.01, 0.5, 0.25], [0.01, 0.99, 0.0, 0.75]), [-0.02, 0.02, -0.5, -0.5]
    )
    assert compute_phase_rmse([0.99, np.nan], [0.01, 0.3]) == pytest.approx(2.0)
    with pytest.raises(ValidationError, match="no sample"):
        compute_phase_rmse([np.nan], [0.3])
    with pytest.raises(ValidationError, match="shape"):
        compute_phase_rmse([0.1, 0.2], [0.3])


@given(phases, phases)
def test_circular_error_range_and_symmetry(a, b):
    forward, backward = circular_error(a, b), circular_error(b, a)
    assert -0.5 <= forward < 0.5
    assert abs(forward) == pytest.approx(abs(backward), abs=1e-9)
    assert circular_error(a + 1.0, b) == pytest.approx(forward, abs=1e-9) or abs(forward) == pytest.approx(0.5)


def _strides(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return 0.5 + np.cumsum(rng.uniform(0.9, 1.3, n))


def test_causal_equals_offline_for_constant_strides():
    ic = 0.5 + 1.1 * np.arange(12)
    time_s = np.arange(0, 14, 1 / RATE_HZ)
    causal = StrideTimePhaseEstimation().estimate(time_s, ic).phase_.to_numpy()
    offline = compute_phase_from_events(time_s, ic)
    both = np.isfinite(causal) & np.isfinite(offline)
    assert both.sum() > 0.65 * time_s.size
    np.testing.assert_allclose(causal[both], offline[both], atol=1e-9)
    assert np.isnan(causal[time_s < ic[1]]).all()  # one stride time is needed first
    assert np.nanmax(causal) == MAX_PHASE


def test_step_parity_with_estimate_including_detection_delay_and_a_gap():
    ic = _strides()
    ic = np.concatenate([ic[:15], ic[15:] + 4.0])  # a 4 s pause in the middle
    delay = 0.06
    time_s = np.arange(0, ic[-1] + 1.0, 1 / RATE_HZ)
    estimator = StrideTimePhaseEstimation(n_strides=3)
    offline = estimator.estimate(time_s, ic, detected_at_s=ic + delay).phase_.to_numpy()
    estimator.reset()
    detected = np.searchsorted(time_s, ic + delay - 1e-12)
    flags = np.zeros(time_s.size, dtype=bool)
    flags[detected] = True
    event_of = dict(zip(detected.tolist(), ic.tolist(), strict=True))
    stepped = np.array(
        [estimator.step(t, bool(f), event_of.get(i)) for i, (t, f) in enumerate(zip(time_s, flags, strict=True))]
    )
    np.testing.assert_array_equal(np.isnan(stepped), np.isnan(offline))
    np.testing.assert_allclose(stepped[np.isfinite(stepped)], offline[np.isfinite(offline)], atol=1e-12)
    assert np.isnan(offline[(time_s > ic[14] + 2.5) & (time_s < ic[15])]).all()


def test_phase_is_clipped_below_one_while_waiting_for_a_late_contact():
    estimator = StrideTimePhaseEstimation(n_strides=2)
    assert np.isnan(estimator.step(0.0, True))
    assert estimator.step(1.0, True) == 0.0
    assert estimator.step(1.5, False) == pytest.approx(0.5)
    assert estimator.step(2.2, False) == MAX_PHASE
    assert estimator.step(2.2, True) == 0.0
    assert estimator.step(2.8, False) == pytest.approx(0.6 / 1.1)
    estimator.reset()
    assert np.isnan(estimator.step(3.0, False))


def test_spurious_early_contact_is_ignored():
    estimator = StrideTimePhaseEstimation(min_stride_time_s=0.4)
    estimator.step(0.0, True)
    estimator.step(1.0, True)
    estimator.step(1.1, True)  # 0.1 s after the last contact: ignored
    assert estimator.step(1.5, False) == pytest.approx(0.5)


def test_stride_time_estimator_meets_the_protocol_and_validates():
    assert isinstance(StrideTimePhaseEstimation(), GaitPhaseEstimator)
    with pytest.raises(ValueError, match="n_strides"):
        StrideTimePhaseEstimation(n_strides=0)
    with pytest.raises(ValueError, match="below max_stride_time_s"):
        StrideTimePhaseEstimation(min_stride_time_s=3.0)
    with pytest.raises(ValidationError, match="detected_at_s"):
        StrideTimePhaseEstimation().estimate([0.0, 1.0], [0.5], detected_at_s=[0.4])
    with pytest.raises(ValidationError, match="strictly increasing"):
        compute_phase_from_events([0.0, 0.0], [0.5])


def test_offline_phase_for_one_hour_is_fast():
    time_s = np.arange(int(3600 * RATE_HZ)) / RATE_HZ
    ic = np.arange(0.3, 3600, 1.1)
    tic = time.perf_counter()
    compute_phase_from_events(time_s, ic)
    assert time.perf_counter() - tic < 0.2


def _hipexo_rmse(path):
    from exohub.signals.datasets import load_hipexo
    from exohub.signals.events import AngleEventDetection

    recording = load_hipexo(path)
    frame = recording.to_frame()
    time_s = frame.index.to_numpy()
    label = recording.labels["left_phase"].to_numpy()
    anchors = time_s[1:][np.diff(label) < -0.5]
    covered = np.isfinite(compute_phase_from_events(time_s, anchors))
    angle = pd.DataFrame({"angle": frame["left_hip_angle"]})
    extension = AngleEventDetection().detect(angle, sampling_rate_hz=200.0).events_.query("event == 'final_contact'")
    offline = compute_phase_from_events(time_s, extension["time_s"].to_numpy())
    oracle = StrideTimePhaseEstimation().estimate(time_s, anchors).phase_.to_numpy()
    return compute_phase_rmse(offline[covered], label[covered]), compute_phase_rmse(oracle[covered], label[covered])


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "hipexo_gait_phase").is_dir(), reason="../shared/data/hipexo_gait_phase absent")
def test_hipexo_offline_phase_from_hip_extension_matches_labels():
    offline, oracle = _hipexo_rmse(DATA / "hipexo_gait_phase" / "AB01" / "labeled_CW_ZI_1.txt.gz")
    assert offline < 4.0
    assert 2.0 < oracle < 8.0  # a time-based estimator with perfect events: about 5 %
