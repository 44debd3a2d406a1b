"""A pure-Python walk over an XDF file's chunks, run before pyxdf reads it.

pyxdf is built to salvage recordings that a crash cut short: it skips damaged chunks with a log message and returns
what it could read, and it allocates sample arrays from counts stored in the file. Reading a damaged file that way
silently loses data. :func:`check_xdf_structure` instead refuses a file unless every chunk (XDF 1.0: magic ``XDF:``,
then chunks of ``varlen length, uint16 tag, content``; tags 1 FileHeader, 2 StreamHeader, 3 Samples, 4 ClockOffset,
5 Boundary, 6 StreamFooter) is whole, ends where the next begins, and each Samples chunk can hold the samples it
announces.
"""

from __future__ import annotations

import gzip
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from exohub.exceptions import ValidationError

MAGIC = b"XDF:"
TAGS = {1: "FileHeader", 2: "StreamHeader", 3: "Samples", 4: "ClockOffset", 5: "Boundary", 6: "StreamFooter"}
VALUE_BYTES = {"int8": 1, "int16": 2, "int32": 4, "int64": 8, "float32": 4, "double64": 8, "string": 1}
MAX_CHANNELS = 100_000
_FIXED_LENGTH = {4: 2 + 4 + 16, 5: 2 + 16}


def check_xdf_structure(path: Path) -> list[int]:
    """Raise a ``ValidationError`` unless ``path`` is a whole XDF file; return the byte offset where each chunk ends.

    An ``.xdfz`` file is decompressed first (a truncated gzip stream raises ``EOFError``); offsets are then those of
    the decompressed content.
    """
    data = gzip.decompress(path.read_bytes()) if path.suffix.lower() == ".xdfz" else path.read_bytes()
    if data[:4] != MAGIC:
        raise ValidationError(f"{path}: not an XDF file (it does not start with 'XDF:').")
    pos, ends = 4, []
    streams: dict[int, tuple[int, int]] = {}
    while pos < len(data):
        length, content = _varlen(data, pos, path)
        end = content + length
        if length < 2 or end > len(data):
            raise ValidationError(f"{path}: the chunk at byte {pos} claims {length} bytes; the file is truncated.")
        tag = struct.unpack_from("<H", data, content)[0]
        if tag not in TAGS:
            raise ValidationError(f"{path}: chunk at byte {pos} has unknown tag {tag}; the file is damaged.")
        if not ends and tag != 1:
            raise ValidationError(f"{path}: the first chunk must be the FileHeader, found {TAGS[tag]}.")
        if tag in _FIXED_LENGTH and length != _FIXED_LENGTH[tag]:
            raise ValidationError(
                f"{path}: {TAGS[tag]} chunk at byte {pos} has {length} bytes, not {_FIXED_LENGTH[tag]}."
            )
        _check_chunk(data, tag, content + 2, end, streams, path)
        ends.append(end)
        pos = end
    if not streams:
        raise ValidationError(f"{path}: the file holds no stream header.")
    return ends


def _varlen(data: bytes, pos: int, path: Path) -> tuple[int, int]:
    """Read XDF's variable-length integer at ``pos``: one byte giving 1, 4 or 8, then the value; return (value, end)."""
    if pos >= len(data):
        raise ValidationError(f"{path}: truncated at byte {pos}.")
    size = data[pos]
    if size not in (1, 4, 8):
        raise ValidationError(f"{path}: invalid length field ({size} bytes) at byte {pos}; the file is damaged.")
    if pos + 1 + size > len(data):
        raise ValidationError(f"{path}: truncated inside a length field at byte {pos}.")
    value = int.from_bytes(data[pos + 1 : pos + 1 + size], "little")
    return value, pos + 1 + size


def _check_chunk(data: bytes, tag: int, pos: int, end: int, streams: dict[int, tuple[int, int]], path: Path) -> None:
    if tag in (1, 5):
        return
    if end - pos < 4:
        raise ValidationError(f"{path}: {TAGS[tag]} chunk at byte {pos} is too short for a stream id.")
    stream_id = struct.unpack_from("<I", data, pos)[0]
    if tag == 2:
        streams[stream_id] = _stream_header(data[pos + 4 : end], stream_id, path)
        return
    if stream_id not in streams:
        raise ValidationError(f"{path}: {TAGS[tag]} for stream {stream_id} comes before its StreamHeader.")
    if tag == 3:
        n_samples, values = _varlen(data, pos + 4, path)
        n_channels, value_bytes = streams[stream_id]
        # every sample: a timestamp-size byte, then at least one byte (string) or value_bytes per channel
        if n_samples * (1 + n_channels * value_bytes) > end - values:
            raise ValidationError(
                f"{path}: a Samples chunk of stream {stream_id} announces {n_samples} samples but holds "
                f"{end - values} bytes; the file is damaged."
            )
        walk = _walk_strings if value_bytes == VALUE_BYTES["string"] else _walk_numeric
        if walk(data, values, n_samples, n_channels * value_bytes if walk is _walk_numeric else n_channels) != end:
            raise ValidationError(
                f"{path}: the {n_samples} samples of a Samples chunk of stream {stream_id} do not fill it exactly; "
                "the file is damaged."
            )


def _walk_numeric(data: bytes, pos: int, n_samples: int, value_bytes: int) -> int:
    """Return where ``n_samples`` numeric samples starting at ``pos`` end (-1 if a timestamp flag is not 0 or 8).

    pyxdf reads samples one after the other, so a wrong count misaligns every later chunk. Samples come in runs that
    all carry a timestamp (flag 8) or all omit it (flag 0); each run is checked at once with a strided view.
    """
    done = 0
    while done < n_samples:
        if pos >= len(data) or data[pos] not in (0, 8):
            return -1
        step = 1 + data[pos] + value_bytes
        window = min(n_samples - done, 4096, (len(data) - pos) // step)
        if window == 0:
            return -1
        flags = np.frombuffer(data, dtype=np.uint8, count=window * step, offset=pos)[::step]
        changed = np.flatnonzero(flags != data[pos])
        run = int(changed[0]) if changed.size else window
        pos += run * step
        done += run
    return pos


def _walk_strings(data: bytes, pos: int, n_samples: int, n_channels: int) -> int:
    """Return where ``n_samples`` string samples end (-1 if malformed); marker streams are short, read one by one."""
    for _ in range(n_samples):
        if pos >= len(data) or data[pos] not in (0, 8):
            return -1
        pos += 1 + data[pos]
        for _ in range(n_channels):
            if pos >= len(data) or data[pos] not in (1, 4, 8) or pos + 1 + data[pos] > len(data):
                return -1
            length = int.from_bytes(data[pos + 1 : pos + 1 + data[pos]], "little")
            pos += 1 + data[pos] + length
    return pos


def _stream_header(xml: bytes, stream_id: int, path: Path) -> tuple[int, int]:
    try:
        root = ET.fromstring(xml)  # noqa: S314 - see the import
    except ET.ParseError as err:
        raise ValidationError(f"{path}: the header of stream {stream_id} is not valid XML ({err}).") from err
    count_text = root.findtext("channel_count", "")
    channel_format = root.findtext("channel_format", "")
    if not count_text.strip().isdecimal() or not 1 <= int(count_text) <= MAX_CHANNELS:
        raise ValidationError(
            f"{path}: stream {stream_id} has channel_count {count_text!r}; expected 1-{MAX_CHANNELS}."
        )
    if channel_format not in VALUE_BYTES:
        raise ValidationError(
            f"{path}: stream {stream_id} has channel_format {channel_format!r}; known: {', '.join(VALUE_BYTES)}."
        )
    return int(count_text), VALUE_BYTES[channel_format]
