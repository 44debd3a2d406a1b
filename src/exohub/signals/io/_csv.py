"""The CSV recording convention: ``time_s`` plus one column per channel; blank cells where a stream has no sample."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from exohub._utils import atomic_path
from exohub.exceptions import ValidationError
from exohub.signals.channels import parse_channel
from exohub.signals.consts import TIME_COLUMN
from exohub.signals.io._errors import check_file, reading
from exohub.signals.recording import Recording, check_time


def read_csv(path: str | Path) -> Recording:
    """Read a recording in the CSV convention.

    Parameters
    ----------
    path
        A CSV file with a ``time_s`` column (seconds, strictly increasing) and channels named
        ``<location>_<quantity>[_<axis>]``. A blank cell means "no sample at this time" (a slower channel); the
        text ``nan`` means a missing sample of a channel that was sampled then.

    Returns
    -------
    Recording
        One stream per set of channels sampled at the same instants.
    """
    path = check_file(path)
    with reading(path, "CSV"):
        n_columns = _check_header(path)
        _check_last_line(path, n_columns)
        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], low_memory=False)
        if TIME_COLUMN not in frame.columns:
            raise ValidationError(f"no {TIME_COLUMN!r} column; the header is {list(frame.columns)[:20]}.")
        channels = [name for name in frame.columns if name != TIME_COLUMN]
        if not channels:
            raise ValidationError("no channel columns besides time_s.")
        for name in channels:
            parse_channel(name)
        time_s = _numeric(frame[TIME_COLUMN], TIME_COLUMN).to_numpy()
        check_time(time_s, where=TIME_COLUMN)
        streams = _split_streams(frame, channels, time_s)
        return Recording(streams, {"source": path.name})


def _check_last_line(path: Path, n_columns: int, *, tail_bytes: int = 65536) -> None:
    """Refuse a file whose last line has fewer or more cells than the header: it was cut off (a broken upload)."""
    with path.open("rb") as file:
        file.seek(max(0, path.stat().st_size - tail_bytes))
        tail = file.read().decode("utf-8", errors="replace")
    lines = [line for line in tail.splitlines() if line.strip()]
    if len(lines) < 2:
        return  # header only, or one line longer than the tail: pandas' own checks apply
    cells = next(csv.reader([lines[-1]]), [])
    if len(cells) != n_columns:
        raise ValidationError(
            f"the last line has {len(cells)} cells where the header has {n_columns}: the file is cut off or damaged."
        )


def _check_header(path: Path) -> int:
    """Return the header's number of columns; refuse one that names a column twice (pandas would rename it)."""
    with path.open(newline="", encoding="utf-8") as file:
        try:
            names = [name.strip() for name in next(csv.reader(file), [])]
        except csv.Error as err:
            raise ValidationError(f"the header line is not CSV ({err}).") from err
    counts = Counter(names)
    duplicated = sorted(name for name, count in counts.items() if count > 1)
    if duplicated:
        raise ValidationError(f"columns appear more than once in the header: {duplicated}; rename or drop them.")
    return len(names)


def _numeric(column: pd.Series, name: str) -> pd.Series:
    if column.dtype.kind == "f" or column.dtype.kind in "iu":
        return column.astype(np.float64)
    converted = pd.to_numeric(column, errors="coerce")
    bad = converted.isna() & column.notna() & ~column.astype(str).str.strip().str.lower().isin(["nan"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationError(f"column {name!r}: {column.iloc[row]!r} in data row {row + 1} is not a number.")
    return converted.astype(np.float64)


def _split_streams(frame: pd.DataFrame, channels: list[str], time_s: np.ndarray) -> list[pd.DataFrame]:
    """Group channels sampled at the same rows (same blank-cell pattern) into one stream each."""
    groups: dict[bytes, list[str]] = {}
    present: dict[bytes, np.ndarray] = {}
    for name in channels:
        mask = frame[name].notna().to_numpy()
        if not mask.any():
            raise ValidationError(f"channel {name!r} has no sample at all.")
        key = np.packbits(mask).tobytes()
        groups.setdefault(key, []).append(name)
        present[key] = mask
    streams = []
    for key, names in groups.items():
        rows = present[key]
        values = {name: _numeric(frame.loc[rows, name], name).to_numpy() for name in names}
        streams.append(pd.DataFrame(values, index=pd.Index(time_s[rows], name=TIME_COLUMN)))
    return streams


def write_csv(recording: Recording, path: str | Path) -> Path:
    """Write ``recording`` in the CSV convention; :func:`read_csv` reads it back exactly (metadata aside).

    Values are written with the shortest text that reads back to the same float. The file is written to a temporary
    name first and renamed, so an existing file is never left half-written.
    """
    path = Path(path)
    frame = pd.concat([_stream_for_csv(stream) for stream in recording.streams], axis=1, sort=True).rename_axis(
        TIME_COLUMN
    )
    with atomic_path(path) as partial:
        frame.to_csv(partial, na_rep="", lineterminator="\n")
    return path


def _stream_for_csv(stream: pd.DataFrame) -> pd.DataFrame:
    """Keep a stream's own NaN distinguishable from the blank "no sample" cell once streams are merged."""
    if not stream.isna().to_numpy().any():
        return stream
    out = stream.astype(object)
    return out.where(stream.notna(), "nan")
