"""A pure-Python check of a C3D file's layout, run before ezc3d reads it.

ezc3d trusts the header and the parameter section: a truncated file silently loses frames, and some damaged
parameter records can make the C++ reader read past its buffers. :func:`check_c3d_structure` walks the header and
every parameter record, checks that each block count, pointer, dimension and the data section fit inside the file,
and raises a ``ValidationError`` otherwise.

Layout (C3D user guide, "The C3D file format"): 512-byte blocks; block 1 is the header (words: parameter block
number, point count, analog samples per frame, first and last frame, max gap, scale, data start block, analog
samples per channel per frame, frame rate); the parameter section starts at the block the header names with a
4-byte preamble (byte 2: number of parameter blocks, byte 3: processor type 84 Intel, 85 DEC, 86 MIPS) followed by
group and parameter records chained by 16-bit offsets.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from math import prod
from pathlib import Path

from exohub.exceptions import ValidationError

BLOCK_BYTES = 512
PARAMETER_MAGIC = 0x50
PROCESSORS = {84: "<", 85: "<", 86: ">"}
#: parameter data type code -> bytes per element (-1 is a character)
TYPE_BYTES = {-1: 1, 1: 1, 2: 2, 4: 4}
MAX_DIMENSIONS = 7


@dataclass(frozen=True, slots=True)
class C3DLayout:
    """What the structural check learnt: enough to check ezc3d's output against the file."""

    n_points: int
    n_analog_channels: int
    analog_per_frame: int
    n_frames: int


def check_c3d_structure(path: Path) -> C3DLayout:
    """Raise a ``ValidationError`` unless the header, parameter section and data section of ``path`` fit the file."""
    data = path.read_bytes()
    size = len(data)
    if size < 2 * BLOCK_BYTES:
        raise ValidationError(f"{path}: {size} bytes is too short for a C3D file (header and parameter blocks).")
    if data[1] != PARAMETER_MAGIC:
        raise ValidationError(f"{path}: not a C3D file (byte 2 is {data[1]:#04x}, expected 0x50).")
    parameter_block = data[0]
    start = (parameter_block - 1) * BLOCK_BYTES
    if parameter_block < 2 or start + 4 > size:
        raise ValidationError(f"{path}: the header points to parameter block {parameter_block}, outside the file.")
    processor = data[start + 3]
    if processor not in PROCESSORS:
        raise ValidationError(f"{path}: unknown processor type {processor} (expected 84, 85 or 86); file damaged.")
    endian = PROCESSORS[processor]
    end = start + data[start + 2] * BLOCK_BYTES
    if data[start + 2] == 0 or end > size:
        raise ValidationError(
            f"{path}: the parameter section claims {data[start + 2]} blocks; the file is truncated or damaged."
        )
    if data[start] == 0:
        raise ValidationError(f"{path}: the parameter section's first record offset is 0; file damaged.")
    parameters = _walk_parameters(data, start + 3 + data[start], end, endian, path)
    return _check_data_section(data, parameters, endian, path)


def _walk_parameters(
    data: bytes, pos: int, end: int, endian: str, path: Path
) -> dict[tuple[str, str], tuple[int, int]]:
    """Check every record of the parameter section; return each parameter's first integer value and value count.

    Each record must fit in the slot its offset gives it (a damaged type, dimension count or group id shows as a
    record larger than its slot). Group ids must run 1..n (ezc3d indexes groups by id) with unique names, and
    parameter names must be unique in their group.
    """
    groups: dict[int, str] = {}
    values: dict[tuple[int, str], tuple[int, int]] = {}
    while pos + 2 <= end:
        n_chars = abs(struct.unpack_from("b", data, pos)[0])
        group_id = struct.unpack_from("b", data, pos + 1)[0]
        if n_chars == 0 or group_id == 0:
            break
        name_end = pos + 2 + n_chars
        if name_end + 2 > end:
            raise ValidationError(f"{path}: a parameter record runs past the parameter section at byte {pos}.")
        raw_name = data[pos + 2 : name_end]
        if not raw_name.isascii() or not raw_name.decode("ascii").isprintable():
            raise ValidationError(f"{path}: record name {raw_name!r} at byte {pos} is not printable ASCII; damaged.")
        name = raw_name.decode("ascii").upper()
        offset = struct.unpack_from(f"{endian}h", data, name_end)[0]
        next_pos = name_end + offset if offset else end
        if offset < 0 or next_pos <= name_end + 2 or next_pos > end:
            raise ValidationError(f"{path}: record {name!r} points to the next record at {next_pos}, outside.")
        body = name_end + 2
        if group_id < 0:
            if -group_id in groups or name in groups.values():
                raise ValidationError(f"{path}: group {name!r} (id {-group_id}) is defined twice; file damaged.")
            groups[-group_id] = name
            _check_bytes(data, body, 1 + data[body], next_pos, path, name)
        else:
            if (group_id, name) in values:
                raise ValidationError(f"{path}: parameter {name!r} appears twice in group {group_id}; file damaged.")
            values[(group_id, name)] = _check_parameter(data, body, next_pos, endian, path, name)
        if offset == 0:
            break
        pos = next_pos
    if set(groups) != set(range(1, len(groups) + 1)):
        raise ValidationError(f"{path}: group ids {sorted(groups)} are not 1..{len(groups)}; file damaged.")
    missing = {group for group, _ in values} - set(groups)
    if missing:
        raise ValidationError(f"{path}: parameters refer to undefined groups {sorted(missing)}; file damaged.")
    return {(groups[group], name): value for (group, name), value in values.items()}


def _check_parameter(data: bytes, body: int, end: int, endian: str, path: Path, name: str) -> tuple[int, int]:
    """Check that one parameter's type, dimensions and data fit its slot; return its first value (or -1), count."""
    _check_bytes(data, body, 2, end, path, name)
    kind = struct.unpack_from("b", data, body)[0]
    if kind not in TYPE_BYTES:
        raise ValidationError(f"{path}: parameter {name!r} has unknown data type {kind}; file damaged.")
    n_dims = data[body + 1]
    if n_dims > MAX_DIMENSIONS:
        raise ValidationError(f"{path}: parameter {name!r} has {n_dims} dimensions (at most 7); file damaged.")
    _check_bytes(data, body + 2, n_dims, end, path, name)
    dims = data[body + 2 : body + 2 + n_dims]
    values_at = body + 2 + n_dims
    n_bytes = prod(dims) * TYPE_BYTES[kind]
    _check_bytes(data, values_at, n_bytes + 1, end, path, name)
    _check_bytes(data, values_at + n_bytes + 1, data[values_at + n_bytes], end, path, name)
    count = prod(dims[1:]) if kind == -1 else prod(dims)
    if kind == 2 and n_bytes >= 2:
        return struct.unpack_from(f"{endian}H", data, values_at)[0], count
    if kind == 1 and n_bytes >= 1:
        return data[values_at], count
    return -1, count


def _check_bytes(data: bytes, pos: int, count: int, end: int, path: Path, name: str) -> None:
    if pos + count > end:
        raise ValidationError(f"{path}: record {name!r} is longer than the space its offset leaves; file damaged.")


def _check_data_section(
    data: bytes, parameters: dict[tuple[str, str], tuple[int, int]], endian: str, path: Path
) -> C3DLayout:
    n_points, analog_per_frame, first, last = struct.unpack_from(f"{endian}4H", data, 2)
    data_block = struct.unpack_from(f"{endian}H", data, 16)[0]
    analog_ratio = struct.unpack_from(f"{endian}H", data, 18)[0]
    scale = _header_scale(data, endian)
    n_frames = last - first + 1
    if first == 0 or n_frames <= 0:
        raise ValidationError(f"{path}: the header's frames {first}-{last} are not a valid range; file damaged.")
    n_analog = analog_per_frame // analog_ratio if analog_ratio else 0
    if analog_per_frame and (analog_ratio == 0 or n_analog * analog_ratio != analog_per_frame):
        raise ValidationError(
            f"{path}: {analog_per_frame} analog samples per frame do not divide into {analog_ratio} per channel."
        )
    for key, header_value in ((("POINT", "USED"), n_points), (("ANALOG", "USED"), n_analog)):
        if parameters.get(key, (header_value, 1))[0] != header_value:
            raise ValidationError(
                f"{path}: the header says {header_value} but parameter {':'.join(key)} says {parameters[key][0]}; "
                "file damaged."
            )
    # ezc3d reads these without checking that they exist or are long enough
    needed_counts = {("ANALOG", "SCALE"): n_analog, ("ANALOG", "OFFSET"): n_analog, ("ANALOG", "GEN_SCALE"): 1}
    for key, count in needed_counts.items() if n_analog else ():
        if parameters.get(key, (0, 0))[1] < count:
            raise ValidationError(f"{path}: parameter {':'.join(key)} is missing or has fewer than {count} values.")
    item_bytes = 4 if scale < 0 else 2
    frame_bytes = (4 * n_points + analog_per_frame) * item_bytes
    needed = (data_block - 1) * BLOCK_BYTES + n_frames * frame_bytes
    parameter_end = (data[0] - 1 + data[(data[0] - 1) * BLOCK_BYTES + 2]) * BLOCK_BYTES
    if data_block < 2 or (data_block - 1) * BLOCK_BYTES < parameter_end:
        raise ValidationError(f"{path}: the data section starts at block {data_block}, inside the header/parameters.")
    if needed > len(data):
        raise ValidationError(
            f"{path}: truncated: {n_frames} frames of {frame_bytes} bytes need {needed} bytes, the file has "
            f"{len(data)}."
        )
    return C3DLayout(
        n_points=n_points, n_analog_channels=n_analog, analog_per_frame=analog_per_frame, n_frames=n_frames
    )


def _header_scale(data: bytes, endian: str) -> float:
    """Return the header's point scale; only its sign matters here (negative: float data, 4 bytes per item)."""
    raw = data[12:16]
    if data[(data[0] - 1) * BLOCK_BYTES + 3] == 85:  # DEC: 16-bit words swapped, same sign bit
        raw = raw[2:4] + raw[0:2]
    return struct.unpack(f"{endian}f", raw)[0]
