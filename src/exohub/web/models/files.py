"""The ONNX file of a model version: streamed from a multipart upload to disk, checked, hashed, served.

The registry never loads a model: it checks that the upload is an ONNX ``ModelProto`` by walking its
protobuf wire format (no ``onnx`` or ``torch`` import; the web layer stays light), stores it under
``<DATA_DIR>/models/<id>.onnx`` with an atomic rename, and serves it with its SHA-256.
"""

import base64
import hashlib
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from fastapi import Request
from fastapi.responses import FileResponse
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from exohub._utils import atomic_path
from exohub.web.errors import DomainError, InvalidInputError
from exohub.web.models.models import ModelVersion

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

ONNX_MEDIA_TYPE = "application/octet-stream"
"""ONNX has no registered media type; browsers and clients save it as the named attachment."""

MAX_MODEL_BYTES = 64 * 1024 * 1024
"""The largest ONNX file the registry accepts (a gait model is kilobytes to a few megabytes)."""

_MULTIPART_OVERHEAD_BYTES = 64 * 1024
_FIELD = "file"

# ModelProto: ir_version = 1 (varint), graph = 7 (message), opset_import = 8 (message, repeated).
# GraphProto: node = 1, output = 12 (messages).
_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5
_MODEL_WIRE_TYPES = {1: _VARINT, 2: 2, 3: 2, 4: 2, 5: _VARINT, 6: 2, 7: 2, 8: 2, 14: 2, 20: 2, 25: 2}
_MAX_IR_VERSION = 100


class ContentTooLargeError(DomainError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size_bytes: int


def model_file_path(data_dir: Path, model_id: int) -> Path:
    """Where the ONNX file of model version ``model_id`` lives."""
    return data_dir / "models" / f"{model_id}.onnx"


def _too_large(max_bytes: int) -> ContentTooLargeError:
    return ContentTooLargeError(f"The ONNX file is larger than the {max_bytes} bytes the registry accepts.")


async def receive_onnx(request: Request, destination: Path, *, max_bytes: int | None = None) -> StoredFile:
    """Stream the multipart field ``file`` of ``request`` to ``destination``; check it is ONNX; hash it.

    ``destination`` is replaced only when the whole upload arrived and passed the check; ``max_bytes``
    defaults to :data:`MAX_MODEL_BYTES`.
    """
    max_bytes = MAX_MODEL_BYTES if max_bytes is None else max_bytes
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInputError(
            f"Send the ONNX file as multipart/form-data in a field named {_FIELD!r}.", field=f"body.{_FIELD}"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + _MULTIPART_OVERHEAD_BYTES:
        raise _too_large(max_bytes)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(destination) as partial, partial.open("wb") as out:
        receiver = _FileField(out, max_bytes)
        parser = MultipartParser(boundary, receiver.callbacks(), max_size=max_bytes + _MULTIPART_OVERHEAD_BYTES)
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError as err:
            raise InvalidInputError(f"The multipart body is malformed: {err}.", field=f"body.{_FIELD}") from err
        if receiver.parts != 1:
            raise InvalidInputError(
                f"Send exactly one file in a field named {_FIELD!r} ({receiver.parts} found).", field=f"body.{_FIELD}"
            )
        out.flush()
        check_onnx(partial)
    return StoredFile(sha256=receiver.digest.hexdigest(), size_bytes=receiver.size_bytes)


class _FileField:
    """Multipart callbacks that write the part named ``file`` to ``out`` and ignore the others."""

    def __init__(self, out: BinaryIO, max_bytes: int) -> None:
        self.out = out
        self.max_bytes = max_bytes
        self.digest = hashlib.sha256()
        self.size_bytes = 0
        self.parts = 0
        self._header_field = b""
        self._header_value = b""
        self._disposition = b""
        self._writing = False

    def callbacks(self) -> "MultipartCallbacks":
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
        }

    def _part_begin(self) -> None:
        self._disposition = b""
        self._writing = False

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_field.strip().lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_field = self._header_value = b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._writing = options.get(b"name") == _FIELD.encode()
        self.parts += self._writing

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._writing or self.parts > 1:
            return
        piece = data[start:end]
        self.size_bytes += len(piece)
        if self.size_bytes > self.max_bytes:
            raise _too_large(self.max_bytes)
        self.digest.update(piece)
        self.out.write(piece)


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
            raise InvalidInputError(f"The upload is not an ONNX model: {err}.", field=f"body.{_FIELD}") from err


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
