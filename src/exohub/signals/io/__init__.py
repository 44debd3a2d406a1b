"""Read and write recordings: the CSV convention, Parquet, C3D, XDF, EDF/BDF, and the public data sets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from exohub.exceptions import ValidationError
from exohub.signals.io._c3d import read_c3d
from exohub.signals.io._csv import read_csv, write_csv
from exohub.signals.io._edf import read_edf, write_edf
from exohub.signals.io._parquet import read_parquet, write_parquet
from exohub.signals.io._xdf import read_xdf
from exohub.signals.recording import Recording

__all__ = [
    "read_c3d",
    "read_csv",
    "read_edf",
    "read_parquet",
    "read_recording",
    "read_xdf",
    "readable_suffixes",
    "write_csv",
    "write_edf",
    "write_parquet",
    "write_recording",
]

_READERS: dict[str, Callable[[Path], Recording]] = {
    ".csv": read_csv,
    ".parquet": read_parquet,
    ".c3d": read_c3d,
    ".xdf": read_xdf,
    ".xdfz": read_xdf,
    ".edf": read_edf,
    ".bdf": read_edf,
}
_WRITERS: dict[str, Callable[[Recording, Path], Path]] = {
    ".csv": write_csv,
    ".parquet": write_parquet,
    ".edf": write_edf,
    ".bdf": write_edf,
}


def register_reader(suffix: str, reader: Callable[[Path], Recording]) -> None:
    """Make :func:`read_recording` read files ending in ``suffix`` with ``reader``."""
    _READERS[suffix.lower()] = reader


def readable_suffixes() -> tuple[str, ...]:
    """The file suffixes :func:`read_recording` reads (``.csv``, ``.parquet``, ``.c3d``...), sorted."""
    return tuple(sorted(_READERS))


def read_recording(path: str | Path) -> Recording:
    """Read a recording in any supported format, chosen by the file's suffix."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise ValidationError(
            f"{path}: unknown recording format {path.suffix!r}; supported: {', '.join(sorted(_READERS))}."
        )
    return reader(path)


def write_recording(recording: Recording, path: str | Path) -> Path:
    """Write ``recording`` in the format its suffix names: ``.csv``, ``.parquet``, ``.edf`` (EDF+) or ``.bdf``.

    CSV and Parquet read back exactly; EDF and BDF within half a digital step per channel, and only for regularly
    sampled streams without missing samples (see :func:`write_edf`).
    """
    path = Path(path)
    writer = _WRITERS.get(path.suffix.lower())
    if writer is None:
        raise ValidationError(f"{path}: cannot write {path.suffix!r}; writable: {', '.join(sorted(_WRITERS))}.")
    return writer(recording, path)
