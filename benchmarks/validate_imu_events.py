"""Validate ImuEventDetection against motion capture (gaitmap example walk), under random rotations, and time it.

Run from the project root::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/validate_imu_events.py [--json]

Matching: a detected event and a reference event of the same foot and type match when each is the other's nearest
and they are at most ``TOLERANCE_S`` apart. Detections outside the reference's time span (± the tolerance) are not
counted, since motion capture only covers part of the walk. Error = detected - reference (positive: late).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial.transform import Rotation

from exohub.signals.datasets import load_gaitmap_imu
from exohub.signals.events import ImuEventDetection

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gaitmap_example"
TOLERANCE_S = 0.05
N_ROTATIONS = 20
BENCH_DURATION_S = 3600.0
BENCH_RATE_HZ = 200.0
AXES = ("x", "y", "z")


def foot_frame(recording_frame: pd.DataFrame, side: str, rotation: np.ndarray | None = None) -> pd.DataFrame:
    """One foot's six columns renamed to ``acc_x..gyr_z``, optionally rotated (same rotation for acc and gyr)."""
    acc = recording_frame[[f"{side}_foot_acc_{a}" for a in AXES]].to_numpy()
    gyr = recording_frame[[f"{side}_foot_gyr_{a}" for a in AXES]].to_numpy()
    if rotation is not None:
        acc, gyr = acc @ rotation.T, gyr @ rotation.T
    columns = [f"acc_{a}" for a in AXES] + [f"gyr_{a}" for a in AXES]
    return pd.DataFrame(np.hstack([acc, gyr]), index=recording_frame.index, columns=columns)


def _nearest(candidates: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Index of the nearest element of sorted ``candidates`` to each target."""
    right = np.clip(np.searchsorted(candidates, targets), 1, candidates.size - 1) if candidates.size > 1 else None
    if right is None:
        return np.zeros(targets.size, dtype=int)
    left = right - 1
    return np.where(np.abs(candidates[left] - targets) <= np.abs(candidates[right] - targets), left, right)


def validate(rotations: int = N_ROTATIONS, seed: int = 0) -> dict:
    """Accuracy on the real walk, then the same with ``rotations`` random 3-D rotations of each sensor."""
    recording = load_gaitmap_imu(DATA / "imu_sample.csv")
    frame = recording.to_frame()
    rate_hz = recording.sampling_rate_hz(frame.columns[0])
    reference = recording.events
    result: dict = {"tolerance_ms": TOLERANCE_S * 1000, "sampling_rate_hz": rate_hz}
    detected = {
        side: ImuEventDetection("foot").detect(foot_frame(frame, side), sampling_rate_hz=rate_hz).events_
        for side in ("left", "right")
    }
    result["events"] = _score(detected, reference)
    rng = np.random.default_rng(seed)
    max_shift_ms, counts_equal = 0.0, True
    for _ in range(rotations):
        for side in ("left", "right"):
            rotation = Rotation.random(random_state=rng).as_matrix()
            rotated = ImuEventDetection("foot").detect(foot_frame(frame, side, rotation), sampling_rate_hz=rate_hz)
            base = detected[side]
            if len(rotated.events_) != len(base) or not (rotated.events_["event"].to_numpy() == base["event"]).all():
                counts_equal = False
                continue
            shift = np.abs(rotated.events_["time_s"].to_numpy() - base["time_s"].to_numpy()).max(initial=0) * 1000
            max_shift_ms = max(max_shift_ms, float(shift))
    result["rotations"] = {"n": rotations, "same_events": counts_equal, "max_time_shift_ms": round(max_shift_ms, 6)}
    return result


def score_gaitmap(path: Path) -> dict:
    """Score gaitmap's events (``_reference_tools.py gaitmap`` JSON) against the same motion-capture reference."""
    found = json.loads(path.read_text())["events"]
    detected = {
        side: pd.DataFrame([(event, t) for event, times in kinds.items() for t in times], columns=["event", "time_s"])
        for side, kinds in found.items()
    }
    return score_detected(detected)


def score_detected(detected: dict[str, pd.DataFrame]) -> dict:
    """Score events per side (``event``, ``time_s``) against the motion capture of gaitmap's example walk."""
    return _score(detected, load_gaitmap_imu(DATA / "imu_sample.csv").events)


def _score(detected: dict[str, pd.DataFrame], reference: pd.DataFrame) -> dict:
    scores = {}
    for event, short in (("initial_contact", "ic"), ("final_contact", "fc")):
        per_side = []
        for side, events in detected.items():
            ref = reference.loc[(reference["side"] == side) & (reference["event"] == event), "time_s"].to_numpy()
            det = events.loc[events["event"] == event, "time_s"].to_numpy()
            per_side.append((det, ref))
        scores[short] = _pooled(per_side)
    return scores


def _pooled(per_side: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Match per side, pool the errors of both feet."""
    errors, tp, n_ref, n_det = [], 0, 0, 0
    for det, ref in per_side:
        lo, hi = ref.min() - TOLERANCE_S, ref.max() + TOLERANCE_S
        det = np.sort(det[(det >= lo) & (det <= hi)])
        ref = np.sort(ref)
        n_ref, n_det = n_ref + ref.size, n_det + det.size
        if det.size == 0:
            continue
        nearest_det, nearest_ref = _nearest(det, ref), _nearest(ref, det)
        error_s = det[nearest_det] - ref
        hit = (nearest_ref[nearest_det] == np.arange(ref.size)) & (np.abs(error_s) <= TOLERANCE_S)
        tp += int(hit.sum())
        errors.append(error_s[hit] * 1000)
    err_ms = np.concatenate(errors) if errors else np.array([])
    return {
        "n_reference": n_ref,
        "n_detected": n_det,
        "tp": tp,
        "f1": round(2 * tp / (n_ref + n_det), 4) if n_ref + n_det else float("nan"),
        "bias_ms": round(float(err_ms.mean()), 2) if tp else float("nan"),
        "sd_ms": round(float(err_ms.std(ddof=1)), 2) if tp > 1 else float("nan"),
        "mae_ms": round(float(np.abs(err_ms).mean()), 2) if tp else float("nan"),
    }


def bench(repeats: int = 3) -> dict:
    """Seconds to detect both feet's events in 1 h of 200 Hz foot IMU data (the real walk, resampled and tiled)."""
    from scipy import signal

    recording = load_gaitmap_imu(DATA / "imu_sample.csv")
    frame = recording.to_frame()
    recording.sampling_rate_hz(frame.columns[0])
    n_target = int(BENCH_DURATION_S * BENCH_RATE_HZ)
    frames = {}
    for side in ("left", "right"):
        values = signal.resample_poly(foot_frame(frame, side).to_numpy(), 125, 128, axis=0)  # 204.8 -> 200 Hz
        tiled = np.tile(values, (n_target // len(values) + 1, 1))[:n_target]
        index = pd.Index(np.arange(n_target) / BENCH_RATE_HZ, name="time_s")
        frames[side] = pd.DataFrame(tiled, index=index, columns=foot_frame(frame, side).columns)
    timings, n_events = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        n_events = sum(
            len(ImuEventDetection("foot").detect(f, sampling_rate_hz=BENCH_RATE_HZ).events_) for f in frames.values()
        )
        timings.append(time.perf_counter() - start)
    return {
        "duration_s": BENCH_DURATION_S,
        "sampling_rate_hz": BENCH_RATE_HZ,
        "feet": 2,
        "best_s": round(min(timings), 4),
        "median_s": round(float(np.median(timings)), 4),
        "n_events": n_events,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rotations", type=int, default=N_ROTATIONS)
    parser.add_argument("--gaitmap", type=Path, help="JSON from _reference_tools.py gaitmap imu_sample.csv")
    args = parser.parse_args()
    result = {"validation": validate(args.rotations), "speed": bench()}
    if args.gaitmap:
        result["gaitmap_rampp"] = score_gaitmap(args.gaitmap)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    val = result["validation"]
    print(f"gaitmap imu_sample.csv vs motion capture, tolerance {val['tolerance_ms']:.0f} ms, both feet pooled")
    for name, s in val["events"].items():
        print(
            f"  {name.upper()}: F1 {s['f1']:.3f} ({s['tp']}/{s['n_reference']} ref, {s['n_detected']} det)  "
            f"bias {s['bias_ms']:+.1f} ms  SD {s['sd_ms']:.1f} ms  MAE {s['mae_ms']:.1f} ms"
        )
    rot = val["rotations"]
    print(
        f"  {rot['n']} random rotations per foot: same events {rot['same_events']}, "
        f"max time shift {rot['max_time_shift_ms']:.3g} ms"
    )
    if "gaitmap_rampp" in result:
        print("gaitmap BarthDtw + RamppEventDetection (its own sensor frame), same matching:")
        for name, s in result["gaitmap_rampp"].items():
            print(
                f"  {name.upper()}: F1 {s['f1']:.3f} ({s['tp']}/{s['n_reference']} ref, {s['n_detected']} det)  "
                f"bias {s['bias_ms']:+.1f} ms  SD {s['sd_ms']:.1f} ms  MAE {s['mae_ms']:.1f} ms"
            )
    sp = result["speed"]
    print(
        f"speed: 1 h bilateral foot IMU at 200 Hz: best {sp['best_s']:.3f} s, median {sp['median_s']:.3f} s "
        f"({sp['n_events']} events)"
    )


if __name__ == "__main__":
    main()
