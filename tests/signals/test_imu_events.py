"""ImuEventDetection: known-answer shank signal, real foot data vs motion capture, rotation invariance, errors."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.datasets import load_gaitmap_imu
from exohub.signals.events import ImuEventDetection

GAITMAP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gaitmap_example"
needs_gaitmap = pytest.mark.skipif(
    not (GAITMAP / "imu_sample.csv").is_file(), reason=f"gaitmap example data not found at {GAITMAP}"
)
COLUMNS = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
STRIDE_S, N_STRIDES = 1.1, 12
#: Shank sagittal rate of one stride: mid-swing peak, final contact minimum before it, initial contact after it.
MID_SWING_S, FC_OFFSET_S, IC_OFFSET_S = 0.6, -0.22, 0.2


def _bump(t, centre, width, height):
    return height * np.exp(-0.5 * ((t - centre) / width) ** 2)


def shank_walk(rate_hz, rotation=None, seed=0):
    """Synthetic shank IMU: known contacts, sensor mounted with ``rotation`` (sensor-from-segment)."""
    time_s = np.arange(0, N_STRIDES * STRIDE_S + 1.0, 1 / rate_hz)
    mids = 0.5 + MID_SWING_S + STRIDE_S * np.arange(N_STRIDES)
    omega = np.zeros_like(time_s)
    for mid in mids:
        omega += _bump(time_s, mid, 0.09, 5.0)
        omega += _bump(time_s, mid + FC_OFFSET_S, 0.04, -2.0)
        omega += _bump(time_s, mid + IC_OFFSET_S, 0.03, -1.5)
    rng = np.random.default_rng(seed)
    gyr = np.column_stack([0.3 * np.sin(2 * np.pi * time_s / STRIDE_S), omega, 0.2 * np.cos(2 * np.pi * time_s)])
    tilt = np.cumsum(omega) / rate_hz * 0.2
    acc = np.column_stack(
        [
            9.81 * np.sin(tilt) + rng.normal(0, 0.3, time_s.size),
            rng.normal(0, 0.3, time_s.size),
            9.81 * np.cos(tilt) + rng.normal(0, 0.3, time_s.size),
        ]
    )
    gyr = gyr + rng.normal(0, 0.02, gyr.shape)
    if rotation is not None:
        acc, gyr = acc @ rotation.T, gyr @ rotation.T
    data = pd.DataFrame(np.hstack([acc, gyr]), index=pd.Index(time_s, name="time_s"), columns=COLUMNS)
    return data, mids + IC_OFFSET_S, mids + FC_OFFSET_S


def _times(events, kind):
    return events.loc[events["event"] == kind, "time_s"].to_numpy()


@pytest.mark.parametrize("rate_hz", [100.0, 200.0, 2000.0])
def test_shank_known_answer(rate_hz):
    data, ic_s, fc_s = shank_walk(rate_hz)
    detector = ImuEventDetection("shank").detect(data, sampling_rate_hz=rate_hz)
    assert detector.frame_.sign_rule == "swing_peak"
    np.testing.assert_allclose(_times(detector.events_, "initial_contact"), ic_s, atol=0.012)
    np.testing.assert_allclose(_times(detector.events_, "final_contact"), fc_s, atol=0.012)
    assert len(detector.swings_) == N_STRIDES
    assert (detector.swings_["duration_s"] > 0).all()
    assert detector.events_["time_s"].is_monotonic_increasing


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_shank_events_do_not_depend_on_mounting(seed):
    rotation = Rotation.random(random_state=seed).as_matrix()
    data, ic_s, fc_s = shank_walk(200.0, rotation)
    events = ImuEventDetection("shank").detect(data, sampling_rate_hz=200.0).events_
    np.testing.assert_allclose(_times(events, "initial_contact"), ic_s, atol=0.012)
    np.testing.assert_allclose(_times(events, "final_contact"), fc_s, atol=0.012)


@pytest.mark.parametrize("location", ["foot", "shank"])
def test_standing_still_gives_no_events(location):
    rng = np.random.default_rng(1)
    n = 4000
    up = Rotation.random(random_state=3).as_matrix() @ np.array([0, 0, 9.81])
    values = np.hstack([up + rng.normal(0, 0.05, (n, 3)), rng.normal(0, 0.01, (n, 3))])
    data = pd.DataFrame(values, index=pd.Index(np.arange(n) / 200.0, name="time_s"), columns=COLUMNS)
    detector = ImuEventDetection(location).detect(data, sampling_rate_hz=200.0)
    assert detector.events_.empty
    assert detector.swings_.empty
    assert list(detector.events_.columns) == ["event", "time_s"]


def test_pure_noise_gives_no_events():
    rng = np.random.default_rng(2)
    n = 6000
    values = np.hstack([rng.normal(0, 2.0, (n, 3)), rng.normal(0, 0.3, (n, 3))])
    data = pd.DataFrame(values, index=pd.Index(np.arange(n) / 200.0, name="time_s"), columns=COLUMNS)
    assert ImuEventDetection("foot").detect(data, sampling_rate_hz=200.0).events_.empty


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.drop(columns=["gyr_z"]), r"lacks the columns \['gyr_z'\]"),
        (
            lambda d: d.assign(acc_y=np.where(np.arange(len(d)) // 10 == 30, np.nan, d["acc_y"])),
            r"'acc_y' is not finite .* from sample 300 .* for 10 sample",
        ),
        (lambda d: d.iloc[:50], r"needs at least 1 s"),
    ],
)
def test_rejects_bad_data(change, message):
    data, _, _ = shank_walk(200.0)
    with pytest.raises(ValidationError, match=message):
        ImuEventDetection("shank").detect(change(data), sampling_rate_hz=200.0)


def test_rejects_bad_parameters():
    data, _, _ = shank_walk(200.0)
    with pytest.raises(ValueError, match="'location' parameter"):
        ImuEventDetection("thigh").detect(data, sampling_rate_hz=200.0)
    with pytest.raises(ValueError, match="min_stride_s must be a positive number"):
        ImuEventDetection("shank", min_stride_s=-1).detect(data, sampling_rate_hz=200.0)
    with pytest.raises(ValidationError, match="sampling_rate_hz=20"):
        ImuEventDetection("shank").detect(data, sampling_rate_hz=20)
    with pytest.warns(ExohubWarning, match="outside the validated"):
        ImuEventDetection("shank").detect(data, sampling_rate_hz=60)


def test_follows_the_algorithm_contract():
    detector = ImuEventDetection("shank", max_swing_s=1.0)
    clone = detector.clone()
    assert clone.get_params() == detector.get_params()
    assert not hasattr(clone, "events_")
    data, _, _ = shank_walk(200.0)
    assert detector.detect(data, sampling_rate_hz=200.0) is detector
    assert detector.data is data
    assert detector.sagittal_rate_.index.equals(data.index)


@pytest.fixture(scope="module")
def gaitmap_walk():
    recording = load_gaitmap_imu(GAITMAP / "imu_sample.csv")
    return recording, recording.to_frame(), recording.sampling_rate_hz("left_foot_acc_x")


def _foot(frame, side, rotation=None):
    values = frame[[f"{side}_foot_{c}" for c in COLUMNS]].to_numpy()
    if rotation is not None:
        values = np.hstack([values[:, :3] @ rotation.T, values[:, 3:] @ rotation.T])
    return pd.DataFrame(values, index=frame.index, columns=COLUMNS)


@needs_gaitmap
@pytest.mark.slow
def test_foot_events_match_motion_capture(gaitmap_walk):
    recording, frame, rate_hz = gaitmap_walk
    for kind in ("initial_contact", "final_contact"):
        errors_ms, n_detected, n_reference = [], 0, 0
        for side in ("left", "right"):
            events = ImuEventDetection("foot").detect(_foot(frame, side), sampling_rate_hz=rate_hz).events_
            reference = recording.events
            ref = reference.loc[(reference["side"] == side) & (reference["event"] == kind), "time_s"].to_numpy()
            det = _times(events, kind)
            det = det[(det > ref.min() - 0.05) & (det < ref.max() + 0.05)]
            nearest = np.abs(det[:, None] - ref[None, :])
            hits = nearest.min(axis=0) <= 0.05
            errors_ms.append((det[nearest.argmin(axis=0)] - ref)[hits] * 1000)
            n_detected, n_reference = n_detected + det.size, n_reference + ref.size
        errors = np.concatenate(errors_ms)
        f1 = 2 * errors.size / (n_detected + n_reference)
        assert f1 >= 0.95, kind
        assert abs(errors.mean()) < 20, kind
        assert errors.std(ddof=1) < 15, kind


@needs_gaitmap
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_foot_events_do_not_depend_on_mounting(gaitmap_walk, seed):
    _, frame, rate_hz = gaitmap_walk
    rotation = Rotation.random(random_state=seed).as_matrix()
    base = ImuEventDetection("foot").detect(_foot(frame, "left"), sampling_rate_hz=rate_hz).events_
    rotated = ImuEventDetection("foot").detect(_foot(frame, "left", rotation), sampling_rate_hz=rate_hz).events_
    pd.testing.assert_frame_equal(rotated, base, atol=1e-6)
