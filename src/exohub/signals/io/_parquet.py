"""The Parquet recording store: channels, labels, metadata and reference events in one file, read back exactly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from exohub._utils import atomic_path
from exohub.exceptions import ValidationError
from exohub.signals.consts import TIME_COLUMN
from exohub.signals.info import RecordingInfo
from exohub.signals.io._errors import check_file, reading
from exohub.signals.recording import Recording

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

METADATA_KEY = b"exohub.recording"
FORMAT_VERSION = 2
LABEL_PREFIX = "label:"
STREAM_COLUMN = "stream"
ROW_GROUP_ROWS = 1 << 20


def write_parquet(recording: Recording, path: str | Path) -> Path:
    """Write ``recording`` to a Parquet file that :func:`read_parquet` reads back exactly.

    The streams are stacked: the rows of stream 0, then those of stream 1, and so on (the ``stream`` column says
    which), so that each clock keeps its own ``time_s`` and no sample is stored twice. A channel is null in the rows
    of other streams; its own missing samples are NaN. Per-sample labels come last as stream -1, with columns
    ``label:<name>``. Every row group holds one stream only, so :func:`read_parquet` reads each stream's own
    columns from its own row groups and never materialises the other streams' nulls. The info and the reference
    events travel in the file's metadata. The file is written under a temporary name and renamed, so an existing
    file is never half-written.
    """
    import pyarrow as pa  # the storage format: loaded only when a recording is stored
    import pyarrow.parquet as pq

    path = Path(path)
    blocks = [(i, stream) for i, stream in enumerate(recording.streams)]
    if recording.labels is not None:
        blocks.append((-1, recording.labels.add_prefix(LABEL_PREFIX)))
    names = [name for _, frame in blocks for name in frame.columns]
    metadata = {
        "version": FORMAT_VERSION,
        "info": recording.info.to_json(),
        "streams": [list(stream.columns) for stream in recording.streams],
        "labels": None if recording.labels is None else list(recording.labels.columns),
        "events": recording.events.to_dict(orient="list"),
    }
    schema = pa.schema(
        [pa.field(STREAM_COLUMN, pa.int8()), pa.field(TIME_COLUMN, pa.float64())]
        + [pa.field(name, pa.float64()) for name in names],
        metadata={METADATA_KEY: json.dumps(metadata).encode()},
    )
    # Byte-stream split makes sensor floats compress well even with LZ4, which decodes about 8x faster than zstd
    # (1-hour session: 0.15 s against 1.2 s to read, 123 MB against 119 MB on disk).
    floats = [TIME_COLUMN, *names]
    with (
        atomic_path(path) as partial,
        pq.ParquetWriter(
            partial, schema, compression="lz4", use_dictionary=[STREAM_COLUMN], use_byte_stream_split=floats
        ) as writer,
    ):
        for i, frame in blocks:
            # Each stream in row groups of its own, so a reader takes a stream's columns without the others' nulls.
            n = len(frame)
            columns = {
                STREAM_COLUMN: pa.array(np.full(n, i, dtype=np.int8)),
                TIME_COLUMN: pa.array(frame.index.to_numpy(dtype=np.float64)),
            }
            for name in names:
                columns[name] = (
                    pa.array(frame[name].to_numpy(dtype=np.float64))
                    if name in frame.columns
                    else pa.nulls(n, pa.float64())
                )
            writer.write_table(pa.table(columns, schema=schema), row_group_size=ROW_GROUP_ROWS)
    return path


def read_parquet(path: str | Path) -> Recording:
    """Read a recording written by :func:`write_parquet`."""
    import pyarrow.parquet as pq

    path = check_file(path)
    with reading(path, "Parquet"):
        file = pq.ParquetFile(path)
        raw = (file.schema_arrow.metadata or {}).get(METADATA_KEY)
        if raw is None:
            raise ValidationError("not an exohub recording (no exohub.recording metadata); use read_csv for tables.")
        metadata: dict[str, Any] = json.loads(raw)
        if metadata.get("version") != FORMAT_VERSION:
            raise ValidationError(f"recording format version {metadata.get('version')!r} is not {FORMAT_VERSION}.")
        groups = _row_groups_by_stream(file)
        if groups is None:  # streams share row groups (files written before per-stream row groups): read it all
            table = file.read()
            stream_of_row = table.column(STREAM_COLUMN).to_numpy()

            def read_block(stream: int, columns: list[str]) -> pd.DataFrame:
                return _block(table, stream_of_row, stream, columns)

        else:

            def read_block(stream: int, columns: list[str]) -> pd.DataFrame:
                if stream not in groups:
                    raise ValidationError(f"stream {stream}: its rows are missing; the file is damaged.")
                return _frame(file.read_row_groups(groups[stream], columns=[TIME_COLUMN, *columns]), columns)

        streams = [read_block(i, names) for i, names in enumerate(metadata["streams"])]
        labels = None
        if metadata["labels"] is not None:
            labels = read_block(-1, [f"{LABEL_PREFIX}{name}" for name in metadata["labels"]])
            labels.columns = metadata["labels"]
        return Recording(
            streams,
            RecordingInfo.from_json(metadata["info"]),
            events=pd.DataFrame(metadata["events"]),
            labels=labels,
        )


def _row_groups_by_stream(file: pq.ParquetFile) -> dict[int, list[int]] | None:
    """Each stream's row groups, or None when a row group holds rows of several streams (or has no statistics)."""
    index = file.schema_arrow.get_field_index(STREAM_COLUMN)
    groups: dict[int, list[int]] = {}
    for group in range(file.metadata.num_row_groups):
        statistics = file.metadata.row_group(group).column(index).statistics
        if statistics is None or not statistics.has_min_max or statistics.min != statistics.max:
            return None
        groups.setdefault(int(statistics.min), []).append(group)
    return groups


def _block(table: pa.Table, stream_of_row: np.ndarray, stream: int, names: list[str]) -> pd.DataFrame:
    rows = np.flatnonzero(stream_of_row == stream)
    if rows.size == 0 or rows[-1] - rows[0] + 1 != rows.size:
        raise ValidationError(f"stream {stream}: its rows are missing or not contiguous; the file is damaged.")
    return _frame(table.slice(int(rows[0]), int(rows.size)), names)


def _frame(block: pa.Table, names: list[str]) -> pd.DataFrame:
    time_s = block.column(TIME_COLUMN).to_numpy()
    values = {name: block.column(name).to_numpy() for name in names}
    return pd.DataFrame(values, index=pd.Index(time_s, name=TIME_COLUMN), copy=False)
