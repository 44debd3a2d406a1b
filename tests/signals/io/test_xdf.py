import gzip

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.io import read_recording, read_xdf
from exohub.signals.io._xdf_structure import check_xdf_structure
from tests.signals.io.fuzz import byte_flips, flipped, read_or_refuse
from tests.signals.io.xdf_writer import XdfStream, write_xdf

START_S = 5000.0  # LSL clocks count from boot: the reader counts time from the first sample instead


def _emg(offset_s=0.0, labels=("L TA", "R GAS"), units=("uV", "uV")):
    time_s = START_S + np.arange(2000) / 1000.0
    values = np.c_[np.sin(2 * np.pi * 5 * time_s), np.cos(2 * np.pi * 5 * time_s)] * 500.0  # µV
    offsets = [(START_S, offset_s), (START_S + 2.0, offset_s)]
    return XdfStream("emg", "EMG", 1000, "float32", time_s, values, list(labels), list(units), offsets)


def _angles(offset_s=0.0):
    time_s = START_S + 0.25 + np.arange(150) / 100.0
    offsets = [(START_S, offset_s), (START_S + 2.0, offset_s)]
    values = np.c_[np.linspace(0, 30, 150), np.linspace(0, -10, 150)]
    return XdfStream(
        "mocap",
        "Angles",
        100,
        "double64",
        time_s,
        values,
        ["left_hip_angle_x", "right_knee_angle_x"],
        ["deg"] * 2,
        offsets,
    )


def _markers(offset_s=0.0, texts=("left_initial_contact", "Right Foot Off")):
    offsets = [(START_S, offset_s), (START_S + 2.0, offset_s)]
    return XdfStream(
        "events",
        "Markers",
        0,
        "string",
        START_S + np.array([0.5, 1.2])[: len(texts)],
        list(texts),
        clock_offsets=offsets,
    )


@pytest.fixture
def xdf_path(tmp_path):
    return write_xdf(tmp_path / "walk.xdf", [_emg(), _angles(), _markers()])


def test_streams_keep_their_rates_units_and_names(xdf_path):
    recording = read_xdf(xdf_path)
    assert recording.channels == [
        "left_tibialis_anterior_emg",
        "right_gastrocnemius_medialis_emg",
        "left_hip_angle_x",
        "right_knee_angle_x",
    ]
    assert recording.sampling_rate_hz("left_tibialis_anterior_emg") == 1000.0
    assert recording.sampling_rate_hz("left_hip_angle_x") == 100.0
    emg = recording.get(["left_tibialis_anterior_emg"])
    assert emg.index[0] == 0.0
    np.testing.assert_allclose(emg.to_numpy()[:, 0], 500e-6 * np.sin(2 * np.pi * 5 * (START_S + emg.index)), atol=1e-9)
    angles = recording.get(["left_hip_angle_x"])
    assert angles.index[0] == pytest.approx(0.25)
    np.testing.assert_allclose(angles.to_numpy()[:, 0], np.deg2rad(np.linspace(0, 30, 150)), atol=1e-12)
    assert recording.events.to_dict(orient="list") == {
        "side": ["left", "right"],
        "event": ["initial_contact", "final_contact"],
        "time_s": [pytest.approx(0.5), pytest.approx(1.2)],
    }


def test_omitted_timestamps_are_deduced_from_the_rate(tmp_path):
    stream = _emg()
    stream.omit_timestamps = True
    recording = read_xdf(write_xdf(tmp_path / "deduced.xdf", [stream]))
    np.testing.assert_allclose(recording.streams[0].index, np.arange(2000) / 1000.0, atol=1e-9)


def test_clock_offsets_are_applied(tmp_path):
    # the marker stream's clock runs 0.1 s behind the EMG host's: its events move 0.1 s later
    path = write_xdf(tmp_path / "sync.xdf", [_emg(offset_s=0.0), _markers(offset_s=0.1)])
    recording = read_xdf(path)
    np.testing.assert_allclose(recording.events["time_s"], [0.6, 1.3], atol=1e-9)


def test_unnamed_emg_channels_get_generic_names_with_a_warning(tmp_path):
    path = write_xdf(tmp_path / "raw.xdf", [_emg(labels=("ch1", "ch2"), units=("V", "V"))])
    with pytest.warns(ExohubWarning, match=r"no muscle name: ch1->channel_1_emg, ch2->channel_2_emg"):
        recording = read_xdf(path)
    assert recording.channels == ["channel_1_emg", "channel_2_emg"]


def test_unknown_labels_are_dropped_with_a_warning_or_mapped(tmp_path):
    stream = _angles()
    stream.labels = ["LHip", "right_knee_angle_x"]
    path = write_xdf(tmp_path / "labels.xdf", [stream])
    with pytest.warns(ExohubWarning, match=r"no convention name and were not read: \['LHip'\]"):
        assert read_xdf(path).channels == ["right_knee_angle_x"]
    assert read_xdf(path, channel_map={"LHip": "left_hip_angle_x"}).channels == [
        "left_hip_angle_x",
        "right_knee_angle_x",
    ]


def test_other_markers_are_reported(tmp_path):
    path = write_xdf(tmp_path / "m.xdf", [_emg(), _markers(texts=("trial start", "left heel strike"))])
    with pytest.warns(ExohubWarning, match=r"1 markers are not gait events"):
        recording = read_xdf(path)
    assert recording.events["event"].tolist() == ["initial_contact"]


def test_registered_by_suffix(xdf_path):
    assert read_recording(xdf_path).channels == read_xdf(xdf_path).channels


def test_compressed_xdfz_reads_and_truncation_is_refused(xdf_path):
    packed = gzip.compress(xdf_path.read_bytes())
    xdfz = xdf_path.with_suffix(".xdfz")
    xdfz.write_bytes(packed)
    assert read_recording(xdfz).channels == read_xdf(xdf_path).channels
    xdfz.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValidationError, match=r"walk\.xdfz: not a readable XDF file \(EOFError"):
        read_xdf(xdfz)


def test_non_monotonic_timestamps_are_refused(tmp_path):
    stream = _angles()
    stream.nominal_srate = 0  # irregular: pyxdf does not de-jitter, the order is the file's
    stream.time_stamps = stream.time_stamps.copy()
    stream.time_stamps[10] = stream.time_stamps[5]
    path = write_xdf(tmp_path / "back.xdf", [stream])
    with pytest.raises(ValidationError, match=r"back\.xdf: stream 'mocap': time_s goes backwards at sample 10"):
        read_xdf(path)


def test_infinite_values_are_refused_and_nan_kept(tmp_path):
    stream = _angles()
    stream.values = stream.values.copy()
    stream.values[3, 0] = np.nan
    recording = read_xdf(write_xdf(tmp_path / "nan.xdf", [stream]))
    assert np.isnan(recording.get(["left_hip_angle_x"]).iloc[3, 0])
    stream.values[4, 1] = np.inf
    with pytest.raises(ValidationError, match=r"inf\.xdf: stream 0: channel 'right_knee_angle_x' is infinite"):
        read_xdf(write_xdf(tmp_path / "inf.xdf", [stream]))


@pytest.mark.parametrize(
    ("content", "match"), [(b"", "the file is empty"), (b"XDF-" + b"\0" * 40, "does not start with 'XDF:'")]
)
def test_empty_and_foreign_files_are_refused(tmp_path, content, match):
    path = tmp_path / "bad.xdf"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=match):
        read_xdf(path)


def test_a_file_without_numeric_streams_is_refused(tmp_path):
    path = write_xdf(tmp_path / "markers.xdf", [_markers()])
    with pytest.raises(ValidationError, match="no numeric stream"):
        read_xdf(path)


@pytest.fixture(scope="module")
def xdf_bytes(tmp_path_factory):
    path = write_xdf(tmp_path_factory.mktemp("xdf") / "walk.xdf", [_emg(), _angles(), _markers()])
    return path.read_bytes(), set(check_xdf_structure(path))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_xdf_is_refused(xdf_bytes, tmp_path, data):
    content, chunk_ends = xdf_bytes
    size = data.draw(st.integers(0, len(content) - 1))
    path = tmp_path / "cut.xdf"
    path.write_bytes(content[:size])
    if size in chunk_ends:  # a file cut between chunks is a shorter valid file
        read_or_refuse(read_xdf, path)
        return
    with pytest.raises(ValidationError, match=r"cut\.xdf"):
        read_xdf(path)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_xdf_gives_a_validation_error_or_a_recording(xdf_bytes, tmp_path, data):
    content, _ = xdf_bytes
    path = tmp_path / "flipped.xdf"
    path.write_bytes(flipped(content, data.draw(byte_flips(len(content), hot_end=2000))))
    read_or_refuse(read_xdf, path)
