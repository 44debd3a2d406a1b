"""A tiny synthetic hip-exo data set (two subjects, files in the data set's 15-column layout) and a tiny model."""

from pathlib import Path

import numpy as np
import pytest

RATE_HZ = 200.0


def write_subject(folder: Path, *, cadence_hz: float, n_recordings: int = 2, seconds: float = 2.0) -> None:
    """Write ``labeled_CW_ZI_<k>.txt.gz`` files: sinusoidal hips half a cycle apart, level walking, phase labels."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(int(cadence_hz * 100))
    time_s = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    for k in range(1, n_recordings + 1):
        left = np.mod(cadence_hz * time_s + 0.1 * k, 1.0)
        right = np.mod(left + 0.5, 1.0)
        angle_l, angle_r = -0.5 * np.cos(2 * np.pi * left), -0.5 * np.cos(2 * np.pi * right)
        columns = [
            angle_l,
            angle_r,
            np.gradient(angle_l, 1 / RATE_HZ),
            np.gradient(angle_r, 1 / RATE_HZ),
            *(0.1 * rng.standard_normal((3, len(time_s)))),  # pelvis gyro
            *(9.81 * np.eye(3)[2][:, None] + 0.1 * rng.standard_normal((3, len(time_s)))),  # pelvis acc
            np.ones_like(time_s),  # mode code 1: level ground
            np.cos(2 * np.pi * left),
            np.sin(2 * np.pi * left),
            np.cos(2 * np.pi * right),
            np.sin(2 * np.pi * right),
        ]
        np.savetxt(folder / f"labeled_CW_ZI_{k}.txt.gz", np.column_stack(columns), fmt="%.6f")


@pytest.fixture(scope="session")
def tiny_hipexo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two subjects (different cadences), two 2-s recordings each."""
    root = tmp_path_factory.mktemp("hipexo")
    write_subject(root / "AB01", cadence_hz=0.9)
    write_subject(root / "AB02", cadence_hz=1.1)
    return root


@pytest.fixture
def tiny_config():
    """A model of a few hundred weights, one epoch."""
    training = pytest.importorskip("exohub.ml.training")
    return training.TrainConfig(window=16, epochs=1, batch_size=64, channels=4, recent=2, hidden=8, step=4, seed=3)
