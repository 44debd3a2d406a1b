"""Loading the hip-exo layout into arrays and cutting causal windows: known answers on a synthetic data set."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from exohub.exceptions import ValidationError
from exohub.ml.data import (
    INPUT_CHANNELS,
    MODES,
    UNKNOWN_MODE,
    SubjectData,
    load_hipexo_subjects,
    make_windows,
    mirror_channels,
    phase_from_targets,
    phase_targets,
)
from exohub.signals.datasets import HIPEXO_MODES

HIPEXO_DIR = Path(__file__).parents[2].parent / "shared" / "data" / "hipexo_gait_phase"
RATE_HZ = 200.0
#: per mode code: hip angle amplitude (rad), pelvis gyro-z amplitude (rad/s), vertical acceleration offset (m/s²)
_MODE_SHAPE = {
    1: (0.40, 0.5, 0.0),
    2: (0.50, 0.8, 0.6),
    3: (0.35, 0.3, -0.6),
    4: (0.70, 1.2, 1.2),
    5: (0.30, 0.2, -1.2),
}


def synthetic_recording(modes: list[int], *, seconds_per_mode: float, stride_hz: float, seed: int) -> np.ndarray:
    """Rows in the layout of ``labeled_*.txt.gz``: 10 channels (file order, hip extension-positive), mode code,
    left cos/sin, right cos/sin of 2π·phase, phase 0 at maximum hip extension, right leg half a cycle later."""
    rng = np.random.default_rng(seed)
    n_per_mode = round(seconds_per_mode * RATE_HZ)
    code = np.repeat(modes, n_per_mode)
    time_s = np.arange(code.size) / RATE_HZ
    left = np.mod(stride_hz * time_s, 1.0)
    right = np.mod(left + 0.5, 1.0)
    amplitude, gyro, lift = (np.array([_MODE_SHAPE[max(c, 1)][k] for c in code]) for k in range(3))
    omega = 2 * np.pi * stride_hz
    columns = [
        amplitude * np.cos(2 * np.pi * left),  # left angle, extension positive: maximum at phase 0
        amplitude * np.cos(2 * np.pi * right),
        -amplitude * omega * np.sin(2 * np.pi * left),
        -amplitude * omega * np.sin(2 * np.pi * right),
        0.2 * np.sin(4 * np.pi * left),  # gyr x, y, z
        0.1 * np.cos(2 * np.pi * left),
        gyro * np.sin(2 * np.pi * left),
        0.5 * np.sin(4 * np.pi * left),  # acc x, y, z
        0.3 * np.cos(2 * np.pi * left),
        -9.81 + lift + np.cos(4 * np.pi * left),
    ]
    values = np.stack(columns, axis=1) + 0.01 * rng.standard_normal((code.size, 10))
    angles = np.stack([np.cos(2 * np.pi * left), np.sin(2 * np.pi * left), np.cos(2 * np.pi * right)], axis=1)
    return np.column_stack([values, code, angles, np.sin(2 * np.pi * right)])


def write_synthetic_hipexo(
    root: Path, *, subjects: tuple[str, ...] = ("AB01", "AB02", "AB03"), seconds_per_mode: float = 4.0
) -> Path:
    """Write a small data set in the hip-exo layout: per subject a CW file (level, stair ascent, level) and a CCW
    file (unlabelled start, level, ramp ascent); stride frequency differs between subjects."""
    for number, subject in enumerate(subjects):
        folder = root / subject
        folder.mkdir(parents=True)
        stride_hz = 0.9 + 0.08 * number
        for name, modes in (("labeled_CW_ZI_1", [1, 4, 1]), ("labeled_chopped_CCW_BT_1", [0, 1, 2])):
            rows = synthetic_recording(modes, seconds_per_mode=seconds_per_mode, stride_hz=stride_hz, seed=number)
            with gzip.open(folder / f"{name}.txt.gz", "wt") as handle:
                np.savetxt(handle, rows, fmt="%.8e")
    return root


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_hipexo(tmp_path_factory.mktemp("hipexo"))


def test_modes_follow_the_data_set_codes() -> None:
    assert tuple(HIPEXO_MODES[code] for code in (1, 2, 3, 4, 5)) == MODES
    assert MODES[0] == "level_ground" and MODES[3] == "stair_ascent"


def test_load_maps_channels_modes_and_phase(synthetic_dir: Path) -> None:
    data = load_hipexo_subjects(synthetic_dir)
    assert list(data) == ["AB01", "AB02", "AB03"]
    subject = data["AB02"]
    assert subject.subject == "AB02" and len(subject.inputs) == 2 and subject.n_samples == 2 * 3 * 800
    cw = next(i for i, mode in enumerate(subject.mode) if mode[0] == 0)
    assert subject.inputs[cw].dtype == np.float32 and subject.inputs[cw].shape == (2400, len(INPUT_CHANNELS))
    np.testing.assert_array_equal(subject.mode[cw], np.repeat([0, 3, 0], 800))  # level, stair ascent, level
    ccw = 1 - cw
    np.testing.assert_array_equal(subject.mode[ccw], np.repeat([UNKNOWN_MODE, 0, 1], 800))
    # flexion positive: the angle is minimal (maximum extension) where the labelled phase is 0
    phase = subject.phase[cw]
    at_zero = np.flatnonzero(phase[:, 0] < 0.004)
    assert np.all(subject.inputs[cw][at_zero, INPUT_CHANNELS.index("left_hip_angle")] < -0.35)
    # the IMU channels come in the model's order (acc before gyr, unlike the file)
    acc_z = subject.inputs[cw][:, INPUT_CHANNELS.index("pelvis_acc_z")]
    assert -11.5 < acc_z.mean() < -8.0


def test_load_selects_subjects_and_files(synthetic_dir: Path) -> None:
    data = load_hipexo_subjects(synthetic_dir, subjects=["AB03"], max_files_per_subject=1)
    assert list(data) == ["AB03"] and len(data["AB03"].inputs) == 1


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"subjects": ["AB09"]}, "AB09"), ({"max_files_per_subject": 0}, "max_files_per_subject")]
)
def test_load_rejects_bad_selection(synthetic_dir: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        load_hipexo_subjects(synthetic_dir, **kwargs)


def test_load_rejects_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        load_hipexo_subjects(tmp_path / "nowhere")
    with pytest.raises(ValidationError, match="no subject folder"):
        load_hipexo_subjects(tmp_path)


def _toy_subject() -> SubjectData:
    inputs = [np.arange(30, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32), np.zeros((5, 3), np.float32)]
    phase = [np.column_stack([np.linspace(0, 0.99, 30), np.full(30, 0.25)]), np.zeros((5, 2))]
    mode = [np.arange(30) % 5, np.zeros(5, dtype=np.int64)]
    return SubjectData("S", inputs, phase, mode)


def test_windows_end_on_their_label_and_stay_inside_a_recording() -> None:
    x, y, m = make_windows(_toy_subject(), window=10, step=4)  # the 5-sample recording is too short
    ends = np.arange(9, 30, 4)
    assert x.shape == (len(ends), 10, 3) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, -1, 0], ends)
    np.testing.assert_array_equal(x[:, 0, 0], ends - 9)
    np.testing.assert_array_equal(m, ends % 5)
    np.testing.assert_allclose(y[:, 2:], np.tile([0.0, 1.0], (len(ends), 1)), atol=1e-7)  # right phase 0.25
    np.testing.assert_allclose(phase_from_targets(y)[:, 0], np.linspace(0, 0.99, 30)[ends], atol=1e-6)


def test_windows_of_several_subjects_concatenate() -> None:
    x, _, _ = make_windows([_toy_subject(), _toy_subject()], window=30)
    assert x.shape == (2, 30, 3)


def test_windows_need_one_full_recording() -> None:
    with pytest.raises(ValidationError, match="31 samples"):
        make_windows(_toy_subject(), window=31)
    with pytest.raises(ValidationError, match="step"):
        make_windows(_toy_subject(), window=3, step=0)


def test_mirror_swaps_sides_and_flips_the_lateral_axes() -> None:
    index, sign = mirror_channels()
    names = [INPUT_CHANNELS[i] for i in index]
    assert names[INPUT_CHANNELS.index("left_hip_angle")] == "right_hip_angle"
    assert names[INPUT_CHANNELS.index("right_hip_velocity")] == "left_hip_velocity"
    assert names[INPUT_CHANNELS.index("pelvis_acc_y")] == "pelvis_acc_y"
    flipped = {name for name, s in zip(INPUT_CHANNELS, sign, strict=True) if s < 0}
    assert flipped == {"pelvis_acc_z", "pelvis_gyr_x", "pelvis_gyr_y"}
    x = np.random.default_rng(0).normal(size=(7, len(INPUT_CHANNELS))).astype(np.float32)
    np.testing.assert_array_equal((x[:, index] * sign)[:, index] * sign, x)  # mirroring twice is the identity


def test_mirror_rejects_a_side_without_its_twin() -> None:
    with pytest.raises(ValidationError, match="'right_knee_angle' twin"):
        mirror_channels(["left_knee_angle", "pelvis_acc_x"])


@pytest.mark.skipif(not HIPEXO_DIR.is_dir(), reason=f"the hip-exo data set is not at {HIPEXO_DIR}")
def test_mirrored_clockwise_circuit_looks_counter_clockwise() -> None:
    """The lateral axes are the ones whose mean turns with the circuit's direction (walking around a turn)."""
    subject = load_hipexo_subjects(HIPEXO_DIR, subjects=["AB01"], max_files_per_subject=6)["AB01"]
    ccw, cw = subject.inputs[0], subject.inputs[5]  # labeled_CCW_ZI_1, labeled_CW_ZI_1
    index, sign = mirror_channels()
    lateral = [INPUT_CHANNELS.index(name) for name in ("pelvis_acc_z", "pelvis_gyr_y")]
    assert np.all(np.sign(cw[:, lateral].mean(axis=0)) != np.sign(ccw[:, lateral].mean(axis=0)))
    mirrored = cw[:, index] * sign
    assert np.all(np.sign(mirrored[:, lateral].mean(axis=0)) == np.sign(ccw[:, lateral].mean(axis=0)))


def test_phase_targets_round_trip() -> None:
    phase = np.random.default_rng(1).random((200, 2))
    targets = phase_targets(phase)
    np.testing.assert_allclose(np.hypot(targets[:, 0], targets[:, 1]), 1.0, atol=1e-6)
    error = np.mod(phase_from_targets(targets) - phase + 0.5, 1.0) - 0.5
    assert np.abs(error).max() < 1e-6


@pytest.mark.skipif(not HIPEXO_DIR.is_dir(), reason=f"the hip-exo data set is not at {HIPEXO_DIR}")
def test_real_subject_loads_with_plausible_channels() -> None:
    subject = load_hipexo_subjects(HIPEXO_DIR, subjects=["AB01"], max_files_per_subject=2)["AB01"]
    inputs = np.concatenate(subject.inputs)
    angle = inputs[:, INPUT_CHANNELS.index("left_hip_angle")]
    assert np.degrees(angle.max()) > 40 and np.degrees(angle.min()) > -40  # flexion positive
    mode = np.concatenate(subject.mode)
    assert set(np.unique(mode)) <= set(range(UNKNOWN_MODE, len(MODES)))
