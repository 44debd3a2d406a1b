"""Model inputs and targets: the hip-exoskeleton recordings as per-subject arrays, and causal windows over them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exohub.exceptions import ValidationError
from exohub.signals.datasets import HIPEXO_MODES, load_hipexo

#: The model's input channels, by their names in the CSV recording convention (hip encoders + pelvis IMU).
INPUT_CHANNELS: tuple[str, ...] = (
    "left_hip_angle",
    "right_hip_angle",
    "left_hip_velocity",
    "right_hip_velocity",
    "pelvis_acc_x",
    "pelvis_acc_y",
    "pelvis_acc_z",
    "pelvis_gyr_x",
    "pelvis_gyr_y",
    "pelvis_gyr_z",
)
#: Locomotion modes in the order of the data set's codes (code 1 is index 0).
MODES: tuple[str, ...] = tuple(HIPEXO_MODES[code] for code in sorted(HIPEXO_MODES))
SAMPLING_RATE_HZ = 200.0
#: Mode index of samples without a mode label; the mode loss and mode accuracy leave them out.
UNKNOWN_MODE = -1
#: Pelvis IMU channels whose sign flips when left and right are swapped (a mirror in the sagittal plane). On the
#: hip-exo data y is vertical (``pelvis_acc_y`` averages -9.9 m/s²), x forward and z lateral: ``pelvis_acc_z``
#: (centripetal) and ``pelvis_gyr_y`` (yaw) change the sign of their mean between clockwise and counter-clockwise
#: circuits, and ``pelvis_gyr_x`` (roll) correlates with the left hip angle at +0.21 and the right at -0.20.
LATERAL_CHANNELS: tuple[str, ...] = ("pelvis_acc_z", "pelvis_gyr_x", "pelvis_gyr_y")
#: Channels that are rates of change (scaled with the cadence by the time-warp augmentation).
RATE_CHANNELS: tuple[str, ...] = (
    "left_hip_velocity",
    "right_hip_velocity",
    "pelvis_gyr_x",
    "pelvis_gyr_y",
    "pelvis_gyr_z",
)


@dataclass
class SubjectData:
    """One subject's recordings as arrays, one entry per recording (never concatenated: windows stay inside one).

    Attributes
    ----------
    subject
        The subject's folder name, e.g. ``"AB01"``.
    inputs
        Per recording, ``(n, len(INPUT_CHANNELS))`` float32 in the order of :data:`INPUT_CHANNELS`.
    phase
        Per recording, ``(n, 2)`` left and right phase in [0, 1) in the labels' own definition (0 = maximum hip
        extension).
    mode
        Per recording, ``(n,)`` int64 index into :data:`MODES`, or :data:`UNKNOWN_MODE` where the data set gives
        no mode (its code 0, on the first walking strides of some assisted recordings; their phase is labelled).
    """

    subject: str
    inputs: list[np.ndarray]
    phase: list[np.ndarray]
    mode: list[np.ndarray]

    @property
    def n_samples(self) -> int:
        """Samples over all recordings."""
        return int(sum(len(values) for values in self.inputs))


def load_hipexo_subjects(
    data_dir: Path, *, subjects: Sequence[str] | None = None, max_files_per_subject: int | None = None
) -> dict[str, SubjectData]:
    """Load the hip-exoskeleton data set (one folder per subject holding ``labeled_*.txt.gz``) as arrays.

    Parameters
    ----------
    data_dir
        The folder holding ``AB01``, ``AB02``, ... (e.g. ``../shared/data/hipexo_gait_phase``).
    subjects
        Folder names to load; all folders with labelled files if None.
    max_files_per_subject
        Load only the first files of each subject in name order (for quick runs and tests).

    Returns
    -------
    dict of str to SubjectData
        Keyed by subject, in name order.
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValidationError(f"data directory {data_dir} does not exist.")
    folders = sorted(path for path in data_dir.iterdir() if path.is_dir() and any(path.glob("labeled_*.txt.gz")))
    if subjects is not None:
        missing = sorted(set(subjects) - {folder.name for folder in folders})
        if missing:
            raise ValidationError(f"no labeled_*.txt.gz for subject(s) {', '.join(missing)} in {data_dir}.")
        folders = [folder for folder in folders if folder.name in set(subjects)]
    if not folders:
        raise ValidationError(f"no subject folder with labeled_*.txt.gz files in {data_dir}.")
    if max_files_per_subject is not None and max_files_per_subject < 1:
        raise ValidationError(f"max_files_per_subject must be at least 1, got {max_files_per_subject}.")
    return {folder.name: _load_subject(folder, max_files_per_subject) for folder in folders}


def _load_subject(folder: Path, max_files: int | None) -> SubjectData:
    files = sorted(folder.glob("labeled_*.txt.gz"))[:max_files]
    data = SubjectData(subject=folder.name, inputs=[], phase=[], mode=[])
    for path in files:
        recording = load_hipexo(path)
        labels = recording.labels
        codes = labels["locomotion_mode"].to_numpy().astype(np.int64)
        unknown = sorted(set(np.unique(codes).tolist()) - set(HIPEXO_MODES) - {0})
        if unknown:
            raise ValidationError(
                f"{path}: locomotion_mode has unknown code(s) {unknown}; known 0 (none) and {sorted(HIPEXO_MODES)}."
            )
        data.inputs.append(recording.get(list(INPUT_CHANNELS)).to_numpy(dtype=np.float32))
        data.phase.append(labels[["left_phase", "right_phase"]].to_numpy(dtype=np.float64))
        data.mode.append(np.where(codes == 0, UNKNOWN_MODE, codes - min(HIPEXO_MODES)))
    return data


def make_windows(
    data: SubjectData | Sequence[SubjectData], *, window: int, step: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut causal windows from every recording, each labelled at its last sample.

    Parameters
    ----------
    data
        One subject or several.
    window
        Samples per window (the model's receptive field).
    step
        Samples between the ends of consecutive windows (1 = every sample).

    Returns
    -------
    X : numpy.ndarray
        ``(N, window, C)`` float32 raw inputs, oldest sample first.
    Y : numpy.ndarray
        ``(N, 4)`` float32: cos and sin of 2π·phase for the left, then the right leg, at each window's last sample.
    M : numpy.ndarray
        ``(N,)`` int64 mode index at each window's last sample.
    """
    if window < 1 or step < 1:
        raise ValidationError(f"window and step must be at least 1, got window={window}, step={step}.")
    subjects = [data] if isinstance(data, SubjectData) else list(data)
    parts = [
        _recording_windows(inputs, phase, mode, window, step)
        for subject in subjects
        for inputs, phase, mode in zip(subject.inputs, subject.phase, subject.mode, strict=True)
        if len(inputs) >= window
    ]
    if not parts:
        raise ValidationError(f"no recording has the {window} samples one window needs.")
    windows, targets, modes = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    return windows, targets, modes


def _recording_windows(
    inputs: np.ndarray, phase: np.ndarray, mode: np.ndarray, window: int, step: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    views = np.lib.stride_tricks.sliding_window_view(inputs, window, axis=0)[::step]  # (N, C, window)
    ends = np.arange(window - 1, len(inputs), step)
    return np.ascontiguousarray(views.transpose(0, 2, 1)), phase_targets(phase[ends]), mode[ends]


def mirror_channels(channels: Sequence[str] = INPUT_CHANNELS) -> tuple[np.ndarray, np.ndarray]:
    """Return the channel permutation and signs that swap left and right: ``mirrored = x[:, index] * sign``.

    ``left_<name>`` and ``right_<name>`` trade places; :data:`LATERAL_CHANNELS` change sign; others stay.

    Parameters
    ----------
    channels
        Channel names (default: :data:`INPUT_CHANNELS`); every ``left_`` channel needs its ``right_`` twin.

    Returns
    -------
    index : numpy.ndarray
        ``(C,)`` int64, the source channel of each mirrored channel.
    sign : numpy.ndarray
        ``(C,)`` float32, +1 or -1.
    """
    channels = list(channels)
    index = np.arange(len(channels))
    for i, name in enumerate(channels):
        for side, other in (("left_", "right_"), ("right_", "left_")):
            if name.startswith(side):
                twin = other + name.removeprefix(side)
                if twin not in channels:
                    raise ValidationError(
                        f"channel {name!r} has no {twin!r} twin to mirror with; channels: {channels}."
                    )
                index[i] = channels.index(twin)
    sign = np.array([-1.0 if name in LATERAL_CHANNELS else 1.0 for name in channels], dtype=np.float32)
    return index, sign


def phase_targets(phase: np.ndarray) -> np.ndarray:
    """Return ``(n, 4)`` float32 cos/sin of 2π·phase for ``(n, 2)`` left/right phases in cycles."""
    angle = 2.0 * np.pi * np.asarray(phase, dtype=np.float64)
    return np.stack(
        [np.cos(angle[:, 0]), np.sin(angle[:, 0]), np.cos(angle[:, 1]), np.sin(angle[:, 1])], axis=1
    ).astype(np.float32)


def phase_from_targets(targets: np.ndarray) -> np.ndarray:
    """Return ``(n, 2)`` left/right phase in [0, 1) from ``(n, 4)`` cos/sin pairs (the inverse of phase_targets)."""
    targets = np.asarray(targets, dtype=np.float64)
    angle = np.arctan2(targets[:, [1, 3]], targets[:, [0, 2]])
    return np.mod(angle / (2.0 * np.pi), 1.0)
