"""Lee, Hong, Hur 2021 transfemoral-prosthesis data (``lee2021_gait_lstm``): thigh and torso angle, heel load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from exohub._utils._checks import check_option
from exohub.exceptions import ValidationError
from exohub.signals.consts import SIDES, TIME_COLUMN
from exohub.signals.datasets._labels import phase_from_cos_sin
from exohub.signals.io._errors import check_file, reading
from exohub.signals.recording import Recording

#: Not documented by the source; strides of 290-390 samples at normal cadence suggest 250-300 Hz.
LEE2021_ASSUMED_RATE_HZ = 250.0
_COLUMNS = ("cos", "sin", "Force_heel", "Position_thigh", "Velocity_thigh", "Position_torso", "Velocity_torso")


def load_lee2021(
    path: str | Path, *, sampling_rate_hz: float = LEE2021_ASSUMED_RATE_HZ, side: str = "right"
) -> Recording:
    """Load one CSV of the Lee et al. 2021 data set.

    Parameters
    ----------
    path
        ``Evaluating.csv`` or ``Predict_Subject_<n>.csv``.
    sampling_rate_hz
        The source does not state it; 250 Hz is assumed. Phase errors in % of the cycle do not depend on it, times in
        seconds do.
    side
        The instrumented leg; the source does not say which. Only its name in the channels changes.

    Returns
    -------
    Recording
        One stream: ``<side>_thigh_angle`` (rad), ``<side>_thigh_velocity`` (rad/s), ``trunk_angle``,
        ``trunk_velocity`` and ``<side>_foot_force`` (heel load, units not documented); ``labels`` hold
        ``<side>_phase`` with 0 = heel strike.
    """
    check_option("side", side, SIDES)
    if not 1.0 <= sampling_rate_hz <= 10_000.0:
        raise ValueError(f"sampling_rate_hz must be between 1 and 10000, got {sampling_rate_hz!r}.")
    path = check_file(path)
    with reading(path, "Lee 2021 CSV"):
        frame = pd.read_csv(path)
        if frame.shape[1] != len(_COLUMNS):
            raise ValidationError(f"expected {len(_COLUMNS)} columns, found {frame.shape[1]}: {list(frame.columns)}.")
        values = frame.to_numpy(dtype=np.float64)
    index = pd.Index(np.arange(values.shape[0]) / sampling_rate_hz, name=TIME_COLUMN)
    stream = pd.DataFrame(
        {
            f"{side}_thigh_angle": values[:, 3],
            f"{side}_thigh_velocity": values[:, 4],
            "trunk_angle": values[:, 5],
            "trunk_velocity": values[:, 6],
            f"{side}_foot_force": values[:, 2],
        },
        index=index,
    )
    phase = phase_from_cos_sin(values[:, 0], values[:, 1])
    labels = pd.DataFrame({f"{side}_phase": phase}, index=index)
    info = {
        "source": f"lee2021_gait_lstm/{path.name}",
        "device": "transfemoral prosthesis",
        "phase_definition": "0 = heel strike",
        "description": f"sampling rate assumed {sampling_rate_hz:g} Hz (not documented by the source)",
    }
    return Recording([stream], info, labels=labels)
