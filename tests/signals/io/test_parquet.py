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
