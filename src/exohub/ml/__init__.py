"""Learned gait-phase and locomotion-mode estimators: data, model, training, evaluation, ONNX export and inference.

Importing ``exohub.ml`` loads numpy only; torch is imported by ``exohub.ml.models``/``training`` and onnxruntime
when an :class:`OnnxGaitModel` is opened, so the web layer can read ONNX files and metrics without torch.
"""

from exohub.ml.data import (
    INPUT_CHANNELS,
    MODES,
    UNKNOWN_MODE,
    SubjectData,
    load_hipexo_subjects,
    make_windows,
    phase_from_targets,
    phase_targets,
)
from exohub.ml.evaluation import evaluate, predict_recording
from exohub.ml.export import OnnxGaitModel, export_onnx

__all__ = [
    "INPUT_CHANNELS",
    "MODES",
    "UNKNOWN_MODE",
    "OnnxGaitModel",
    "SubjectData",
    "evaluate",
    "export_onnx",
    "load_hipexo_subjects",
    "make_windows",
    "phase_from_targets",
    "phase_targets",
    "predict_recording",
]
