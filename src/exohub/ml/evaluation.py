"""Scores of a phase/mode model on one subject: circular phase RMSE per leg, mode accuracy and decision delay."""

from __future__ import annotations

from typing import Any

import numpy as np

from exohub.exceptions import ValidationError
from exohub.ml.data import SAMPLING_RATE_HZ, UNKNOWN_MODE, SubjectData, phase_from_targets
from exohub.signals.phase import compute_phase_rmse

#: Samples within this time of a labelled mode change count as "transition" for the mode accuracy.
TRANSITION_HALF_WIDTH_S = 0.5
_CHUNK = 4096


def predict_recording(model: Any, inputs: np.ndarray, *, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Run a model causally over one recording, as a device would sample by sample (but batched).

    Parameters
    ----------
    model
        A :class:`~exohub.ml.models.GaitPhaseNet` or anything with ``predict_windows(X) -> (cos_sin, logits)``
        (such as :class:`~exohub.ml.export.OnnxGaitModel`).
    inputs
        ``(n, C)`` raw inputs.
    window
        The model's window.

    Returns
    -------
    phase : numpy.ndarray
        ``(n, 2)`` left/right phase in [0, 1); NaN for the first ``window - 1`` samples (window not yet full).
    mode : numpy.ndarray
        ``(n,)`` predicted mode index; ``UNKNOWN_MODE`` where the phase is NaN.
    """
    inputs = np.asarray(inputs, dtype=np.float32)
    phase = np.full((len(inputs), 2), np.nan)
    mode = np.full(len(inputs), UNKNOWN_MODE, dtype=np.int64)
    if len(inputs) < window:
        return phase, mode
    predict = model.predict_windows if hasattr(model, "predict_windows") else _torch_predictor(model)
    views = np.lib.stride_tricks.sliding_window_view(inputs, window, axis=0)  # (n - window + 1, C, window)
    for start in range(0, len(views), _CHUNK):
        chunk = np.ascontiguousarray(views[start : start + _CHUNK].transpose(0, 2, 1))
        cos_sin, logits = predict(chunk)
        rows = slice(window - 1 + start, window - 1 + start + len(chunk))
        phase[rows] = phase_from_targets(cos_sin)
        mode[rows] = np.argmax(logits, axis=1)
    return phase, mode


def _torch_predictor(model: Any) -> Any:
    import torch

    def predict(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        model.eval()
        with torch.inference_mode():
            cos_sin, logits = model(torch.from_numpy(x))
        return cos_sin.numpy(), logits.numpy()

    return predict


def evaluate(model: Any, data: SubjectData, *, window: int) -> dict[str, float]:
    """Score a model on every recording of one subject (never seen in training, for a fair figure).

    Parameters
    ----------
    model
        See :func:`predict_recording`.
    data
        The subject's recordings.
    window
        The model's window.

    Returns
    -------
    dict of str to float
        ``phase_rmse_pct`` (both legs pooled), ``phase_rmse_pct_left``, ``phase_rmse_pct_right`` (circular RMSE in
        % of the gait cycle, labels' own phase definition); ``mode_accuracy`` over samples with a mode label,
        ``mode_accuracy_steady`` (farther than :data:`TRANSITION_HALF_WIDTH_S` from a labelled mode change) and
        ``mode_accuracy_transition`` (within it); ``mode_decision_delay_s``: median over mode changes of the time
        from the labelled change to the first predicted sample of the new mode (changes the model never reaches
        before the next change are left out; ``mode_transitions_missed`` counts them); ``n_samples`` scored
        (those with a full window), ``n_transitions``.
    """
    predicted_phase, predicted_mode, true_phase, true_mode, near, delays = [], [], [], [], [], []
    missed = 0
    for inputs, phase, mode in zip(data.inputs, data.phase, data.mode, strict=True):
        estimate, estimate_mode = predict_recording(model, inputs, window=window)
        full = np.arange(len(inputs)) >= window - 1
        predicted_phase.append(estimate[full])
        predicted_mode.append(estimate_mode[full])
        true_phase.append(phase[full])
        true_mode.append(mode[full])
        near.append(_near_mode_change(mode)[full])
        recording_delays, recording_missed = _decision_delays(mode, estimate_mode, full)
        delays.extend(recording_delays)
        missed += recording_missed
    if not predicted_phase or sum(len(p) for p in predicted_phase) == 0:
        raise ValidationError(f"subject {data.subject}: no recording has a full window of {window} samples.")
    estimate, truth = np.concatenate(predicted_phase), np.concatenate(true_phase)
    guess, label, transition = np.concatenate(predicted_mode), np.concatenate(true_mode), np.concatenate(near)
    known = label != UNKNOWN_MODE
    correct = guess == label
    return {
        "phase_rmse_pct": compute_phase_rmse(estimate.ravel(), truth.ravel()),
        "phase_rmse_pct_left": compute_phase_rmse(estimate[:, 0], truth[:, 0]),
        "phase_rmse_pct_right": compute_phase_rmse(estimate[:, 1], truth[:, 1]),
        "mode_accuracy": _mean(correct[known]),
        "mode_accuracy_steady": _mean(correct[known & ~transition]),
        "mode_accuracy_transition": _mean(correct[known & transition]),
        "mode_decision_delay_s": float(np.median(delays)) if delays else float("nan"),
        "mode_transitions_missed": float(missed),
        "n_transitions": float(len(delays) + missed),
        "n_samples": float(len(estimate)),
    }


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


def _mode_changes(mode: np.ndarray) -> np.ndarray:
    """Indices where the labelled mode changes between two known modes (the first sample of the new mode)."""
    change = np.flatnonzero(mode[1:] != mode[:-1]) + 1
    return change[(mode[change] != UNKNOWN_MODE) & (mode[change - 1] != UNKNOWN_MODE)]


def _near_mode_change(mode: np.ndarray) -> np.ndarray:
    near = np.zeros(len(mode), dtype=bool)
    half = round(TRANSITION_HALF_WIDTH_S * SAMPLING_RATE_HZ)
    for index in _mode_changes(mode):
        near[max(index - half, 0) : index + half] = True
    return near


def _decision_delays(mode: np.ndarray, estimate: np.ndarray, full: np.ndarray) -> tuple[list[float], int]:
    changes = _mode_changes(mode)
    every_change = np.append(np.flatnonzero(mode[1:] != mode[:-1]) + 1, len(mode))
    ends = every_change[np.searchsorted(every_change, changes, side="right")]
    delays, missed = [], 0
    for start, end in zip(changes, ends, strict=True):
        if not full[start]:
            continue
        hits = np.flatnonzero(estimate[start:end] == mode[start])
        if hits.size:
            delays.append(float(hits[0] / SAMPLING_RATE_HZ))
        else:
            missed += 1
    return delays, missed
