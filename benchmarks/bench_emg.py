"""EMG pipeline throughput: one hour of 8-channel surface EMG at 2 kHz through ``EmgProcessing``, on one core.

The signal tiles the 12 real EMG channels of gaitalytics' treadmill recording (``../shared/data``) when present,
otherwise synthesises gait-like EMG: band-limited noise (20-450 Hz) whose amplitude follows a 1.1 s stride with a
burst per muscle, over 5 uV of background noise and a little 50 Hz hum. Target: the hour in <= 0.8 s (zero-phase,
defaults: envelope at 200 Hz, frequencies every 5 s). Also timed: the exact full-rate variant
(``envelope_rate_hz=None, frequency_step_s=None``, the previous defaults), and the reduced-rate envelope's error
against the full-rate one on the first minute, away from its ends (max and mean, in % of each channel's peak).

Run: ``.venv/bin/python benchmarks/bench_emg.py [--json] [--minutes 60] [--repeats 3]``.
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import signal  # noqa: E402

from exohub.signals.emg import EmgProcessing  # noqa: E402
from exohub.signals.quality import SignalQualityAssessment  # noqa: E402

SAMPLING_RATE_HZ = 2000.0
N_CHANNELS = 8
TARGET_S_PER_HOUR = 0.8
#: The exact variant: envelope at the input rate, a frequency window every second.
FULL_RATE = {"envelope_rate_hz": None, "frequency_step_s": None}
#: SignalQualityAssessment on the EMG hour plus an hour of 22 kinematic channels at 200 Hz.
QUALITY_TARGET_S_PER_HOUR = 0.3
KINEMATIC_RATE_HZ = 200.0
REAL_EMG = Path(__file__).resolve().parents[2] / "shared" / "data" / "gaitalytics_c3d_emg"
REAL_FILE = REAL_EMG / "treadmill_events_analog_1000Hz.csv"


def synthetic_emg(duration_s: float, seed: int = 0) -> np.ndarray:
    """Gait-like EMG in volts, ``(n_samples, N_CHANNELS)``: bursts once per 1.1 s stride, phase per muscle."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * SAMPLING_RATE_HZ)
    time_s = np.arange(n) / SAMPLING_RATE_HZ
    sos = signal.butter(4, (20, 450), "bandpass", fs=SAMPLING_RATE_HZ, output="sos")
    carrier = signal.sosfilt(sos, rng.standard_normal((n, N_CHANNELS)), axis=0)
    phase = (time_s[:, None] / 1.1 - np.arange(N_CHANNELS)[None, :] / N_CHANNELS) % 1.0
    amplitude_v = 5e-6 + 200e-6 * np.exp(-(((phase - 0.3) / 0.08) ** 2))
    hum = 3e-6 * np.sin(2 * np.pi * 50 * time_s)[:, None]
    return carrier * amplitude_v + hum + 5e-6 * rng.standard_normal((n, N_CHANNELS))


def real_emg(duration_s: float) -> np.ndarray | None:
    """The treadmill EMG (1 kHz) upsampled to 2 kHz and tiled to ``duration_s``; ``None`` without the data set."""
    if not REAL_FILE.is_file():
        return None
    analog = pd.read_csv(REAL_FILE, index_col=0)
    emg = analog.filter(like="Voltage.").to_numpy()[:, :N_CHANNELS]
    emg = signal.resample_poly(emg, 2, 1, axis=0)
    reps = int(np.ceil(duration_s * SAMPLING_RATE_HZ / len(emg)))
    return np.tile(emg, (reps, 1))[: round(duration_s * SAMPLING_RATE_HZ)]


def as_frame(values: np.ndarray) -> pd.DataFrame:
    time_s = pd.Index(np.arange(len(values)) / SAMPLING_RATE_HZ, name="time_s")
    return pd.DataFrame(values, index=time_s, columns=[f"channel_{k + 1}_emg" for k in range(values.shape[1])])


def time_pipeline(data: pd.DataFrame, *, causal: bool, repeats: int, **parameters) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        EmgProcessing(causal=causal, **parameters).process(data, SAMPLING_RATE_HZ)
        best = min(best, time.perf_counter() - start)
    return best


def envelope_error_percent(data: pd.DataFrame) -> dict[str, float]:
    """Reduced-rate envelope (default) minus the full-rate one at the block times, in % of each channel's peak."""
    part = data.iloc[: round(60 * SAMPLING_RATE_HZ)]
    reduced = EmgProcessing().process(part, SAMPLING_RATE_HZ).envelope_
    exact = EmgProcessing(**FULL_RATE).process(part, SAMPLING_RATE_HZ).envelope_
    reference = np.column_stack([np.interp(reduced.index, exact.index, exact[name]) for name in exact])
    # Away from the first and last 0.5 s: there the start-up transient of sosfiltfilt on a rectified signal (its
    # odd extension mirrors one noisy sample) differs at the two rates and dominates either envelope.
    inner = (reduced.index >= part.index[0] + 0.5) & (reduced.index <= part.index[-1] - 0.5)
    error = 100 * np.abs(reduced.to_numpy() - reference)[inner] / np.abs(reference[inner]).max(axis=0)
    return {"max": float(error.max()), "mean": float(error.mean())}


def kinematic_hour(duration_s: float, seed: int = 1) -> pd.DataFrame:
    """22 smooth gait-like channels (IMU, angles) at 200 Hz: 1.1 s strides plus low-pass noise."""
    rng = np.random.default_rng(seed)
    n = round(duration_s * KINEMATIC_RATE_HZ)
    time_s = np.arange(n) / KINEMATIC_RATE_HZ
    sos = signal.butter(2, 15.0, fs=KINEMATIC_RATE_HZ, output="sos")
    values = np.sin(2 * np.pi * time_s[:, None] / 1.1 + np.arange(22)) + signal.sosfilt(
        sos, rng.standard_normal((n, 22)), axis=0
    )
    names = [
        f"{side}_{segment}_{quantity}_{axis}"
        for side in ("left", "right")
        for segment in ("foot", "shank")
        for quantity in ("acc", "gyr")
        for axis in "xyz"
    ][:20]
    names += ["left_hip_angle_x", "right_hip_angle_x"]
    return pd.DataFrame(values, index=pd.Index(time_s, name="time_s"), columns=names)


def time_quality(emg: pd.DataFrame, kinematics: pd.DataFrame, repeats: int) -> float:
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        SignalQualityAssessment().assess(emg, SAMPLING_RATE_HZ)
        SignalQualityAssessment().assess(kinematics, KINEMATIC_RATE_HZ)
        best = min(best, time.perf_counter() - start)
    return best


def neurokit_ratio(data: pd.DataFrame, seconds: float) -> dict[str, float] | None:
    """Seconds for neurokit2's ``emg_process`` (one channel at a time) vs ours, on the first ``seconds``."""
    try:
        import neurokit2 as nk  # optional, not a dependency
    except ImportError:
        return None
    part = data.iloc[: round(seconds * SAMPLING_RATE_HZ)]
    start = time.perf_counter()
    for column in part.columns:
        nk.emg_process(part[column].to_numpy(), sampling_rate=int(SAMPLING_RATE_HZ))
    theirs = time.perf_counter() - start
    ours = time_pipeline(part, causal=False, repeats=3)
    return {"neurokit2_s": theirs, "exohub_s": ours, "speedup": theirs / ours}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the synthetic recording")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    parser.add_argument("--synthetic", action="store_true", help="synthesise EMG even when the real data exists")
    args = parser.parse_args()

    duration_s = args.minutes * 60
    values = None if args.synthetic else real_emg(duration_s)
    source = "gaitalytics treadmill EMG, tiled" if values is not None else "synthetic gait EMG"
    data = as_frame(values if values is not None else synthetic_emg(duration_s))
    hours = duration_s / 3600
    zero_phase_s = time_pipeline(data, causal=False, repeats=args.repeats)
    causal_s = time_pipeline(data, causal=True, repeats=args.repeats)
    full_rate_s = time_pipeline(data, causal=False, repeats=args.repeats, **FULL_RATE)
    quality_s = time_quality(data, kinematic_hour(duration_s), repeats=args.repeats)
    result = {
        "source": source,
        "channels": N_CHANNELS,
        "sampling_rate_hz": SAMPLING_RATE_HZ,
        "duration_s": duration_s,
        "zero_phase_s": zero_phase_s,
        "causal_s": causal_s,
        "zero_phase_s_per_hour": zero_phase_s / hours,
        "causal_s_per_hour": causal_s / hours,
        "full_rate_s_per_hour": full_rate_s / hours,
        "envelope_error_percent_of_peak": envelope_error_percent(data),
        "target_s_per_hour": TARGET_S_PER_HOUR,
        "meets_target": zero_phase_s / hours <= TARGET_S_PER_HOUR,
        "quality_s_per_hour": quality_s / hours,
        "quality_target_s_per_hour": QUALITY_TARGET_S_PER_HOUR,
        "python": platform.python_version(),
        "machine": platform.processor() or platform.machine(),
        "neurokit2": neurokit_ratio(data, 60.0),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{source}: {N_CHANNELS} ch x {duration_s:g} s at {SAMPLING_RATE_HZ:g} Hz, 1 thread, best of {args.repeats}")
    print(f"  zero-phase: {zero_phase_s:.3f} s  ({zero_phase_s / hours:.3f} s per hour, target {TARGET_S_PER_HOUR} s)")
    print(f"  causal:     {causal_s:.3f} s  ({causal_s / hours:.3f} s per hour)")
    print(f"  full rate:  {full_rate_s:.3f} s  ({full_rate_s / hours:.3f} s per hour; envelope at the input rate)")
    error = result["envelope_error_percent_of_peak"]
    print(f"  200 Hz envelope vs full rate: max {error['max']:.3f} %, mean {error['mean']:.4f} % of the peak")
    print(
        f"  quality:    {quality_s:.3f} s  (EMG + 22 ch at {KINEMATIC_RATE_HZ:g} Hz, {quality_s / hours:.3f} s/h, "
        f"target {QUALITY_TARGET_S_PER_HOUR} s)"
    )
    nk = result["neurokit2"]
    if nk is None:
        print("  neurokit2 not installed: no comparison")
    else:
        print(f"  60 s slice: neurokit2 {nk['neurokit2_s']:.3f} s, exohub {nk['exohub_s']:.3f} s, {nk['speedup']:.1f}x")


if __name__ == "__main__":
    main()
