import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exohub.exceptions import ValidationError
from exohub.signals import Recording
from exohub.signals.io import read_csv, write_csv
from tests.signals.io.fuzz import read_or_refuse

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CHANNELS = ["left_hip_angle", "right_hip_angle", "left_soleus_emg", "pelvis_acc_x"]


@pytest.mark.parametrize(
    ("header", "duplicated"),
    [
        ("time_s,left_hip_angle,left_hip_angle", "['left_hip_angle']"),
        ("time_s,time_s,left_hip_angle", "['time_s']"),
        ("time_s,a,b,a,b", "['a', 'b']"),
    ],
)
def test_duplicate_columns_are_refused_not_renamed(tmp_path, header, duplicated):
    path = tmp_path / "dup.csv"
    n = header.count(",")
    path.write_text(header + "\n" + "".join(f"{i / 10}" + ",1.0" * n + "\n" for i in range(3)))
    with pytest.raises(ValidationError, match=rf"dup\.csv: columns appear more than once .*{duplicated}"):
        read_csv(path)


def test_csv_round_trip_still_reads(tmp_path):
    time_s = np.arange(50) / 100
    recording = Recording([pd.DataFrame({"left_hip_angle": np.sin(time_s)}, index=time_s)])
    back = read_csv(write_csv(recording, tmp_path / "ok.csv"))
    pd.testing.assert_frame_equal(back.streams[0], recording.streams[0])


@FUZZ
@given(content=st.binary(max_size=400))
def test_random_bytes_give_a_validation_error_or_a_recording(tmp_path, content):
    path = tmp_path / "random.csv"
    path.write_bytes(content)
    read_or_refuse(read_csv, path)


_CELL = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "nan", "abc", "1e999", "-", "0x10"]),
    st.integers(-1000, 1000).map(str),
)


@FUZZ
@given(
    columns=st.lists(st.sampled_from([*CHANNELS, "time_s", "bogus"]), min_size=1, max_size=5),
    rows=st.lists(st.lists(_CELL, min_size=1, max_size=6), max_size=12),
)
def test_random_rows_give_a_validation_error_or_a_recording(tmp_path, columns, rows):
    path = tmp_path / "rows.csv"
    path.write_text("\n".join([",".join(columns), *(",".join(row) for row in rows)]) + "\n")
    recording = read_or_refuse(read_csv, path)
    if recording is not None:
        assert set(recording.channels) <= set(CHANNELS)


@pytest.fixture(scope="module")
def csv_text(tmp_path_factory):
    time_s = np.arange(200) / 100
    fast = pd.DataFrame({"left_soleus_emg": 1e-4 * np.sin(40 * time_s)}, index=time_s)
    slow = pd.DataFrame({"left_hip_angle": np.cos(time_s[::4])}, index=time_s[::4])
    return write_csv(Recording([fast, slow]), tmp_path_factory.mktemp("csv") / "r.csv").read_text()


@FUZZ
@given(data=st.data())
def test_truncated_lines_give_a_validation_error_or_a_recording(tmp_path, csv_text, data):
    path = tmp_path / "cut.csv"
    path.write_text(csv_text[: data.draw(st.integers(0, len(csv_text) - 1))])
    read_or_refuse(read_csv, path)


def test_a_file_cut_off_mid_line_is_refused(tmp_path):
    time_s = np.arange(2000) / 100
    recording = Recording(
        [pd.DataFrame({"left_hip_angle": np.sin(time_s), "right_hip_angle": np.cos(time_s)}, index=time_s)]
    )
    text = write_csv(recording, tmp_path / "whole.csv").read_text()
    cut = tmp_path / "cut.csv"
    cut.write_text(text[: len(text) // 2].rsplit(",", 1)[0])  # ends inside a row, after its first cell
    with pytest.raises(ValidationError, match="last line has 2 cells where the header has 3"):
        read_csv(cut)
    no_newline = tmp_path / "no_newline.csv"
    no_newline.write_text(text.rstrip("\n"))  # a complete last row without its line break is fine
    assert len(read_csv(no_newline).streams[0]) == 2000
