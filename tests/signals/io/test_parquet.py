import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exohub.exceptions import ValidationError
from exohub.signals import Recording
from exohub.signals.io import read_parquet, write_parquet
from tests.signals.io.fuzz import byte_flips, flipped, read_or_refuse


@pytest.fixture(scope="module")
def parquet_bytes(tmp_path_factory):
    time_s = np.arange(300) / 100
    stream = pd.DataFrame({"left_hip_angle": np.sin(time_s), "right_hip_angle": np.cos(time_s)}, index=time_s)
    return write_parquet(Recording([stream]), tmp_path_factory.mktemp("pq") / "r.parquet").read_bytes()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_truncated_parquet_is_refused(tmp_path, parquet_bytes, data):
    path = tmp_path / "cut.parquet"
    path.write_bytes(parquet_bytes[: data.draw(st.integers(0, len(parquet_bytes) - 1))])
    with pytest.raises(ValidationError, match=r"cut\.parquet"):
        read_parquet(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_parquet_gives_a_validation_error_or_a_recording(tmp_path, parquet_bytes, data):
    path = tmp_path / "flipped.parquet"
    path.write_bytes(flipped(parquet_bytes, data.draw(byte_flips(len(parquet_bytes)))))
    read_or_refuse(read_parquet, path)


def _multi_rate_recording() -> Recording:
    slow_s = np.arange(250) / 100
    fast_s = np.arange(2500) / 1000 + 0.0004
    slow = pd.DataFrame({"left_hip_angle": np.sin(slow_s), "right_hip_angle": np.cos(slow_s)}, index=slow_s)
    slow.iloc[7, 1] = np.nan  # a missing sample stays NaN, never a neighbour's value or a null
    fast = pd.DataFrame({"left_rectus_femoris_emg": np.sin(40 * fast_s)}, index=fast_s)
    labels = pd.DataFrame({"left_phase": (slow_s % 1.1) / 1.1}, index=slow_s)
    events = pd.DataFrame({"side": ["left"], "event": ["initial_contact"], "time_s": [0.3]})
    return Recording([slow, fast], {"subject_id": "S01"}, events=events, labels=labels)


def _assert_same(read: Recording, written: Recording) -> None:
    assert len(read.streams) == len(written.streams)
    for got, expected in zip(read.streams, written.streams, strict=True):
        pd.testing.assert_frame_equal(got, expected, check_names=False, check_freq=False, check_index_type=False)
    pd.testing.assert_frame_equal(read.labels, written.labels, check_names=False, check_index_type=False)
    pd.testing.assert_frame_equal(read.events, written.events)
    assert read.info["subject_id"] == "S01"


def test_each_stream_has_row_groups_of_its_own_and_reads_back_exactly(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    from exohub.signals.io import _parquet

    monkeypatch.setattr(_parquet, "ROW_GROUP_ROWS", 1000)  # the fast stream spans three row groups
    recording = _multi_rate_recording()
    path = write_parquet(recording, tmp_path / "multi.parquet")
    file = pq.ParquetFile(path)
    streams = [file.metadata.row_group(g).column(0).statistics for g in range(file.metadata.num_row_groups)]
    assert [(s.min, s.max) for s in streams] == [(0, 0), (1, 1), (1, 1), (1, 1), (-1, -1)]
    _assert_same(read_parquet(path), recording)


def test_files_whose_streams_share_row_groups_still_read(tmp_path):
    """Files written before per-stream row groups hold every stream in one row group."""
    import pyarrow.parquet as pq

    recording = _multi_rate_recording()
    path = write_parquet(recording, tmp_path / "new.parquet")
    legacy = tmp_path / "legacy.parquet"
    pq.write_table(pq.read_table(path), legacy)
    assert pq.ParquetFile(legacy).metadata.num_row_groups == 1
    _assert_same(read_parquet(legacy), recording)
