"""A minimal XDF 1.0 writer for tests: FileHeader, StreamHeader, Samples, ClockOffset and StreamFooter chunks.

XDF: the magic ``XDF:``, then chunks ``[n length bytes (1, 4 or 8)][length][uint16 tag][content]`` where the length
counts the tag and the content. Every sample carries its own 8-byte timestamp unless ``omit_timestamps``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

_NUMPY_FORMAT = {"float32": "<f4", "double64": "<f8", "int16": "<i2", "int32": "<i4"}


@dataclass
class XdfStream:
    """One LSL stream to write."""

    name: str
    type: str
    nominal_srate: float
    channel_format: str
    time_stamps: np.ndarray
    values: np.ndarray | list[str]
    labels: list[str] | None = None
    units: list[str] | None = None
    clock_offsets: list[tuple[float, float]] = field(default_factory=list)
    #: write a timestamp for the first sample only, as LabRecorder does for regular streams
    omit_timestamps: bool = False

    @property
    def channel_count(self) -> int:
        return (
            1
            if self.channel_format == "string"
            else np.asarray(self.values).reshape(len(self.time_stamps), -1).shape[1]
        )


def _varlen(value: int) -> bytes:
    if value < 256:
        return bytes([1, value])
    if value < 2**32:
        return bytes([4]) + struct.pack("<I", value)
    return bytes([8]) + struct.pack("<Q", value)


def _chunk(tag: int, content: bytes) -> bytes:
    return _varlen(len(content) + 2) + struct.pack("<H", tag) + content


def _header_xml(stream: XdfStream) -> bytes:
    channels = ""
    if stream.labels is not None:
        units = stream.units or [""] * len(stream.labels)
        channels = (
            "<desc><channels>"
            + "".join(
                f"<channel><label>{escape(label)}</label><unit>{escape(unit)}</unit></channel>"
                for label, unit in zip(stream.labels, units, strict=True)
            )
            + "</channels></desc>"
        )
    return (
        f'<?xml version="1.0"?><info><name>{escape(stream.name)}</name><type>{escape(stream.type)}</type>'
        f"<channel_count>{stream.channel_count}</channel_count><nominal_srate>{stream.nominal_srate}</nominal_srate>"
        f"<channel_format>{stream.channel_format}</channel_format><created_at>0</created_at>{channels}</info>"
    ).encode()


def _samples(stream: XdfStream) -> bytes:
    out = [_varlen(len(stream.time_stamps))]
    if stream.channel_format == "string":
        for time_s, text in zip(stream.time_stamps, stream.values, strict=True):
            encoded = str(text).encode()
            out.append(b"\x08" + struct.pack("<d", time_s) + _varlen(len(encoded)) + encoded)
        return b"".join(out)
    values = np.asarray(stream.values).reshape(len(stream.time_stamps), -1).astype(_NUMPY_FORMAT[stream.channel_format])
    for i, (time_s, row) in enumerate(zip(stream.time_stamps, values, strict=True)):
        stamp = b"\x00" if stream.omit_timestamps and i else b"\x08" + struct.pack("<d", time_s)
        out.append(stamp + row.tobytes())
    return b"".join(out)


def write_xdf(path: Path, streams: list[XdfStream]) -> Path:
    """Write ``streams`` to ``path`` as XDF 1.0; return the path."""
    parts = [b"XDF:", _chunk(1, b'<?xml version="1.0"?><info><version>1.0</version></info>')]
    for stream_id, stream in enumerate(streams, start=1):
        sid = struct.pack("<I", stream_id)
        parts.append(_chunk(2, sid + _header_xml(stream)))
        parts.append(_chunk(3, sid + _samples(stream)))
        for collected_s, offset_s in stream.clock_offsets:
            parts.append(_chunk(4, sid + struct.pack("<dd", collected_s, offset_s)))
    for stream_id, stream in enumerate(streams, start=1):
        footer = (
            f'<?xml version="1.0"?><info><first_timestamp>{stream.time_stamps[0]}</first_timestamp>'
            f"<last_timestamp>{stream.time_stamps[-1]}</last_timestamp>"
            f"<sample_count>{len(stream.time_stamps)}</sample_count></info>"
        )
        parts.append(_chunk(6, struct.pack("<I", stream_id) + footer.encode()))
    path.write_bytes(b"".join(parts))
    return path
