"""Kang et al. 2021 hip-exoskeleton data (``hipexo_gait_phase``): hip encoders + pelvis IMU, phase labels per leg."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from exohub.exceptions import ValidationError
from exohub.signals.consts import TIME_COLUMN
from exohub.signals.datasets._labels import phase_from_cos_sin
from exohub.signals.io._errors import check_file, reading
from exohub.signals.recording import Recording

HIPEXO_SAMPLING_RATE_HZ = 200.0
HIPEXO_CHANNELS = (
    "left_hip_angle",
    "right_hip_angle",
    "left_hip_velocity",
    "right_hip_velocity",
    "pelvis_gyr_x",
    "pelvis_gyr_y",
    "pelvis_gyr_z",
    "pelvis_acc_x",
    "pelvis_acc_y",
    "pelvis_acc_z",
)
#: column 10 of the files; the mapping is the data set's, inferred from its circuits.
HIPEXO_MODES = {1: "level_ground", 2: "ramp_ascent", 3: "ramp_descent", 4: "stair_ascent", 5: "stair_descent"}
_NAME = re.compile(r"labeled_(?:chopped_)?(?P<direction>CCW|CW)_(?P<condition>ZI|BT)")


def load_hipexo(path: str | Path) -> Recording:
    """Load one ``labeled_*.txt.gz`` file of the hip-exoskeleton data set.

    Parameters
    ----------
    path
        A file such as ``AB01/labeled_CW_ZI_1.txt.gz``.

    Returns
    -------
    Recording
        One 200 Hz stream: ``left/right_hip_angle`` (rad, flexion positive), ``left/right_hip_velocity`` (rad/s,
        flexion positive) and the pelvis IMU (``pelvis_gyr_*`` rad/s, ``pelvis_acc_*`` m/s²). ``labels`` hold
        ``left_phase``, ``right_phase`` in [0, 1) and ``locomotion_mode`` (codes of :data:`HIPEXO_MODES`).

    Notes
    -----
    The files store the hip angle and velocity extension-positive; the loader negates both so that flexion is
    positive (ISB, the exohub convention). Evidence, on every subject and both legs: the raw angle spans about
    -70 to +16 degrees (stair ascent flexes the hip about 60-70 degrees, so the large negative values are
    flexion), and the raw velocity is negatively skewed (swing flexion is faster than stance extension, so a
    flexion-positive velocity is positively skewed; see
    :func:`~exohub.signals.events._angle_event_detection.flexion_sign_from_data`).

    The labels' phase 0 is the **maximum of hip extension** in late stance (the maxima of the raw file angle),
    not heel strike and not maximum flexion: the circular mean of the label phase at the hip-extension maxima
    found by :class:`~exohub.signals.events.AngleEventDetection` is 0.00-0.01 on every subject and leg, while at
    the flexion maxima it is 0.33-0.49 (``benchmarks/validate_phase.py``). In a heel-strike cycle maximum hip
    extension falls at about 50-60 %, shortly before toe off. ``info["phase_definition"]`` says so.

    References
    ----------
    Kang, Molinaro, Duggal, Chen, Kunapuli, Young, "Real-Time Gait Phase Estimation for Robotic Hip Exoskeleton
    Control During Multimodal Locomotion", IEEE RA-L 6(2):3491-3497, 2021.
    """
    path = check_file(path)
    with reading(path, "hip-exoskeleton text"):
        values = np.loadtxt(path, dtype=np.float64, ndmin=2)
        if values.shape[1] != 15:
            raise ValidationError(f"expected 15 columns per row, found {values.shape[1]}.")
    time_s = np.arange(values.shape[0]) / HIPEXO_SAMPLING_RATE_HZ
    index = pd.Index(time_s, name=TIME_COLUMN)
    stream = pd.DataFrame(values[:, :10], index=index, columns=list(HIPEXO_CHANNELS))
    stream.iloc[:, :4] *= -1.0  # extension-positive in the files; flexion-positive in exohub (see Notes)
    labels = pd.DataFrame(
        {
            "left_phase": phase_from_cos_sin(values[:, 11], values[:, 12]),
            "right_phase": phase_from_cos_sin(values[:, 13], values[:, 14]),
            "locomotion_mode": values[:, 10],
        },
        index=index,
    )
    match = _NAME.search(path.name)
    info = {
        "subject_id": path.parent.name,
        "condition": "" if match is None else {"ZI": "unpowered", "BT": "assisted"}[match["condition"]],
        "device": "bilateral hip exoskeleton",
        "source": f"hipexo_gait_phase/{path.parent.name}/{path.name}",
        "phase_definition": "0 = maximum hip extension (late stance, before toe off); linear between maxima",
    }
    return Recording([stream], info, labels=labels)
