import numpy as np
import pandas as pd
import pytest

from exohub.exceptions import ValidationError
from exohub.signals import Recording


def _stream(rate_hz, duration_s, **channels):
    time_s = np.arange(int(duration_s * rate_hz)) / rate_hz
    return pd.DataFrame({name: fn(time_s) for name, fn in channels.items()}, index=time_s)


@pytest.fixture
def recording():
    hip = _stream(200, 10, left_hip_angle=np.sin, right_hip_angle=np.cos)
    emg = _stream(2000, 10, left_tibialis_anterior_emg=lambda t: 1e-4 * np.sin(2 * np.pi * 80 * t))
    events = pd.DataFrame({"side": ["left", "right"], "event": ["initial_contact"] * 2, "time_s": [2.0, 7.5]})
    return Recording([hip, emg], {"description": "test"}, events=events)


def test_holds_channels_at_their_own_rates(recording):
    assert recording.channels == ["left_hip_angle", "right_hip_angle", "left_tibialis_anterior_emg"]
    assert recording.sampling_rate_hz("left_hip_angle") == 200.0
    assert recording.sampling_rate_hz("left_tibialis_anterior_emg") == 2000.0
    assert recording.pick(quantity="emg") == ["left_tibialis_anterior_emg"]
    assert recording.pick(side="right") == ["right_hip_angle"]


def test_crop_keeps_events_inside(recording):
    cropped = recording.crop(1.0, 5.0)
    assert cropped.start_s == pytest.approx(1.0)
    assert cropped.end_s == pytest.approx(5.0)
    assert cropped.events["time_s"].tolist() == [2.0]
    assert cropped.info["description"] == "test"


def test_align_puts_streams_on_one_clock(recording):
    aligned = recording.align(100.0)
    assert list(aligned.columns) == recording.channels
    assert np.allclose(np.diff(aligned.index), 0.01)
    np.testing.assert_allclose(aligned["left_hip_angle"], np.sin(aligned.index), atol=1e-4)
    # the 80 Hz EMG is above the new Nyquist frequency (50 Hz): it must be filtered out, not aliased
    assert np.abs(aligned["left_tibialis_anterior_emg"].iloc[100:-100]).max() < 1e-6


def test_get_refuses_channels_from_different_clocks(recording):
    with pytest.raises(ValidationError, match=r"different clocks; use Recording\.align"):
        recording.get(["left_hip_angle", "left_tibialis_anterior_emg"])
    with pytest.raises(ValidationError, match="no channel 'left_knee_angle'"):
        recording.get(["left_knee_angle"])


@pytest.mark.parametrize(
    ("index", "match"),
    [
        ([0.0, 0.1, 0.1, 0.2], "duplicated at sample 2"),
        ([0.0, 0.2, 0.1, 0.3], "goes backwards at sample 2"),
        ([0.0, np.nan, 0.2, 0.3], "not a finite number at sample 1"),
        ([0.0, 1e-7, 2e-7, 3e-7], "outside 0.01-100000 Hz"),
    ],
)
def test_rejects_bad_time(index, match):
    with pytest.raises(ValidationError, match=match):
        Recording([pd.DataFrame({"left_hip_angle": np.zeros(4)}, index=index)])


def test_rejects_infinite_values_and_unknown_channels():
    with pytest.raises(ValidationError, match=r"'left_hip_angle' is infinite at time_s=0\.1;"):
        Recording([pd.DataFrame({"left_hip_angle": [0.0, np.inf, 0.0]}, index=[0.0, 0.1, 0.2])])
    with pytest.raises(ValidationError, match="unknown location"):
        Recording([pd.DataFrame({"left_elbow_angle": [0.0, 0.0]}, index=[0.0, 0.1])])
    stream = pd.DataFrame({"left_hip_angle": [0.0, 0.0]}, index=[0.0, 0.1])
    with pytest.raises(ValidationError, match="more than one stream"):
        Recording([stream, stream])
