"""The ONNX check walks the protobuf wire format: real models pass, anything else is a clear 422."""

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exohub.web.errors import InvalidInputError
from exohub.web.models.files import check_onnx
from tests.web.models.onnx_bytes import tiny_onnx


def _write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    return path


def test_the_test_model_is_real_onnx() -> None:
    onnx = pytest.importorskip("onnx", reason="the onnx package (extra 'ml') cross-checks the hand-written model")
    onnx.checker.check_model(onnx.load_from_string(tiny_onnx()), full_check=True)


def test_a_model_exported_by_onnx_passes(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx", reason="the onnx package (extra 'ml') writes a real model")
    helper = onnx.helper
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 6])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 6])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "relu", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    check_onnx(_write(tmp_path, model.SerializeToString()))


def test_hand_written_model_passes(tmp_path: Path) -> None:
    check_onnx(_write(tmp_path, tiny_onnx()))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "no ir_version and graph"),
        (b"PK\x03\x04 a zip archive, not a model", "no valid protobuf field|runs past the end|ends inside"),
        (b"ir_version: 8\ngraph { }\n", "no valid protobuf field|runs past the end|ends inside|wrong wire type"),
        (tiny_onnx(ir_version=0), "ir_version is 0"),
        (tiny_onnx()[:-3], "runs past the end|ends inside"),
    ],
)
def test_non_onnx_is_refused_with_the_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=f"not an ONNX model: .*({reason})") as caught:
        check_onnx(_write(tmp_path, content))
    assert caught.value.field == "body.file"


def test_model_without_opset_is_refused(tmp_path: Path) -> None:
    content = tiny_onnx()
    opset = content.rindex(b"\x42")  # the last top-level field: opset_import (8 << 3 | 2)
    with pytest.raises(InvalidInputError, match="no opset_import"):
        check_onnx(_write(tmp_path, content[:opset]))


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(0, len(tiny_onnx()) - 1), flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255))))
def test_damaged_models_give_only_invalid_input(
    tmp_path_factory: pytest.TempPathFactory, cut: int, flips: list
) -> None:
    content = bytearray(tiny_onnx()[:cut] if cut else tiny_onnx())
    for index, mask in flips:
        if content:
            content[index % len(content)] ^= mask
    path = tmp_path_factory.mktemp("fuzz") / "model.onnx"
    path.write_bytes(bytes(content))
    with contextlib.suppress(InvalidInputError):
        check_onnx(path)
