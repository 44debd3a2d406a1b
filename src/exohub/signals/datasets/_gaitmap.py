"""gaitmap's example data (``gaitmap_example``): foot-worn IMUs, and motion-capture gait events for one walk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from exohub.exceptions import ValidationError
from exohub.signals.consts import TIME_COLUMN
from exohub.signals.io._errors import check_file, reading
from exohub.signals.recording import Recording

GAITMAP_RATE_HZ = 204.8
GAITMAP_SLOW_RATE_HZ = 102.4  # imu_sample_ic_stride.csv and the MS files
_SLOW_FILES = ("imu_sample_ic_stride.csv", "imu_sample_ms_left.csv", "imu_sample_ms_right.csv")
_SIDES = {"left_sensor": "left", "right_sensor": "right"}
EVENTS_FILE = "stride_events_sample.csv"


def load_gaitmap_imu(path: str | Path, *, sampling_rate_hz: float | None = None) -> Recording:
    """Load a foot-IMU CSV of gaitmap's example data, with the motion-capture events where they exist.

    Parameters
    ----------
    path
        ``imu_sample.csv`` and its siblings. Bilateral files have two header rows (sensor, axis); the
        ``imu_sample_ms_<side>.csv`` files hold one foot each.
    sampling_rate_hz
        Defaults to the rate the data set documents for the file (204.8 Hz, or 102.4 Hz).

    Returns
    -------
    Recording
        ``<side>_foot_acc_<axis>`` (m/s²) and ``<side>_foot_gyr_<axis>`` (rad/s; the source is in deg/s) in the
        sensor's frame. For ``imu_sample.csv``, ``events`` hold the motion-capture initial and final contacts of
        ``stride_events_sample.csv``.
    """
    path = check_file(path)
    rate_hz = sampling_rate_hz or (GAITMAP_SLOW_RATE_HZ if path.name in _SLOW_FILES else GAITMAP_RATE_HZ)
    with reading(path, "gaitmap CSV"):
        if path.name.startswith("imu_sample_ms_"):
            side = "left" if "left" in path.name else "right"
            raw = pd.read_csv(path, index_col=0).drop(columns=["index"], errors="ignore")
            frames = {side: raw}
        else:
            raw = pd.read_csv(path, header=[0, 1], index_col=0)
            frames = {side: raw[sensor] for sensor, side in _SIDES.items() if sensor in raw.columns.get_level_values(0)}
        if not frames:
            raise ValidationError(f"no left_sensor/right_sensor columns; found {list(raw.columns)[:12]}.")
        columns = {}
        for side, frame in frames.items():
            for axis in "xyz":
                columns[f"{side}_foot_acc_{axis}"] = frame[f"acc_{axis}"].to_numpy(dtype=np.float64)
                columns[f"{side}_foot_gyr_{axis}"] = np.deg2rad(frame[f"gyr_{axis}"].to_numpy(dtype=np.float64))
    n_samples = len(next(iter(columns.values())))
    stream = pd.DataFrame(columns, index=pd.Index(np.arange(n_samples) / rate_hz, name=TIME_COLUMN))
    events = _mocap_events(path.with_name(EVENTS_FILE), rate_hz) if path.name == "imu_sample.csv" else None
    info = {"source": f"gaitmap_example/{path.name}", "device": "NilsPod foot IMUs"}
    return Recording([stream], info, events=events)


def _mocap_events(path: Path, rate_hz: float) -> pd.DataFrame | None:
    """Initial (``ic``) and final (``tc``) contacts of every stride, once each, in seconds."""
    if not path.is_file():
        return None
    with reading(path, "gaitmap stride events"):
        strides = pd.read_csv(path)
    rows = []
    for column, event in (("ic", "initial_contact"), ("tc", "final_contact")):
        for side, samples in strides.groupby("foot")[column]:
            for sample in np.unique(samples.dropna().to_numpy()):
                rows.append({"side": side, "event": event, "time_s": sample / rate_hz})
    return pd.DataFrame(rows)
