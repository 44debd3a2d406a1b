"""ONNX export of a trained model, and onnxruntime inference one tick at a time behind the phase-estimator Protocol."""

from __future__ import annotations

import json
import logging
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from exohub.exceptions import ValidationError
from exohub.ml.data import INPUT_CHANNELS, MODES, SAMPLING_RATE_HZ, phase_from_targets

OPSET = 18
INPUT_NAME = "inputs"
OUTPUT_NAMES = ("phase_cos_sin", "mode_logits")
PHASE_DEFINITION = "0 = maximum hip extension (late stance, before toe off); the hip-exo labels' definition"
UNKNOWN = "unknown"


def export_onnx(model: Any, path: str | Path, *, config: Any) -> Path:
    """Write ``model`` as ONNX (opset 18, batch axis dynamic) with what inference needs in its metadata.

    Uses torch's ``torch.export``-based exporter (the TorchScript one is deprecated since torch 2.9).

    Parameters
    ----------
    model
        A trained :class:`~exohub.ml.models.GaitPhaseNet`. The graph takes raw inputs: the normaliser is folded
        into the weights (:func:`~exohub.ml.models.fold_normaliser`), so no tick spends time normalising.
    path
        The ``.onnx`` file to write (parent folders are created).
    config
        The :class:`~exohub.ml.training.TrainConfig` it was trained with (stored as metadata).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import onnx
    import torch

    from exohub.ml.models import fold_normaliser

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = fold_normaliser(model)
    example = torch.zeros(2, model.window, model.n_inputs)
    # torch.export's own pytree deprecations and "torchvision is not installed" notes are not the user's to act on
    logging.getLogger("torch.onnx._internal.exporter._registration").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        program = torch.onnx.export(
            model,
            (example,),
            input_names=[INPUT_NAME],
            output_names=list(OUTPUT_NAMES),
            opset_version=OPSET,
            dynamo=True,
            dynamic_shapes={"x": {0: torch.export.Dim("batch")}},
            verbose=False,
        )
    if program is None:  # only the TorchScript exporter returns None
        raise RuntimeError("torch.onnx.export returned no program.")
    proto = program.model_proto
    metadata = {
        "exohub_model": "gait_phase",
        "window": str(model.window),
        "sampling_rate_hz": str(SAMPLING_RATE_HZ),
        "input_channels": json.dumps(list(INPUT_CHANNELS)),
        "modes": json.dumps(list(MODES)),
        "phase_definition": PHASE_DEFINITION,
        "train_config": json.dumps(config.to_dict() if hasattr(config, "to_dict") else dict(vars(config))),
    }
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return path


class OnnxGaitModel:
    """An exported gait-phase model run by onnxruntime, one sample per tick or in batches.

    ``step`` keeps the last ``window`` samples in a preallocated ring twice as long as the window, writing each
    sample at two positions so the current window is always one contiguous slice. A tick copies that slice into
    the input buffer bound to the session and runs it with I/O binding into preallocated outputs, so onnxruntime
    neither converts a feed dictionary nor allocates outputs (about 5 us a tick less than ``session.run``).

    Parameters
    ----------
    path
        An ONNX file written by :func:`export_onnx`.
    """

    def __init__(self, path: str | Path) -> None:
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise ValidationError(f"model file {path} does not exist.")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own unexported exception types
            raise ValidationError(f"{path} is not a readable ONNX model: {err}") from err
        metadata = self._session.get_modelmeta().custom_metadata_map
        if metadata.get("exohub_model") != "gait_phase":
            raise ValidationError(f"{path} is not an exohub gait-phase model (no exohub_model metadata).")
        self.path = path
        self.window = int(metadata["window"])
        self.input_channels: tuple[str, ...] = tuple(json.loads(metadata["input_channels"]))
        self.modes: tuple[str, ...] = tuple(json.loads(metadata["modes"]))
        self.sampling_rate_hz = float(metadata["sampling_rate_hz"])
        self.phase_definition = metadata["phase_definition"]
        self.train_config: dict[str, Any] = json.loads(metadata["train_config"])
        self._outputs = list(OUTPUT_NAMES)
        self._ring = np.zeros((2 * self.window, len(self.input_channels)), dtype=np.float32)
        self._input = np.zeros((1, self.window, len(self.input_channels)), dtype=np.float32)
        self._cos_sin = np.zeros((1, 4), dtype=np.float32)
        self._logits = np.zeros((1, len(self.modes)), dtype=np.float32)
        self._binding = self._session.io_binding()
        for name, array, bind in (
            (INPUT_NAME, self._input, self._binding.bind_input),
            (OUTPUT_NAMES[0], self._cos_sin, self._binding.bind_output),
            (OUTPUT_NAMES[1], self._logits, self._binding.bind_output),
        ):
            bind(name, "cpu", 0, np.float32, list(array.shape), array.ctypes.data)
        self.reset()

    def reset(self) -> None:
        """Forget all samples: the phase is NaN again until the window has filled."""
        self._ring.fill(0.0)
        self._count = 0
        self._head = 0
        self.last_time_s = -math.inf
        self.last_output: tuple[float, float, str] = (math.nan, math.nan, UNKNOWN)

    def step(self, time_s: float, sample: np.ndarray, /) -> tuple[float, float, str]:
        """Take one sample ``(C,)`` of raw inputs (order of ``input_channels``) and return the newest estimate.

        Returns
        -------
        tuple of (float, float, str)
            Left phase, right phase in [0, 1) (NaN until ``window`` samples arrived) and the mode's name
            (``"unknown"`` until then).
        """
        head = self._head
        self._ring[head] = sample
        self._ring[head + self.window] = sample
        self._head = head = (head + 1) % self.window
        self._count += 1
        self.last_time_s = time_s
        if self._count < self.window:
            return self.last_output
        np.copyto(self._input[0], self._ring[head : head + self.window])
        self._session.run_with_iobinding(self._binding)
        c = self._cos_sin[0]
        left = math.atan2(c[1], c[0]) / (2.0 * math.pi) % 1.0
        right = math.atan2(c[3], c[2]) / (2.0 * math.pi) % 1.0
        self.last_output = (left, right, self.modes[int(self._logits[0].argmax())])
        return self.last_output

    def predict_windows(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return cos/sin ``(B, 4)`` and mode logits ``(B, n_modes)`` for windows ``(B, window, C)`` of raw inputs."""
        windows = np.ascontiguousarray(windows, dtype=np.float32)
        if windows.ndim != 3 or windows.shape[1:] != (self.window, len(self.input_channels)):
            raise ValidationError(
                f"windows must have shape (B, {self.window}, {len(self.input_channels)}), got {windows.shape}."
            )
        cos_sin, logits = self._session.run(self._outputs, {INPUT_NAME: windows})
        return cos_sin, logits

    def predict_phase(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(B, 2)`` left/right phase in [0, 1) and ``(B,)`` mode indices for windows ``(B, window, C)``."""
        cos_sin, logits = self.predict_windows(windows)
        return phase_from_targets(cos_sin), np.argmax(logits, axis=1)

    def leg(self, side: str) -> _LegEstimator:
        """Return one leg's view as a :class:`~exohub.signals.phase.GaitPhaseEstimator` (``step -> float``).

        Both legs' views share this model: the first view stepped at a given ``time_s`` runs the inference, the
        other returns the same tick's result, so a bilateral controller pays one inference per tick.
        """
        if side not in ("left", "right"):
            raise ValidationError(f"side must be 'left' or 'right', got {side!r}.")
        return _LegEstimator(self, 0 if side == "left" else 1)


class _LegEstimator:
    """One leg of an :class:`OnnxGaitModel` behind the real-time phase-estimator Protocol."""

    def __init__(self, model: OnnxGaitModel, index: int) -> None:
        self._model = model
        self._index = index

    def reset(self) -> None:
        """Reset the shared model."""
        self._model.reset()

    def step(self, time_s: float, sample: Any, /) -> float:
        """Return this leg's phase at ``time_s``, stepping the shared model once per distinct ``time_s``."""
        if time_s != self._model.last_time_s:
            self._model.step(time_s, sample)
        return float(self._model.last_output[self._index])
