"""The ONNX file of a model version: streamed from a multipart upload to disk, checked, hashed, served.

The registry never loads a model: it checks that the upload is an ONNX ``ModelProto`` by walking its
protobuf wire format (no ``onnx`` or ``torch`` import; the web layer stays light), stores it under
``<DATA_DIR>/models/<id>.onnx`` with an atomic rename, and serves it with its SHA-256.
"""

import base64
from pathlib import Path
from typing import BinaryIO

from fastapi import Request
from fastapi.responses import FileResponse

from exohub.web.errors import InvalidInputError
from exohub.web.models.models import ModelVersion
from exohub.web.uploads import FILE_FIELD, StoredFile, receive_file

ONNX_MEDIA_TYPE = "application/octet-stream"
"""ONNX has no registered media type; browsers and clients save it as the named attachment."""

MAX_MODEL_BYTES = 64 * 1024 * 1024
"""The largest ONNX file the registry accepts (a gait model is kilobytes to a few megabytes)."""

# ModelProto: ir_version = 1 (varint), graph = 7 (message), opset_import = 8 (message, repeated).
# GraphProto: node = 1, output = 12 (messages).
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5
_MODEL_WIRE_TYPES = {1: _VARINT, 2: 2, 3: 2, 4: 2, 5: _VARINT, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}
_MAX_IR_VERSION = 100


def model_file_path(data_dir: Path, model_id: int) -> Path:
    """Where the ONNX file of model version ``model_id`` lives."""
    return data_dir / "models" / f"{model_id}.onnx"


async def receive_onnx(request: Request, destination: Path, *, max_bytes: int | None = None) -> StoredFile:
    """Stream the multipart field ``file`` of ``request`` to ``destination`` and check that it is ONNX.

    ``destination`` is replaced only when the whole upload arrived and passed the check; ``max_bytes``
    defaults to :data:`MAX_MODEL_BYTES`.
    """
    max_bytes = MAX_MODEL_BYTES if max_bytes is None else max_bytes
    return await receive_file(request, destination, max_bytes=max_bytes, what="the ONNX file", check=check_onnx)


def check_onnx(path: Path) -> None:
    """Raise InvalidInputError unless ``path`` holds an ONNX ModelProto (wire format, ir_version, graph)."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        try:
            top = _fields(stream, 0, size, wire_types=_MODEL_WIRE_TYPES)
            graph = top.get(7)
            if 1 not in top or graph is None:
                raise ValueError("it has no ir_version and graph, as every ONNX model has")
            ir_version = top[1][0]
            if not 1 <= ir_version <= _MAX_IR_VERSION:
                raise ValueError(f"its ir_version is {ir_version}")
            if ir_version >= 3 and 8 not in top:
                raise ValueError("it has no opset_import")
            graph_start, graph_length = graph[0], graph[1]
            if 12 not in _fields(stream, graph_start, graph_start + graph_length):
                raise ValueError("its graph has no output")
        except ValueError as err:
            raise InvalidInputError(f"The upload is not an ONNX model: {err}.", field=f"body.{FILE_FIELD}") from err


def _fields(
    stream: BinaryIO, start: int, end: int, wire_types: dict[int, int] | None = None
) -> dict[int, tuple[int, int]]:
    """Walk the protobuf fields between ``start`` and ``end``: {field: (value or offset, length)} (last wins).

    ``wire_types`` gives the expected wire type of known fields; unknown fields need only be well formed.
    """
    stream.seek(start)
    position = start
    found: dict[int, tuple[int, int]] = {}
    while position < end:
        key, position = _varint(stream, position, end)
        field, wire_type = key >> 3, key & 7
        expected = (wire_types or {}).get(field)
        if field == 0 or wire_type not in (_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32):
            raise ValueError(f"byte {position} holds no valid protobuf field")
        if expected is not None and wire_type != expected:
            raise ValueError(f"field {field} has the wrong wire type")
        if wire_type == _VARINT:
            value, position = _varint(stream, position, end)
            found[field] = (value, 0)
            continue
        if wire_type == _LENGTH_DELIMITED:
            length, position = _varint(stream, position, end)
            found[field] = (position, length)
        else:
            length = 8 if wire_type == _FIXED64 else 4
        position += length
        if position > end:
            raise ValueError("a field runs past the end of the file")
        stream.seek(position)
    return found


def _varint(stream: BinaryIO, position: int, end: int) -> tuple[int, int]:
    value = 0
    for shift in range(0, 70, 7):
        if position >= end:
            raise ValueError("the file ends inside a field")
        byte = stream.read(1)[0]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
    raise ValueError(f"byte {position} starts a varint longer than 10 bytes")


def onnx_response(version: ModelVersion, path: Path) -> FileResponse:
    """The ONNX file as an attachment, with its checksum (RFC 9530 ``Repr-Digest``, and the hex as ``ETag``)."""
    sha256 = version.file_sha256 or ""
    digest = base64.b64encode(bytes.fromhex(sha256)).decode()
    return FileResponse(
        path,
        media_type=ONNX_MEDIA_TYPE,
        filename=f"{version.name}-{version.version}.onnx",
        headers={"Repr-Digest": f"sha-256=:{digest}:", "ETag": f'"{sha256}"', "Cache-Control": "private, no-cache"},
    )
