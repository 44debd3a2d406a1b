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


def _stream_header(xml: bytes, stream_id: int, path: Path) -> tuple[int, int]:
    try:
        root = ET.fromstring(xml)  # noqa: S314 - see the import
    except ET.ParseError as err:
        raise ValidationError(f"{path}: the header of stream {stream_id} is not valid XML ({err}).") from err
    count_text = root.findtext("channel_count", "")
    channel_format = root.findtext("channel_format", "")
    if not count_text.strip().isdigit() or not 1 <= int(count_text) <= MAX_CHANNELS:
        raise ValidationError(
            f"{path}: stream {stream_id} has channel_count {count_text!r}; expected 1-{MAX_CHANNELS}."
        )
    if channel_format not in VALUE_BYTES:
        raise ValidationError(
            f"{path}: stream {stream_id} has channel_format {channel_format!r}; known: {', '.join(VALUE_BYTES)}."
        )
    return int(count_text), VALUE_BYTES[channel_format]
