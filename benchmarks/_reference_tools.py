"""gaitmap's event detection and neurokit2's EMG processing on given data, timed; run in the reference environment.

gaitmap and neurokit2 are not dependencies of exohub (and want older pandas/numpy), so ``make bench-signals`` installs
them in ``.venv-reference`` and ``bench_signals.py`` calls this script there with the very arrays it times exohub on::

    .venv-reference/bin/python benchmarks/_reference_tools.py gaitmap INPUT.npz   # or gaitmap's own imu_sample.csv
    .venv-reference/bin/python benchmarks/_reference_tools.py neurokit INPUT.npz

``gaitmap``: INPUT.npz holds ``left`` and ``right`` (n x 6: acc_x..z in m/s², gyr_x..z in rad/s, in gaitmap's sensor
frame) and ``sampling_rate_hz``; runs BarthDtw stride segmentation + RamppEventDetection (gaitmap's standard pipeline).
``neurokit``: INPUT.npz holds ``emg`` (n x channels, V) and ``sampling_rate_hz``; runs ``nk.emg_process`` on each
channel (neurokit2 takes one channel at a time). Prints JSON: ``elapsed_s`` (processing only) and the results.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

GAITMAP_COLUMNS = ["acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]


def _gaitmap_input(path: Path) -> tuple[dict[str, pd.DataFrame], float]:
    if path.suffix == ".csv":  # gaitmap's own example file: two sensors, already in its sensor frame, gyr in deg/s
        data = pd.read_csv(path, header=[0, 1], index_col=0)
        return {sensor.split("_")[0]: data[sensor] for sensor in ("left_sensor", "right_sensor")}, 204.8
    arrays = np.load(path)
    frames = {}
    for side in ("left", "right"):
        values = arrays[side].astype(np.float64)
        values[:, 3:] = np.degrees(values[:, 3:])  # gaitmap wants deg/s
        frames[side] = pd.DataFrame(values, columns=GAITMAP_COLUMNS)
    return frames, float(arrays["sampling_rate_hz"])


def gaitmap_events(path: Path) -> dict:
    """IC and FC times (s) per foot from BarthDtw + RamppEventDetection, and the time they took."""
    from gaitmap.event_detection import RamppEventDetection
    from gaitmap.stride_segmentation import BarthDtw
    from gaitmap.utils.coordinate_conversion import convert_to_fbf

    frames, rate_hz = _gaitmap_input(path)
    data = pd.concat({f"{side}_sensor": frame for side, frame in frames.items()}, axis=1)
    start = time.perf_counter()
    body = convert_to_fbf(data, left_like="left_", right_like="right_")
    strides = BarthDtw().segment(body, sampling_rate_hz=rate_hz).stride_list_
    events = RamppEventDetection().detect(body, strides, sampling_rate_hz=rate_hz).min_vel_event_list_
    elapsed_s = time.perf_counter() - start
    found = {}
    for side in frames:
        frame = events[f"{side}_sensor"]
        found[side] = {
            "initial_contact": sorted(np.unique(frame["ic"].dropna().to_numpy() / rate_hz).tolist()),
            "final_contact": sorted(np.unique(frame["tc"].dropna().to_numpy() / rate_hz).tolist()),
        }
    return {"elapsed_s": elapsed_s, "events": found}


def neurokit_emg(path: Path) -> dict:
    """Envelope (amplitude) and onset times (s) per channel from nk.emg_process, and the time they took."""
    import neurokit2 as nk

    arrays = np.load(path)
    emg, rate_hz = arrays["emg"].astype(np.float64), float(arrays["sampling_rate_hz"])
    start = time.perf_counter()
    processed = [nk.emg_process(emg[:, i], sampling_rate=round(rate_hz))[0] for i in range(emg.shape[1])]
    elapsed_s = time.perf_counter() - start
    return {
        "elapsed_s": elapsed_s,
        "onsets_s": [(np.flatnonzero(p["EMG_Onsets"].to_numpy()) / rate_hz).tolist() for p in processed],
        "envelope_every_10th": [p["EMG_Amplitude"].to_numpy()[::10].tolist() for p in processed],
    }


if __name__ == "__main__":
    task, source = sys.argv[1], Path(sys.argv[2])
    print(json.dumps({"gaitmap": gaitmap_events, "neurokit": neurokit_emg}[task](source)))
