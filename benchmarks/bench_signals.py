"""Signals benchmark: the whole gait analysis of a 1-hour bilateral session on one core, beside gaitmap and neurokit2.

What it measures
    The session (``_session.py``): hip encoders, pelvis and foot IMUs at 200 Hz and 8 EMG at 2 kHz, one hour, built
    from the real recordings in ``../shared/data``. Each stage is timed on one core (BLAS/OpenMP threads pinned to 1,
    the process pinned to one CPU when the OS allows), best of ``--repeats``:

    * ``quality``: signal-quality flags of every channel;
    * ``emg``: the EMG pipeline (band-pass, envelope, onsets, median frequency) on the 8 channels;
    * ``events``: initial and final contacts of both feet (foot IMUs, the most trusted source present);
    * ``phase_offline`` and ``phase_causal``: continuous phase of both legs;
    * ``report``: strides, bouts, spatio-temporal parameters, symmetry, ROM, EMG per gait cycle;
    * ``end_to_end``: what ``exohub gait report`` plus ``exohub gait phase`` (offline and causal) compute, in one go,
      from the in-memory recording. The goal is 2 s.
    * ``store_write`` / ``store_read``: the session to and from Parquet (reported apart: disk, not analysis).

Side by side (with ``--reference-python``, which ``make bench-signals`` sets up)
    gaitmap's standard event pipeline (BarthDtw + RamppEventDetection) on the same hour of foot IMU data, and
    neurokit2's ``emg_process`` on the same EMG (a ``--neurokit-s`` slice: it takes one channel at a time and is slow),
    each timed in its own process by ``_reference_tools.py``. Accuracy beside speed: events against motion capture on
    gaitmap's example walk; EMG onsets against known burst onsets in synthetic EMG.

Run ``make bench-signals`` (or ``python benchmarks/bench_signals.py --help``).
"""

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from _session import DATA, build_session  # noqa: E402
from validate_imu_events import score_gaitmap, validate  # noqa: E402

from exohub.signals import Recording, read_recording, write_recording  # noqa: E402
from exohub.signals.emg import EmgProcessing  # noqa: E402
from exohub.signals.events import ImuEventDetection  # noqa: E402
from exohub.signals.gait import analyse_gait, detect_gait_events, estimate_gait_phase  # noqa: E402
from exohub.signals.metrics import compute_gait_report  # noqa: E402
from exohub.signals.quality import SignalQualityAssessment  # noqa: E402

GOAL_S = 2.0
RATIO_GOAL = 5.0
RESULTS = Path(__file__).resolve().parent / "results" / "bench_signals.json"
AXES6 = ("acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")


def best_of(repeats: int, action: Callable[[], object]) -> float:
    """The shortest wall time of ``repeats`` runs (the least disturbed by other processes)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def _emg_stream(recording: Recording) -> pd.DataFrame:
    return recording.streams[recording.stream_index(recording.pick(quantity="emg")[0])]


def _quality(recording: Recording) -> None:
    for stream in recording.streams:
        SignalQualityAssessment().assess(stream, sampling_rate_hz=recording.sampling_rate_hz(stream.columns[0]))


def _end_to_end(recording: Recording) -> None:
    analysis = analyse_gait(recording)
    estimate_gait_phase(recording, gait_events=analysis.gait_events)
    estimate_gait_phase(recording, gait_events=analysis.gait_events, causal=True)


def time_stages(recording: Recording, repeats: int, store: Path) -> dict[str, float]:
    """Seconds per stage (best of ``repeats``)."""
    emg = _emg_stream(recording)
    emg_rate_hz = recording.sampling_rate_hz(emg.columns[0])
    gait_events = detect_gait_events(recording)
    envelope = EmgProcessing().process(emg, sampling_rate_hz=emg_rate_hz).envelope_
    return {
        "quality": best_of(repeats, lambda: _quality(recording)),
        "emg": best_of(repeats, lambda: EmgProcessing().process(emg, sampling_rate_hz=emg_rate_hz)),
        "events": best_of(repeats, lambda: detect_gait_events(recording)),
        "phase_offline": best_of(repeats, lambda: estimate_gait_phase(recording, gait_events=gait_events)),
        "phase_causal": best_of(repeats, lambda: estimate_gait_phase(recording, gait_events=gait_events, causal=True)),
        "report": best_of(repeats, lambda: compute_gait_report(recording, gait_events.events, emg_envelope=envelope)),
        "end_to_end": best_of(repeats, lambda: _end_to_end(recording)),
        "store_write": best_of(1, lambda: write_recording(recording, store)),
        "store_read": best_of(1, lambda: read_recording(store)),
    }


def _run_reference(python: str, task: str, arrays: dict[str, np.ndarray], folder: Path) -> dict:
    source = folder / f"{task}.npz"
    np.savez(source, **arrays)
    script = Path(__file__).resolve().parent / "_reference_tools.py"
    done = subprocess.run([python, str(script), task, str(source)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{task} reference failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _foot_arrays(recording: Recording) -> dict[str, np.ndarray]:
    frame = recording.to_frame() if len(recording.streams) == 1 else recording.streams[0]
    arrays = {side: frame[[f"{side}_foot_{name}" for name in AXES6]].to_numpy() for side in ("left", "right")}
    return arrays | {"sampling_rate_hz": np.array(recording.sampling_rate_hz("left_foot_acc_x"))}


def compare_gaitmap(python: str, recording: Recording, repeats: int, folder: Path) -> dict:
    """gaitmap vs exohub: time on the session's hour of foot IMU data, accuracy on the motion-capture walk."""
    arrays = _foot_arrays(recording)
    rate_hz = float(arrays["sampling_rate_hz"])
    frames = {
        side: pd.DataFrame(arrays[side], columns=list(AXES6), index=pd.Index(np.arange(len(arrays[side])) / rate_hz))
        for side in ("left", "right")
    }
    ours_s = best_of(
        repeats,
        lambda: [ImuEventDetection("foot").detect(frame, sampling_rate_hz=rate_hz) for frame in frames.values()],
    )
    theirs = _run_reference(python, "gaitmap", arrays, folder)
    walk = DATA / "gaitmap_example" / "imu_sample.csv"
    script = Path(__file__).resolve().parent / "_reference_tools.py"
    done = subprocess.run([python, str(script), "gaitmap", str(walk)], capture_output=True, text=True, check=True)
    (folder / "gaitmap_walk.json").write_text(done.stdout)
    return {
        "exohub_s": ours_s,
        "gaitmap_s": theirs["elapsed_s"],
        "speed_ratio": theirs["elapsed_s"] / ours_s,
        "accuracy": {"exohub": validate(rotations=5)["events"], "gaitmap": score_gaitmap(folder / "gaitmap_walk.json")},
    }


def emg_bursts(duration_s: float, rate_hz: float, n_channels: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic EMG: background noise, and per channel bursts 10x stronger at known onsets (s), ~1 per second."""
    rng = np.random.default_rng(seed)
    n = int(duration_s * rate_hz)
    onsets = np.sort(rng.uniform(1.0, duration_s - 1.0, size=(n_channels, int(duration_s) // 2)), axis=1)
    onsets = onsets[:, np.r_[True, np.diff(onsets[0]) > 0.8]] if onsets.shape[1] > 1 else onsets
    emg = rng.normal(0.0, 5e-6, size=(n, n_channels))
    time_s = np.arange(n) / rate_hz
    for channel in range(n_channels):
        for onset in onsets[channel]:
            burst = (time_s >= onset) & (time_s < onset + 0.3)
            emg[burst, channel] *= 10.0
    return emg, onsets


def _onset_errors_ms(found: list[list[float]], truth: np.ndarray, tolerance_s: float = 0.1) -> dict:
    errors, hits, n_found = [], 0, 0
    for channel, times in enumerate(found):
        times = np.asarray(times)
        n_found += times.size
        for onset in truth[channel]:
            if times.size and np.abs(times - onset).min() <= tolerance_s:
                hits += 1
                errors.append(times[np.abs(times - onset).argmin()] - onset)
    n_true = truth.size
    error_ms = 1000 * np.asarray(errors)
    return {
        "f1": round(2 * hits / (n_true + n_found), 3) if n_true + n_found else float("nan"),
        "bias_ms": round(float(error_ms.mean()), 1) if hits else float("nan"),
        "mae_ms": round(float(np.abs(error_ms).mean()), 1) if hits else float("nan"),
    }


def compare_neurokit(python: str, recording: Recording, seconds: float, repeats: int, folder: Path) -> dict:
    """neurokit2 vs exohub: time on the same EMG slice, onset accuracy on synthetic bursts."""
    emg = _emg_stream(recording)
    rate_hz = recording.sampling_rate_hz(emg.columns[0])
    part = emg.iloc[: int(seconds * rate_hz)]
    ours_s = best_of(repeats, lambda: EmgProcessing().process(part, sampling_rate_hz=rate_hz))
    theirs = _run_reference(python, "neurokit", {"emg": part.to_numpy(), "sampling_rate_hz": np.array(rate_hz)}, folder)
    bursts, truth = emg_bursts(60.0, rate_hz, part.shape[1])
    frame = pd.DataFrame(bursts, columns=part.columns, index=pd.Index(np.arange(len(bursts)) / rate_hz, name="time_s"))
    onsets = EmgProcessing().process(frame, sampling_rate_hz=rate_hz).onsets_
    ours_found = [onsets.loc[onsets["channel"] == name, "onset_s"].tolist() for name in part.columns]
    their_found = _run_reference(python, "neurokit", {"emg": bursts, "sampling_rate_hz": np.array(rate_hz)}, folder)
    return {
        "slice_s": seconds,
        "channels": part.shape[1],
        "exohub_s": ours_s,
        "neurokit2_s": theirs["elapsed_s"],
        "speed_ratio": theirs["elapsed_s"] / ours_s,
        "onsets": {
            "exohub": _onset_errors_ms(ours_found, truth),
            "neurokit2": _onset_errors_ms(their_found["onsets_s"], truth),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=float, default=3600.0, help="Length of the session.")
    parser.add_argument("--repeats", type=int, default=3, help="Runs per stage; the best counts.")
    parser.add_argument("--reference-python", help="Python of an environment with gaitmap and neurokit2.")
    parser.add_argument("--neurokit-s", type=float, default=60.0, help="EMG seconds given to neurokit2.")
    parser.add_argument("--json", action="store_true", help="Print JSON only.")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    recording = build_session(args.duration_s)
    with tempfile.TemporaryDirectory() as folder:
        result: dict = {
            "session": repr(recording),
            "stages_s": time_stages(recording, args.repeats, Path(folder) / "session.parquet"),
            "goal_s": GOAL_S,
        }
        if args.reference_python:
            result["gaitmap"] = compare_gaitmap(args.reference_python, recording, args.repeats, Path(folder))
            result["neurokit2"] = compare_neurokit(
                args.reference_python, recording, args.neurokit_s, args.repeats, Path(folder)
            )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


def _table(result: dict) -> str:
    stages = result["stages_s"]
    lines = [result["session"], "", f"{'stage':<16}{'seconds':>10}"]
    lines += [f"{name:<16}{seconds:>10.3f}" for name, seconds in stages.items()]
    verdict = "PASS" if stages["end_to_end"] <= GOAL_S else "MISS"
    lines.append(f"\nend to end {stages['end_to_end']:.2f} s against the {GOAL_S:g} s goal: {verdict}")
    for tool, ours, theirs in (("gaitmap", "exohub_s", "gaitmap_s"), ("neurokit2", "exohub_s", "neurokit2_s")):
        if tool in result:
            row = result[tool]
            verdict = "PASS" if row["speed_ratio"] >= RATIO_GOAL else "MISS"
            lines.append(
                f"{tool}: {row[theirs]:.2f} s vs exohub {row[ours]:.3f} s = {row['speed_ratio']:.0f}x ({verdict} "
                f"against {RATIO_GOAL:g}x); accuracy {json.dumps(row.get('accuracy', row.get('onsets')))}"
            )
    lines.append(f"\nSaved to {RESULTS}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
