"""ONNX export: torch/onnxruntime parity, the per-tick ring against batch inference, metadata and the Protocol."""

import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from exohub.exceptions import ValidationError  # noqa: E402
from exohub.ml.data import INPUT_CHANNELS, MODES, phase_from_targets  # noqa: E402
from exohub.ml.export import OnnxGaitModel, export_onnx  # noqa: E402
from exohub.ml.training import TrainConfig, make_model  # noqa: E402
from exohub.signals.phase import GaitPhaseEstimator  # noqa: E402

CONFIG = TrainConfig(window=48, channels=8, recent=4, hidden=16, seed=3)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    model = make_model(CONFIG)
    rng = np.random.default_rng(0)
    model.normaliser.fit(rng.normal(2.0, 3.0, (500, len(INPUT_CHANNELS))))
    return model, export_onnx(model, tmp_path_factory.mktemp("onnx") / "models" / "tiny.onnx", config=CONFIG)


def test_onnx_matches_torch(exported: tuple) -> None:
    model, path = exported
    windows = np.random.default_rng(1).normal(2.0, 3.0, (33, CONFIG.window, len(INPUT_CHANNELS))).astype(np.float32)
    cos_sin, logits = OnnxGaitModel(path).predict_windows(windows)
    with torch.no_grad():
        expected_cos_sin, expected_logits = model(torch.from_numpy(windows))
    np.testing.assert_allclose(cos_sin, expected_cos_sin.numpy(), atol=1e-4)
    np.testing.assert_allclose(logits, expected_logits.numpy(), atol=1e-4)


def test_graph_takes_raw_inputs_without_normalising_operations(exported: tuple) -> None:
    import onnx

    operations = {node.op_type for node in onnx.load(str(exported[1])).graph.node}
    assert "Conv" in operations and not operations & {"Sub", "Div"}


def test_metadata_describes_the_model(exported: tuple) -> None:
    onnx_model = OnnxGaitModel(exported[1])
    assert onnx_model.window == CONFIG.window
    assert onnx_model.input_channels == INPUT_CHANNELS and onnx_model.modes == MODES
    assert onnx_model.sampling_rate_hz == 200.0 and "maximum hip extension" in onnx_model.phase_definition
    assert onnx_model.train_config["channels"] == CONFIG.channels


def test_step_equals_batch_inference_and_is_nan_until_full(exported: tuple) -> None:
    onnx_model = OnnxGaitModel(exported[1])
    samples = np.random.default_rng(2).normal(2.0, 3.0, (3 * CONFIG.window + 7, len(INPUT_CHANNELS)))
    samples = samples.astype(np.float32)
    outputs = [onnx_model.step(i / 200.0, sample) for i, sample in enumerate(samples)]
    assert all(math.isnan(left) and mode == "unknown" for left, _, mode in outputs[: CONFIG.window - 1])
    windows = np.lib.stride_tricks.sliding_window_view(samples, CONFIG.window, axis=0).transpose(0, 2, 1)
    phase, mode = onnx_model.predict_phase(windows)
    streamed = np.array([[left, right] for left, right, _ in outputs[CONFIG.window - 1 :]])
    error = np.mod(streamed - phase + 0.5, 1.0) - 0.5
    assert np.abs(error).max() < 1e-5
    assert [name for _, _, name in outputs[CONFIG.window - 1 :]] == [MODES[index] for index in mode]
    onnx_model.reset()
    assert math.isnan(onnx_model.step(0.0, samples[0])[0])


def test_leg_views_meet_the_protocol_and_share_one_inference(exported: tuple) -> None:
    onnx_model = OnnxGaitModel(exported[1])
    left, right = onnx_model.leg("left"), onnx_model.leg("right")
    assert isinstance(left, GaitPhaseEstimator) and isinstance(right, GaitPhaseEstimator)
    samples = np.random.default_rng(3).normal(2.0, 3.0, (CONFIG.window + 5, len(INPUT_CHANNELS)))
    for i, sample in enumerate(samples.astype(np.float32)):
        phase_left, phase_right = left.step(i / 200.0, sample), right.step(i / 200.0, sample)
    assert onnx_model.last_output[:2] == (phase_left, phase_right)
    assert 0.0 <= phase_left < 1.0
    batch = onnx_model.predict_windows(samples[None, -CONFIG.window :].astype(np.float32))[0]
    assert phase_from_targets(batch)[0, 1] == pytest.approx(phase_right, abs=1e-5)
    with pytest.raises(ValidationError, match="side"):
        onnx_model.leg("middle")


def test_rejects_files_that_are_not_gait_models(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        OnnxGaitModel(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ValidationError, match="not a readable ONNX model"):
        OnnxGaitModel(tmp_path / "junk.onnx")


def test_rejects_windows_of_the_wrong_shape(exported: tuple) -> None:
    with pytest.raises(ValidationError, match="windows must have shape"):
        OnnxGaitModel(exported[1]).predict_windows(np.zeros((1, 5, len(INPUT_CHANNELS)), dtype=np.float32))
