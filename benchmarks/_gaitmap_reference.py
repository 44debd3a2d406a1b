"""gaitmap's own pipeline (BarthDtw + RamppEventDetection) on the same walk, for comparison; run in a separate venv.

gaitmap is not a dependency of exohub. Install it apart and run::

    python3.11 -m venv /tmp/gmenv && /tmp/gmenv/bin/pip install gaitmap gaitmap_mad
    /tmp/gmenv/bin/python benchmarks/_gaitmap_reference.py > /tmp/gaitmap_events.json

Prints the detected events (seconds) per foot as JSON, for ``validate_imu_events.py --gaitmap FILE`` to score.
gaitmap needs its own sensor frame (``imu_sample.csv`` is already in it), which is what exohub does not assume.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
from gaitmap.event_detection import RamppEventDetection
from gaitmap.stride_segmentation import BarthDtw
from gaitmap.utils.coordinate_conversion import convert_to_fbf

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gaitmap_example"
RATE_HZ = 204.8

data = pd.read_csv(DATA / "imu_sample.csv", header=[0, 1], index_col=0)
body = convert_to_fbf(data, left_like="left_", right_like="right_")
strides = BarthDtw().segment(body, sampling_rate_hz=RATE_HZ).stride_list_
events = RamppEventDetection().detect(body, strides, sampling_rate_hz=RATE_HZ).min_vel_event_list_
out = {}
for sensor, side in (("left_sensor", "left"), ("right_sensor", "right")):
    frame = events[sensor]
    out[side] = {
        "initial_contact": sorted(np.unique(frame["ic"].dropna().to_numpy() / RATE_HZ).tolist()),
        "final_contact": sorted(np.unique(frame["tc"].dropna().to_numpy() / RATE_HZ).tolist()),
    }
print(json.dumps(out))
