import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals import parse_channel
from exohub.signals.datasets import load_gaitalytics
from exohub.signals.io import read_c3d, read_recording
from exohub.signals.io._c3d_structure import check_c3d_structure
from tests.signals.io.fuzz import byte_flips, flipped, read_or_refuse

SAMPLE_BYTES = 1_640_064
PARAMETER_END = 86 * 512  # test_small.c3d: parameters in blocks 2-86, data from block 87
ANGLE_COLUMNS = {
    "left_hip_angle": "LHipAngles",
    "right_knee_angle": "RKneeAngles",
    "left_ankle_angle": "LAnkleAngles",
    "right_foot_angle": "RFootProgressAngles",
    "pelvis_angle": "LPelvisAngles",
    "trunk_angle": "LThoraxAngles",
}


@pytest.fixture(scope="module")
def small_c3d(gaitalytics_dir):
    return gaitalytics_dir / "test_small.c3d"


@pytest.mark.parametrize("name", ["test_small", "treadmill_events"])
def test_gaitalytics_channels_follow_the_convention(gaitalytics_dir, name):
    recording = load_gaitalytics(gaitalytics_dir / f"{name}.c3d")
    for channel in recording.channels:
        parse_channel(channel)
    assert {recording.sampling_rate_hz(c) for c in recording.channels} == {100.0, 1000.0}
    events = pd.read_csv(gaitalytics_dir / f"{name}_events.csv")
    assert len(recording.events) == len(events)
    expected = events.assign(
        side=events["side"].str.lower(),
        event=events["event"].map({"Foot Strike": "initial_contact", "Foot Off": "final_contact"}),
    ).sort_values(["time_s", "side", "event"], ignore_index=True)
    np.testing.assert_allclose(recording.events["time_s"], expected["time_s"], atol=1e-6)
    assert recording.events["event"].tolist() == expected["event"].tolist()
    assert recording.events["side"].tolist() == expected["side"].tolist()


def test_gaitalytics_emg_matches_the_csv_export(gaitalytics_dir):
    recording = load_gaitalytics(gaitalytics_dir / "test_small.c3d")
    export = pd.read_csv(gaitalytics_dir / "test_small_analog_1000Hz.csv", index_col="time_s")
    pairs = {"left_tibialis_anterior_emg": "Voltage.LTA", "right_gastrocnemius_medialis_emg": "Voltage.RGAS"}
    pairs |= {"left_erector_spinae_emg": "Voltage.LERS", "right_semitendinosus_emg": "Voltage.RST"}
    assert set(recording.pick(quantity="emg")) >= set(pairs) and len(recording.pick(quantity="emg")) == 14
    for name, column in pairs.items():
        stream = recording.streams[recording.stream_index(name)]
        np.testing.assert_allclose(stream.index, export.index, atol=1e-9)
        # the export keeps 6 significant digits, in V like the convention
        np.testing.assert_allclose(stream[name], export[column], rtol=1e-5, atol=1e-9)


def test_gaitalytics_treadmill_forces_and_unnamed_emg(gaitalytics_dir):
    recording = load_gaitalytics(gaitalytics_dir / "treadmill_events.c3d")
    export = pd.read_csv(gaitalytics_dir / "treadmill_events_analog_1000Hz.csv", index_col="time_s")
    assert recording.pick(quantity="emg") == [f"channel_{n}_emg" for n in range(1, 13)]
    stream = recording.streams[recording.stream_index("left_foot_force_z")]
    np.testing.assert_allclose(stream["left_foot_force_z"], export["Force.Fz1"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(stream["right_foot_force_x"], export["Force.Fx2"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(stream["channel_7_emg"], export["Voltage.7"], rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("name", ["test_small", "treadmill_events"])
def test_gaitalytics_angles_match_the_csv_export_in_radians(gaitalytics_dir, name):
    recording = load_gaitalytics(gaitalytics_dir / f"{name}.c3d")
    export = pd.read_csv(gaitalytics_dir / f"{name}_angles_100Hz.csv", index_col="time_s")
    for stem, label in ANGLE_COLUMNS.items():
        for axis in "xyz":
            got = recording.streams[recording.stream_index(f"{stem}_{axis}")][f"{stem}_{axis}"]
            np.testing.assert_allclose(got.index, export.index, atol=1e-9)
            # the export has 4 decimals in degrees: 5e-5 deg = 8.7e-7 rad
            np.testing.assert_allclose(got, np.deg2rad(export[f"{label}_{axis.upper()}"]), atol=1e-6)


def test_read_c3d_warns_about_labels_it_cannot_name(small_c3d):
    with pytest.warns(ExohubWarning, match=r"have no channel in the convention and were not read: LFHD"):
        recording = read_c3d(small_c3d)
    assert "left_hip_torque_x" in recording.channels  # Plug-in-Gait moments, N*mm -> N*m
    assert "Voltage.FootswitchA" not in recording.channels


def test_channel_map_names_and_drops_labels(small_c3d):
    with pytest.warns(ExohubWarning):
        recording = read_c3d(
            small_c3d, channel_map={"Voltage.15": "left_soleus_emg", "Voltage.16": None, "LHipAngles": None}
        )
    assert "left_soleus_emg" in recording.channels
    assert "channel_16_emg" not in recording.channels
    assert "left_hip_angle_x" not in recording.channels
    with pytest.raises(ValidationError, match=r"test_small.c3d: Channel 'left_big_toe_emg'.*not a known muscle"):
        read_c3d(small_c3d, channel_map={"Voltage.15": "left_big_toe_emg"}, unmapped="ignore")


def test_moments_are_converted_from_n_mm(small_c3d):
    import ezc3d

    raw = ezc3d.c3d(str(small_c3d))
    index = list(raw["parameters"]["POINT"]["LABELS"]["value"]).index("LHipMoment")
    recording = read_c3d(small_c3d, unmapped="ignore")
    torque_n_m = recording.get(["left_hip_torque_y"]).to_numpy()[:, 0]
    np.testing.assert_allclose(torque_n_m, raw["data"]["points"][1, index] / 1000)


@pytest.mark.parametrize(
    ("sides", "error", "match"),
    [
        ({0: "left"}, ValueError, "plate numbers from 1"),
        ({1: "L"}, ValueError, "must be one of"),
        ({1: "left", 2: "left"}, ValueError, "one side to several plates"),
        ({9: "left"}, ValidationError, "names plates \\[9\\]; the file has 4"),
    ],
)
def test_force_plate_sides_are_checked(small_c3d, sides, error, match):
    with pytest.raises(error, match=match):
        read_c3d(small_c3d, force_plate_sides=sides, unmapped="ignore")


def test_registered_by_suffix(small_c3d):
    with pytest.warns(ExohubWarning, match="not read"):
        by_suffix = read_recording(small_c3d)
    assert by_suffix.channels == read_c3d(small_c3d, unmapped="ignore").channels


def test_empty_and_foreign_files_are_refused(tmp_path):
    empty = tmp_path / "empty.c3d"
    empty.touch()
    with pytest.raises(ValidationError, match=r"empty\.c3d: the file is empty"):
        read_c3d(empty)
    text = tmp_path / "text.c3d"
    text.write_text("time_s,left_hip_angle\n" * 100)
    with pytest.raises(ValidationError, match=r"text.c3d: not a C3D file"):
        read_c3d(text)


def test_structure_check_accepts_the_real_files(gaitalytics_dir):
    layout = check_c3d_structure(gaitalytics_dir / "test_small.c3d")
    assert (layout.n_points, layout.n_analog_channels, layout.n_frames) == (191, 42, 337)
    assert check_c3d_structure(gaitalytics_dir / "treadmill_events.c3d").n_frames == 1206


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(0, SAMPLE_BYTES - 1))
def test_truncated_c3d_is_refused(small_c3d, tmp_path, size):
    path = tmp_path / "cut.c3d"
    path.write_bytes(small_c3d.read_bytes()[:size])
    with pytest.raises(ValidationError, match=r"cut\.c3d"):
        read_c3d(path)


@pytest.fixture(scope="module")
def small_c3d_bytes(small_c3d):
    data = small_c3d.read_bytes()
    assert len(data) == SAMPLE_BYTES
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=byte_flips(SAMPLE_BYTES, hot_end=PARAMETER_END))
def test_damaged_c3d_gives_a_validation_error_or_a_recording(small_c3d_bytes, tmp_path, flips):
    path = tmp_path / "flipped.c3d"
    path.write_bytes(flipped(small_c3d_bytes, flips))
    read_or_refuse(read_c3d, path)


def test_header_and_parameter_damage_found_by_fuzzing_is_refused(small_c3d_bytes, tmp_path):
    # Each of these made ezc3d 1.5 segfault (found by flipping bytes): a parameter with 176 dimensions, a parameter
    # record turned into a group, a group id beyond the others, a renamed ANALOG:OFFSET (read without a check).
    cases = {
        38249: (176, "has 176 dimensions"),
        28490: (145, "longer than the space its offset leaves"),
        38972: (198, r"group ids .* are not 1\.\.11"),
        29013: (198, "not printable ASCII"),
        29012: (ord("X"), "ANALOG:OFFSET is missing"),
    }
    for offset, (value, match) in cases.items():
        path = tmp_path / f"case_{offset}.c3d"
        path.write_bytes(flipped(small_c3d_bytes, [(offset, value)]))
        with pytest.raises(ValidationError, match=match):
            read_c3d(path)


def test_copy_of_real_file_reads(small_c3d, tmp_path):
    copy = shutil.copy(small_c3d, tmp_path / "copy.c3d")
    assert read_or_refuse(lambda p: read_c3d(p, unmapped="ignore"), copy) is not None
