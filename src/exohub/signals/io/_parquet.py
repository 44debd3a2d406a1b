"""The Parquet recording store: channels, labels, metadata and reference events in one file, read back exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from exohub.exceptions import ValidationError
from exohub.signals.consts import TIME_COLUMN
from exohub.signals.info import RecordingInfo
from exohub.signals.io._errors import check_file, reading
from exohub.signals.recording import Recording

METADATA_KEY = b"exohub.recording"
FORMAT_VERSION = 1
LABEL_PREFIX = "label:"


def write_parquet(recording: Recording, path: str | Path) -> Path:
    """Write ``recording`` to a Parquet file that :func:`read_parquet` reads back exactly.

    All streams share one table on the union of their clocks: a null cell means "no sample at this time", a NaN
    value is a missing sample. The info, the stream layout and the reference events travel in the file's
    metadata. The file is written under a temporary name and renamed, so an existing file is never half-written.
    """
    path = Path(path)
    tables = [*recording.streams]
    if recording.labels is not None:
        tables.append(recording.labels.add_prefix(LABEL_PREFIX))
    time_s = tables[0].index.to_numpy()
    for table in tables[1:]:
        time_s = np.union1d(time_s, table.index.to_numpy())
    columns: dict[str, pa.Array] = {TIME_COLUMN: pa.array(time_s, type=pa.float64())}
    for table in tables:
        rows = np.searchsorted(time_s, table.index.to_numpy())
        no_sample = np.ones(time_s.size, dtype=bool)
        no_sample[rows] = False
        for name in table.columns:
            values = np.zeros(time_s.size, dtype=np.float64)
            values[rows] = table[name].to_numpy()
            columns[name] = pa.array(values, mask=no_sample, type=pa.float64())
    metadata = {
        "version": FORMAT_VERSION,
        "info": recording.info.to_json(),
        "streams": [list(stream.columns) for stream in recording.streams],
        "labels": None if recording.labels is None else list(recording.labels.columns),
        "events": recording.events.to_dict(orient="list"),
    }
    table = pa.table(columns).replace_schema_metadata({METADATA_KEY: json.dumps(metadata).encode()})
    partial = path.with_name(f".{path.name}.partial")
    try:
        pq.write_table(table, partial, compression="zstd")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def read_parquet(path: str | Path) -> Recording:
    """Read a recording written by :func:`write_parquet`."""
    path = check_file(path)
    with reading(path, "Parquet"):
        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(METADATA_KEY)
        if raw is None:
            raise ValidationError("not an exohub recording (no exohub.recording metadata); use read_csv for tables.")
        metadata: dict[str, Any] = json.loads(raw)
        if metadata.get("version") != FORMAT_VERSION:
            raise ValidationError(f"recording format version {metadata.get('version')!r} is not {FORMAT_VERSION}.")
        time_s = table.column(TIME_COLUMN).to_numpy()
        streams = [_stream(table, names, time_s) for names in metadata["streams"]]
        labels = None
        if metadata["labels"] is not None:
            labels = _stream(table, [f"{LABEL_PREFIX}{n}" for n in metadata["labels"]], time_s)
            labels.columns = metadata["labels"]
        return Recording(
            streams,
            RecordingInfo.from_json(metadata["info"]),
            events=pd.DataFrame(metadata["events"]),
            labels=labels,
        )


def _stream(table: pa.Table, names: list[str], time_s: np.ndarray) -> pd.DataFrame:
    rows = table.column(names[0]).is_valid().to_numpy(zero_copy_only=False)
    values = {name: table.column(name).to_numpy()[rows] for name in names}
    return pd.DataFrame(values, index=pd.Index(time_s[rows], name=TIME_COLUMN))
