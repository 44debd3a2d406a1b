"""Accuracy and speed of exohub.signals.kinematics on simulated walking with known joint angles.

Run with one thread for the speed figure::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/validate_joint_angles.py

Prints the RMSE (deg) of knee, hip and ankle angles over random sensor mountings (1 min, no bias), over 10 min with
a 1 deg/s gyroscope bias, with the gaitalytics motion-capture knee/hip curves as the truth when ../shared/data has
them, and the time to process 1 h of one knee at 200 Hz.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from exohub.signals.kinematics import JOINT_SEGMENTS, JointAngleEstimation, simulate_leg_imus

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "gaitalytics_c3d_emg"
STANDING = (0.5, 4.5)


def rmse_deg(imus: dict[str, pd.DataFrame], truth: pd.DataFrame, joint: str, rate_hz: float, **params) -> float:
    proximal, distal = JOINT_SEGMENTS[joint]
    estimate = JointAngleEstimation(**params).estimate(
        imus[proximal], imus[distal], sampling_rate_hz=rate_hz, joint=joint
    )
    walking = truth.index > STANDING[1] + 3.0
    error = estimate.angle_.to_numpy()[walking] - truth[joint].to_numpy()[walking]
    return float(np.degrees(np.sqrt(np.mean(error**2))))


def report(label: str, values: list[float]) -> None:
    print(f"{label:<58} mean {np.mean(values):5.2f}  max {np.max(values):5.2f}  (n={len(values)})")


def main() -> None:
    for joint in ("knee", "hip", "ankle"):
        runs = [simulate_leg_imus(duration_s=60.0, seed=seed) for seed in range(10)]
        report(
            f"{joint}, 1 min, random mountings, standing zero",
            [rmse_deg(*r, joint, 200.0, standing_window_s=STANDING) for r in runs],
        )
        report(f"{joint}, 1 min, random mountings, normative zero", [rmse_deg(*r, joint, 200.0) for r in runs])
    runs = [simulate_leg_imus(duration_s=600.0, gyr_bias_rad_s=np.radians(1.0), seed=seed) for seed in range(3)]
    report(
        "knee, 10 min, 1 deg/s gyro bias, standing zero",
        [rmse_deg(*r, "knee", 200.0, standing_window_s=STANDING) for r in runs],
    )
    if (DATA / "treadmill_events_angles_100Hz.csv").exists():
        angles = pd.read_csv(DATA / "treadmill_events_angles_100Hz.csv", index_col="time_s")
        for side in "LR":
            truth = pd.DataFrame(
                {
                    "hip": angles[f"{side}HipAngles_X"],
                    "knee": angles[f"{side}KneeAngles_X"],
                    "ankle": angles[f"{side}AnkleAngles_X"],
                }
            ).pipe(np.radians)
            runs = [simulate_leg_imus(duration_s=16.5, true_angles=truth, seed=seed) for seed in range(5)]
            for joint in ("knee", "hip", "ankle"):
                report(
                    f"{joint}, gaitalytics {side} curves, standing zero",
                    [rmse_deg(*r, joint, 200.0, standing_window_s=STANDING) for r in runs],
                )
    imus, _ = simulate_leg_imus(duration_s=300.0, seed=0)
    hour = {
        name: pd.DataFrame(
            np.tile(frame.to_numpy(), (12, 1)), columns=frame.columns, index=np.arange(12 * len(frame)) / 200.0
        )
        for name, frame in imus.items()
    }
    estimator = JointAngleEstimation()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        estimator.estimate(hour["thigh"], hour["shank"], sampling_rate_hz=200.0, joint="knee")
        times.append(time.perf_counter() - start)
    print(f"1 h of one knee at 200 Hz ({len(hour['thigh'])} samples, 2 IMUs): best of 3 {min(times):.2f} s")


if __name__ == "__main__":
    main()
