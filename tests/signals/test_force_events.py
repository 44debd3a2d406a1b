"""Force and footswitch events: square waves with known edges, hysteresis, debounce, real heel-load data."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.events import ForceEventDetection

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
RATE_HZ = 100.0


def _square(n_strides=8, stride_s=1.0, stance_s=0.6, start_s=0.25, level=700.0):
    time_s = np.arange(0, start_s + n_strides * stride_s + 0.5, 1 / RATE_HZ)
    cycle = np.mod(time_s - start_s, stride_s)
    loaded = (time_s >= start_s) & (time_s < start_s + n_strides * stride_s) & (cycle < stance_s - 1e-9)
    starts = start_s + stride_s * np.arange(n_strides)
    return time_s, np.where(loaded, level, 0.0), starts, starts + stance_s


def _frame(time_s, **columns):
    return pd.DataFrame(columns, index=pd.Index(time_s, name="time_s"))


def _times(events, kind):
    return events.loc[events["event"] == kind, "time_s"].to_numpy()


def test_square_wave_edges_are_exact():
    time_s, force, ic, fc = _square()
    detector = ForceEventDetection().detect(_frame(time_s, force=force), sampling_rate_hz=RATE_HZ)
    np.testing.assert_allclose(_times(detector.events_, "initial_contact"), ic, atol=1e-9)
    np.testing.assert_allclose(_times(detector.events_, "final_contact"), fc, atol=1e-9)
    assert detector.threshold_n_ == pytest.approx(0.2 * 700.0)


def test_contacts_are_timed_where_the_load_leaves_and_returns_to_the_unloaded_level():
    time_s, _, ic, fc = _square()
    # 80 ms loading and unloading ramps starting at the true contact and ending at the true foot off.
    ramp = np.clip(np.minimum(time_s[:, None] - ic, fc - time_s[:, None]) / 0.08, 0.0, 1.0).max(axis=1)
    frame = _frame(time_s, force=700.0 * ramp)
    timed = ForceEventDetection().detect(frame, sampling_rate_hz=RATE_HZ).events_
    np.testing.assert_allclose(_times(timed, "initial_contact"), ic + 1 / RATE_HZ, atol=1e-9)
    np.testing.assert_allclose(_times(timed, "final_contact"), fc, atol=1e-9)
    at_threshold = ForceEventDetection(timing_level=0).detect(frame, sampling_rate_hz=RATE_HZ).events_
    assert (_times(at_threshold, "initial_contact") - ic).min() > 0.01  # the robust threshold alone is late


def test_absolute_threshold_and_body_weight():
    time_s, force, ic, _ = _square()
    force = force + 50.0  # a preloaded sensor
    absolute = ForceEventDetection(threshold_n=400.0).detect(_frame(time_s, force=force), sampling_rate_hz=RATE_HZ)
    assert absolute.threshold_n_ == 400.0
    np.testing.assert_allclose(_times(absolute.events_, "initial_contact"), ic)
    weight = ForceEventDetection(body_weight_n=800.0, relative_threshold=0.1)
    assert weight.detect(_frame(time_s, force=force), sampling_rate_hz=RATE_HZ).threshold_n_ == pytest.approx(130.0)


def test_hysteresis_stops_chatter_on_a_noisy_ramp():
    time_s = np.arange(0, 4, 1 / RATE_HZ)
    ramp = np.interp(time_s, [0, 1, 1.5, 2.5, 3, 4], [0, 0, 700, 700, 0, 0])
    noisy = ramp + 20 * np.sin(2 * np.pi * 40 * time_s)
    detector = ForceEventDetection(hysteresis=0.1, min_contact_s=0.01, min_swing_s=0.01)
    events = detector.detect(_frame(time_s, force=noisy), sampling_rate_hz=RATE_HZ).events_
    assert events["event"].tolist() == ["initial_contact", "final_contact"]


def test_short_spikes_and_dropouts_are_debounced():
    time_s, force, ic, fc = _square()
    spiky = force.copy()
    spiky[(time_s > 0.95) & (time_s < 0.98)] = 700.0  # 30 ms spike in swing
    spiky[(time_s > 2.4) & (time_s < 2.43)] = 0.0  # 30 ms dropout in stance
    detector = ForceEventDetection(min_contact_s=0.1, min_swing_s=0.1)
    events = detector.detect(_frame(time_s, force=spiky), sampling_rate_hz=RATE_HZ).events_
    np.testing.assert_allclose(_times(events, "initial_contact"), ic)
    np.testing.assert_allclose(_times(events, "final_contact"), fc)


def test_footswitch_with_bounce():
    time_s, force, ic, fc = _square()
    switch = (force > 0).astype(float)
    switch[np.searchsorted(time_s, ic + 0.02)] = 0.0  # contact bounce just after heel strike
    detector = ForceEventDetection().detect(_frame(time_s, switch=switch), sampling_rate_hz=RATE_HZ)
    np.testing.assert_allclose(_times(detector.events_, "initial_contact"), ic)
    np.testing.assert_allclose(_times(detector.events_, "final_contact"), fc)
    assert np.isnan(detector.threshold_n_)


def test_recording_that_starts_in_contact_has_no_event_at_its_start():
    time_s, force, ic, fc = _square(start_s=0.0)
    events = ForceEventDetection().detect(_frame(time_s, force=force), sampling_rate_hz=RATE_HZ).events_
    np.testing.assert_allclose(_times(events, "initial_contact"), ic[1:])
    np.testing.assert_allclose(_times(events, "final_contact"), fc)


def test_flat_force_warns_and_gives_no_events():
    time_s = np.arange(0, 3, 1 / RATE_HZ)
    with pytest.warns(ExohubWarning, match="flat"):
        detector = ForceEventDetection().detect(_frame(time_s, force=np.full(time_s.size, 5.0)), sampling_rate_hz=100)
    assert detector.events_.empty


def test_rejects_missing_columns_and_bad_parameters():
    time_s = np.arange(0, 1, 1 / RATE_HZ)
    with pytest.raises(ValidationError, match=r"one of the columns \['force', 'switch'\]"):
        ForceEventDetection().detect(_frame(time_s, angle=time_s), sampling_rate_hz=RATE_HZ)
    with pytest.raises(ValidationError, match="'force' is not finite"):
        ForceEventDetection().detect(_frame(time_s, force=np.full(time_s.size, np.nan)), sampling_rate_hz=RATE_HZ)
    with pytest.raises(ValueError, match="hysteresis"):
        ForceEventDetection(hysteresis=1.5).detect(_frame(time_s, force=time_s), sampling_rate_hz=RATE_HZ)


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "lee2021_gait_lstm").is_dir(), reason="../shared/data/lee2021_gait_lstm absent")
def test_heel_load_contacts_are_the_labels_phase_zero():
    from exohub.signals.datasets import load_lee2021

    recording = load_lee2021(DATA / "lee2021_gait_lstm" / "Predict_Subject_2.csv")
    frame = recording.to_frame()
    force = pd.DataFrame({"force": frame["right_foot_force"]})
    events = ForceEventDetection().detect(force, sampling_rate_hz=250.0).events_
    ic = _times(events, "initial_contact")
    label = recording.labels["right_phase"].to_numpy()[np.round(ic * 250).astype(int)]
    error = np.mod(label + 0.5, 1.0) - 0.5
    assert ic.size > 30
    assert np.sqrt(np.mean(error**2)) < 0.01
