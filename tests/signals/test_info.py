from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from exohub.exceptions import ValidationError
from exohub.signals import Recording, RecordingInfo


def test_settable_keys_are_checked():
    info = RecordingInfo(description="walk", body_mass_kg=72)
    assert info["body_mass_kg"] == 72.0
    with pytest.raises(KeyError, match="no key 'patient_name'"):
        info["patient_name"] = "Jane"
    with pytest.raises(TypeError, match=r"info\['description'\] must be a str"):
        info["description"] = 3
    with pytest.raises(ValueError, match="body mass between 2 and 400 kg"):
        info["body_mass_kg"] = 4000
    with pytest.raises(ValueError, match="timezone-aware"):
        info["meas_date"] = datetime(2026, 1, 1)


def test_meas_date_is_stored_in_utc():
    info = RecordingInfo(meas_date=datetime(2026, 1, 1, 9, tzinfo=timezone(timedelta(hours=9))))
    assert info["meas_date"] == datetime(2026, 1, 1, 0, tzinfo=UTC)
    assert RecordingInfo.from_json(info.to_json())["meas_date"] == info["meas_date"]


def test_derived_keys_come_from_the_recording_and_refuse_assignment():
    time_s = np.arange(100) / 100.0
    recording = Recording([pd.DataFrame({"left_hip_angle": np.zeros(100)}, index=time_s)], {"description": "x"})
    assert recording.info["channels"] == ["left_hip_angle"]
    assert recording.info["sampling_rates_hz"] == {"left_hip_angle": 100.0}
    with pytest.raises(ValidationError, match="derived from the data"):
        recording.info["channels"] = ["a"]
    with pytest.raises(ValidationError, match="keys are fixed"):
        del recording.info["description"]
