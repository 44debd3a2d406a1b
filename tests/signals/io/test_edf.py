import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals import Recording
from exohub.signals.io import read_edf, read_recording, write_edf, write_recording
from exohub.signals.io._edf import edf_label
from tests.signals.io.fuzz import byte_flips, flipped, read_or_refuse

DIGITAL_STEPS = {".edf": 65535, ".bdf": 16777215}


def _stream(rate_hz, duration_s, start_s=0.0, **channels):
    time_s = start_s + np.arange(round(duration_s * rate_hz)) / rate_hz
    return pd.DataFrame({name: fn(time_s) for name, fn in channels.items()}, index=time_s)


@pytest.fixture
def recording():
    rng = np.random.default_rng(7)
    emg = _stream(
        2000,
        3,
        right_gastrocnemius_medialis_emg=lambda t: 2e-4 * rng.standard_normal(t.size),
        channel_3_emg=lambda t: 1e-5 * np.sin(2 * np.pi * 90 * t),
    )
    angles = _stream(100, 3, right_knee_angle_x=lambda t: 0.6 * np.sin(2 * np.pi * t), left_hip_angle=np.cos)
    temp = _stream(1, 3, left_foot_skin_temp=lambda t: 31.0 + 0.1 * t)
    events = pd.DataFrame(
        {"side": ["left", "right"], "event": ["initial_contact", "final_contact"], "time_s": [0.5, 1.25]}
    )
    return Recording([emg, angles, temp], events=events)


@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
def test_round_trip_within_half_a_digital_step(recording, tmp_path, suffix):
    path = write_recording(recording, tmp_path / f"walk{suffix}")
    back = read_recording(path)
    assert sorted(back.channels) == sorted(recording.channels)
    for name in recording.channels:
        original = recording.streams[recording.stream_index(name)][name]
        read = back.streams[back.stream_index(name)][name]
        np.testing.assert_allclose(read.index, original.index, atol=1e-9)
        assert back.sampling_rate_hz(name) == recording.sampling_rate_hz(name)
        # physical range = the channel's min..max; one digital step = that range / (digital max - digital min)
        half_step = np.ptp(original.to_numpy()) / DIGITAL_STEPS[suffix] / 2
        error = np.max(np.abs(read.to_numpy() - original.to_numpy()))
        assert error <= half_step * 1.001 + 1e-12, (name, error, half_step)
    if suffix == ".edf":
        pd.testing.assert_frame_equal(back.events, recording.events)


def test_labels_are_shortened_to_fit_edf():
    assert edf_label("left_hip_angle_x") == "left_hip_angle_x"
    assert edf_label("right_knee_angle_x") == "R_knee_angle_x"
    assert edf_label("right_gastrocnemius_medialis_emg") == "EMG RGAS"
    assert edf_label("left_erector_spinae_emg") == "EMG LERS"


@pytest.mark.parametrize(
    ("streams", "match"),
    [
        ([_stream(100, 2, lower_back_velocity_x=np.sin)], r"'lower_back_velocity_x' does not fit"),
        ([_stream(100, 2, left_hip_angle_x=lambda t: np.where(t > 1, np.nan, t))], "missing samples"),
        ([_stream(100, 2, left_hip_angle_x=np.sin), _stream(100, 2, 0.5, right_hip_angle_x=np.sin)], "start at"),
        ([_stream(100 / 3, 3, left_hip_angle_x=np.sin)], "share no EDF data-record duration"),
    ],
)
def test_signals_that_do_not_fit_edf_are_refused(tmp_path, streams, match):
    with pytest.raises(ValidationError, match=match):
        write_edf(Recording(streams), tmp_path / "x.edf")


def test_irregular_sampling_is_refused(tmp_path):
    time_s = np.cumsum(np.r_[0.0, np.full(99, 0.01), np.full(100, 0.013)])
    stream = pd.DataFrame({"left_hip_angle_x": np.sin(time_s)}, index=time_s)
    with pytest.raises(ValidationError, match="not regularly sampled"):
        write_edf(Recording([stream]), tmp_path / "x.edf")


def test_uneven_streams_are_cut_to_whole_records_with_a_warning(tmp_path):
    streams = [_stream(100, 2.0, left_hip_angle_x=np.sin), _stream(1000, 2.5, left_soleus_emg=np.sin)]
    with pytest.warns(ExohubWarning, match=r"the last 0\.5 s"):
        path = write_edf(Recording(streams), tmp_path / "x.edf")
    assert read_edf(path).duration_s == pytest.approx(1.999)


def test_units_and_annotations_from_a_foreign_edf(tmp_path):
    import edfio

    signals = [
        edfio.EdfSignal(np.full(200, 1500.0), 100, label="EMG L TA", physical_dimension="uV"),
        edfio.EdfSignal(np.full(200, 45.0), 100, label="left_hip_angle_x", physical_dimension="deg"),
        edfio.EdfSignal(np.full(200, 1.0), 100, label="Pleth", physical_dimension="au"),
    ]
    annotations = [edfio.EdfAnnotation(0.5, None, "Left Foot Strike"), edfio.EdfAnnotation(1.0, None, "lights off")]
    path = tmp_path / "foreign.edf"
    edfio.Edf(signals, annotations=annotations).write(path)
    with pytest.warns(ExohubWarning, match=r"not read: \['Pleth'\].*1 annotations are not gait events"):
        recording = read_edf(path)
    np.testing.assert_allclose(recording.get(["left_tibialis_anterior_emg"]).to_numpy(), 1.5e-3, rtol=1e-4)
    np.testing.assert_allclose(recording.get(["left_hip_angle_x"]).to_numpy(), np.pi / 4, rtol=1e-4)
    assert recording.events[["side", "event"]].to_numpy().tolist() == [["left", "initial_contact"]]
    with pytest.warns(ExohubWarning, match="annotations") as caught:
        mapped = read_edf(path, channel_map={"Pleth": None})
    assert "Pleth" not in str(caught[0].message)
    assert mapped.channels == ["left_tibialis_anterior_emg", "left_hip_angle_x"]


@pytest.mark.parametrize(
    ("content", "match"), [(b"", "the file is empty"), (b"PK\x03\x04" + b"\0" * 300, "not an EDF or BDF file")]
)
def test_empty_and_foreign_files_are_refused(tmp_path, content, match):
    path = tmp_path / "bad.edf"
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=match):
        read_edf(path)


@pytest.fixture(scope="module")
def edf_bytes(tmp_path_factory):
    time_s = np.arange(400) / 100
    stream = pd.DataFrame({"left_hip_angle_x": np.sin(time_s), "left_soleus_emg": 1e-4 * np.cos(time_s)}, index=time_s)
    events = pd.DataFrame({"side": ["left"], "event": ["initial_contact"], "time_s": [1.0]})
    return write_edf(Recording([stream], events=events), tmp_path_factory.mktemp("edf") / "w.edf").read_bytes()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_edf_is_refused(edf_bytes, tmp_path, data):
    path = tmp_path / "cut.edf"
    path.write_bytes(edf_bytes[: data.draw(st.integers(0, len(edf_bytes) - 1))])
    with pytest.raises(ValidationError, match=r"cut\.edf"):
        read_edf(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_edf_gives_a_validation_error_or_a_recording(edf_bytes, tmp_path, data):
    path = tmp_path / "flipped.edf"
    path.write_bytes(flipped(edf_bytes, data.draw(byte_flips(len(edf_bytes), hot_end=768))))
    read_or_refuse(read_edf, path)


@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
def test_the_start_date_travels_and_an_anonymised_one_is_none(tmp_path, suffix):
    from datetime import UTC, datetime

    time_s = np.arange(500) / 100
    stream = pd.DataFrame({"left_hip_angle": np.sin(time_s)}, index=time_s)
    dated = Recording([stream], {"meas_date": datetime(2026, 9, 14, 9, 30, 5, tzinfo=UTC)})
    assert (
        read_recording(write_recording(dated, tmp_path / f"dated{suffix}")).info["meas_date"] == dated.info["meas_date"]
    )
    undated = Recording([stream])
    assert read_recording(write_recording(undated, tmp_path / f"undated{suffix}")).info["meas_date"] is None
