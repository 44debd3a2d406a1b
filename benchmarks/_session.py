"""Build the benchmark's 1-hour bilateral session from real recordings in ../shared/data.

The session has two clocks, like an exoskeleton with an EMG amplifier:

- 200 Hz: left/right hip encoder angle and velocity and the pelvis IMU of the hip-exoskeleton data set (subject
  files concatenated in order, repeated to one hour), plus left/right foot IMUs from gaitmap's healthy walk
  (resampled from 204.8 Hz, repeated).
- 2 kHz: 8 surface-EMG channels of the gaitalytics treadmill walk (resampled from 1 kHz, repeated). The file does
  not name its muscles; the benchmark assigns names so that per-cycle averages have a side.

The sources are not synchronised with each other: the session measures speed, not accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import signal

from exohub.signals import Recording
from exohub.signals.datasets import load_gaitmap_imu, load_hipexo

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
DURATION_S = 3600.0
SLOW_RATE_HZ = 200.0
EMG_RATE_HZ = 2000.0
EMG_NAMES = [
    f"{side}_{muscle}_emg"
    for side in ("left", "right")
    for muscle in ("tibialis_anterior", "gastrocnemius_medialis", "rectus_femoris", "biceps_femoris")
]


def _repeat(values: np.ndarray, n_samples: int) -> np.ndarray:
    reps = int(np.ceil(n_samples / values.shape[0]))
    return np.concatenate([values] * reps, axis=0)[:n_samples]


def _hip_exoskeleton(n_samples: int) -> pd.DataFrame:
    parts, total = [], 0
    for path in sorted(DATA.glob("hipexo_gait_phase/AB0*/labeled_*ZI*.txt.gz")):
        stream = load_hipexo(path).streams[0]
        parts.append(stream.to_numpy())
        total += len(stream)
        if total >= n_samples:
            break
    return pd.DataFrame(_repeat(np.concatenate(parts), n_samples), columns=stream.columns)


def _foot_imus(n_samples: int) -> pd.DataFrame:
    recording = load_gaitmap_imu(DATA / "gaitmap_example" / "imu_sample.csv")
    source = recording.streams[0]
    resampled = signal.resample_poly(source.to_numpy(), up=125, down=128, axis=0)  # 204.8 Hz -> 200 Hz
    return pd.DataFrame(_repeat(resampled, n_samples), columns=source.columns)


def _emg(n_samples: int) -> pd.DataFrame:
    analog = pd.read_csv(DATA / "gaitalytics_c3d_emg" / "treadmill_events_analog_1000Hz.csv")
    volts = analog[[f"Voltage.{i}" for i in range(1, 9)]].to_numpy()
    resampled = signal.resample_poly(volts, up=2, down=1, axis=0)
    return pd.DataFrame(_repeat(resampled, n_samples), columns=EMG_NAMES)


def build_session(duration_s: float = DURATION_S) -> Recording:
    """Return the benchmark session (see the module docstring); raises FileNotFoundError without ../shared/data."""
    if not DATA.is_dir():
        raise FileNotFoundError(f"{DATA} is absent: the benchmark is built from the shared real recordings.")
    n_slow = int(duration_s * SLOW_RATE_HZ)
    n_emg = int(duration_s * EMG_RATE_HZ)
    slow = pd.concat([_hip_exoskeleton(n_slow), _foot_imus(n_slow)], axis=1)
    slow.index = pd.Index(np.arange(n_slow) / SLOW_RATE_HZ, name="time_s")
    emg = _emg(n_emg)
    emg.index = pd.Index(np.arange(n_emg) / EMG_RATE_HZ, name="time_s")
    info = {"description": f"benchmark session, {duration_s:g} s, built from ../shared/data", "source": "benchmark"}
    return Recording([slow, emg], info)
