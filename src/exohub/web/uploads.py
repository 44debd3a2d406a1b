"""File uploads: one multipart field streamed to disk, size-limited, hashed, checked, then renamed into place.

Every domain that receives a file (a model's ONNX file, a therapy session's recording) uses
:func:`receive_file`, so large bodies never sit in memory and a half-received or refused file is never
left where a reader would find it.
"""

import hashlib
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from exohub._utils import atomic_path
from exohub.web.errors import DomainError, InvalidInputError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MULTIPART_OVERHEAD_BYTES = 64 * 1024
"""Room for the multipart headers and boundaries (and small form fields) around the file itself."""

FILE_FIELD = "file"

INCOMING_MAX_AGE_S = 6 * 3600.0
"""Incoming files older than this belong to no request any more (a killed process) and are swept."""


class ContentTooLargeError(DomainError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


@dataclass(frozen=True)
class StoredFile:
    """A received file: its checksum, size and the name the client gave it (may be empty)."""

    sha256: str
    size_bytes: int
    filename: str = ""


def upload_body(description: str) -> dict[str, Any]:
    """OpenAPI ``requestBody`` of a route that reads one file from the multipart field ``file``."""
    schema = {"type": "string", "format": "binary", "description": description}
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "required": [FILE_FIELD], "properties": {FILE_FIELD: schema}}
                }
            },
        }
    }


async def receive_file(
    request: Request,
    destination: Path,
    *,
    max_bytes: int,
    what: str,
    check: Callable[[Path], None] | None = None,
) -> StoredFile:
    """Stream the multipart field ``file`` of ``request`` to ``destination``; hash it; run ``check`` on it.

    ``destination`` appears only when the whole upload arrived and ``check`` passed; on any error (a refused
    file, a client that goes away, a killed server) at most a hidden ``.<name>.partial`` sibling is left, and
    it is removed unless the process died.

    Parameters
    ----------
    request
        The request whose body is ``multipart/form-data``.
    destination
        Where the file goes; its folder is created.
    max_bytes
        The largest file accepted (:class:`ContentTooLargeError` beyond it, before reading on when the
        declared length already says so).
    what
        The file's name in messages ("the ONNX file", "the recording").
    check
        Called with the complete temporary file; raises to refuse it.
    """
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    field = f"body.{FILE_FIELD}"
    if content_type != b"multipart/form-data" or not boundary:
        raise InvalidInputError(f"Send {what} as multipart/form-data in a field named {FILE_FIELD!r}.", field=field)
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD_BYTES:
        raise _too_large(what, max_bytes)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(destination) as partial, partial.open("wb") as out:
        receiver = _FileField(out, max_bytes, what)
        parser = MultipartParser(boundary, receiver.callbacks(), max_size=max_bytes + MULTIPART_OVERHEAD_BYTES)
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
        except MultipartParseError as err:
            raise InvalidInputError(f"The multipart body is malformed: {err}.", field=field) from err
        if receiver.parts != 1:
            raise InvalidInputError(
                f"Send exactly one file in a field named {FILE_FIELD!r} ({receiver.parts} found).", field=field
            )
        out.flush()
        if check is not None:
            check(partial)
    return StoredFile(sha256=receiver.digest.hexdigest(), size_bytes=receiver.size_bytes, filename=receiver.filename)


def check_size(size_bytes: int, max_bytes: int, *, what: str) -> int:
    """Return ``size_bytes``, or raise :class:`ContentTooLargeError` when it exceeds ``max_bytes``."""
    if size_bytes > max_bytes:
        raise _too_large(what, max_bytes)
    return size_bytes


def _too_large(what: str, max_bytes: int) -> ContentTooLargeError:
    return ContentTooLargeError(f"{what[:1].upper()}{what[1:]} is larger than the {max_bytes} bytes accepted.")


class _FileField:
    """Multipart callbacks that write the part named ``file`` to ``out`` and ignore the others."""

    def __init__(self, out: BinaryIO, max_bytes: int, what: str) -> None:
        self.out = out
        self.max_bytes = max_bytes
        self.what = what
        self.digest = hashlib.sha256()
        self.size_bytes = 0
        self.parts = 0
        self.filename = ""
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
        self._writing = options.get(b"name") == FILE_FIELD.encode()
        if self._writing and not self.parts:
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")
        self.parts += self._writing

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._writing or self.parts > 1:
            return
        piece = data[start:end]
        self.size_bytes = check_size(self.size_bytes + len(piece), self.max_bytes, what=self.what)
        self.digest.update(piece)
        self.out.write(piece)


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path``, in hex (as :class:`StoredFile` records it for an upload)."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def incoming_dir(data_dir: Path) -> Path:
    """Where uploads land while they are received and checked, before they are renamed into place."""
    return data_dir / "incoming"


@contextmanager
def incoming_file(data_dir: Path) -> Iterator[Path]:
    """A fresh path in the incoming folder, removed (with any sibling named after it) when the block ends.

    Files a killed process left behind are swept first (:func:`sweep_incoming`).
    """
    folder = incoming_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    sweep_incoming(data_dir)
    path = folder / f"{uuid.uuid4().hex}.upload"
    try:
        yield path
    finally:
        for leftover in folder.glob(f"{path.stem}*"):
            leftover.unlink(missing_ok=True)


@dataclass(frozen=True)
class SweepResult:
    removed_files: int
    removed_bytes: int


def sweep_incoming(data_dir: Path, *, max_age_s: float = INCOMING_MAX_AGE_S) -> SweepResult:
    """Remove incoming files older than ``max_age_s`` (left by a process that died mid-upload)."""
    folder = incoming_dir(data_dir)
    if not folder.is_dir():
        return SweepResult(0, 0)
    cutoff = time.time() - max_age_s
    removed = removed_bytes = 0
    for path in folder.iterdir():
        stat = path.lstat()
        if stat.st_mtime >= cutoff:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
        removed_bytes += stat.st_size
    return SweepResult(removed, removed_bytes)
