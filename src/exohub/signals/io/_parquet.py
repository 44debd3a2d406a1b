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

METADATA_KEY = b"exohub.recording"
FORMAT_VERSION = 2
LABEL_PREFIX = "label:"
STREAM_COLUMN = "stream"


def write_parquet(recording: Recording, path: str | Path) -> Path:
    """Write ``recording`` to a Parquet file that :func:`read_parquet` reads back exactly.

    The streams are stacked: the rows of stream 0, then those of stream 1, and so on (the ``stream`` column says
    which), so that each clock keeps its own ``time_s`` and no sample is stored twice. A channel is null in the rows
    of other streams; its own missing samples are NaN. Per-sample labels come last as stream -1, with columns
    ``label:<name>``. The info and the reference events travel in the file's metadata. The file is written under a
    temporary name and renamed, so an existing file is never half-written.
    """
    import pyarrow as pa  # the storage format: loaded only when a recording is stored
    import pyarrow.parquet as pq

    path = Path(path)
    blocks = [(i, stream) for i, stream in enumerate(recording.streams)]
    if recording.labels is not None:
        blocks.append((-1, recording.labels.add_prefix(LABEL_PREFIX)))
    lengths = [len(frame) for _, frame in blocks]
    total = sum(lengths)
    columns: dict[str, pa.ChunkedArray] = {
        STREAM_COLUMN: pa.chunked_array(
            [pa.array(np.full(n, i, dtype=np.int8)) for (i, _), n in zip(blocks, lengths, strict=True)]
        ),
        TIME_COLUMN: pa.chunked_array([pa.array(frame.index.to_numpy(dtype=np.float64)) for _, frame in blocks]),
    }
    offset = 0
    for (_, frame), n in zip(blocks, lengths, strict=True):
        for name in frame.columns:
            chunks = [pa.nulls(offset, pa.float64()), pa.array(frame[name].to_numpy(dtype=np.float64))]
            chunks.append(pa.nulls(total - offset - n, pa.float64()))
            columns[name] = pa.chunked_array(chunks, type=pa.float64())
        offset += n
    metadata = {
        "version": FORMAT_VERSION,
        "info": recording.info.to_json(),
        "streams": [list(stream.columns) for stream in recording.streams],
        "labels": None if recording.labels is None else list(recording.labels.columns),
        "events": recording.events.to_dict(orient="list"),
    }
    table = pa.table(columns).replace_schema_metadata({METADATA_KEY: json.dumps(metadata).encode()})
    # Byte-stream split makes sensor floats compress well even with LZ4, which decodes about 8x faster than zstd
    # (1-hour session: 0.15 s against 1.2 s to read, 123 MB against 119 MB on disk).
    floats = [name for name in table.column_names if name != STREAM_COLUMN]
    with atomic_path(path) as partial:
        pq.write_table(table, partial, compression="lz4", use_dictionary=[STREAM_COLUMN], use_byte_stream_split=floats)
    return path


def read_parquet(path: str | Path) -> Recording:
    """Read a recording written by :func:`write_parquet`."""
    import pyarrow.parquet as pq

    path = check_file(path)
    with reading(path, "Parquet"):
        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(METADATA_KEY)
        if raw is None:
            raise ValidationError("not an exohub recording (no exohub.recording metadata); use read_csv for tables.")
        metadata: dict[str, Any] = json.loads(raw)
        if metadata.get("version") != FORMAT_VERSION:
            raise ValidationError(f"recording format version {metadata.get('version')!r} is not {FORMAT_VERSION}.")
        stream_of_row = table.column(STREAM_COLUMN).to_numpy()
        streams = [_block(table, stream_of_row, i, names) for i, names in enumerate(metadata["streams"])]
        labels = None
        if metadata["labels"] is not None:
            labels = _block(table, stream_of_row, -1, [f"{LABEL_PREFIX}{name}" for name in metadata["labels"]])
            labels.columns = metadata["labels"]
        return Recording(
            streams,
            RecordingInfo.from_json(metadata["info"]),
            events=pd.DataFrame(metadata["events"]),
            labels=labels,
        )


def _block(table: pa.Table, stream_of_row: np.ndarray, stream: int, names: list[str]) -> pd.DataFrame:
    rows = np.flatnonzero(stream_of_row == stream)
    if rows.size == 0 or rows[-1] - rows[0] + 1 != rows.size:
        raise ValidationError(f"stream {stream}: its rows are missing or not contiguous; the file is damaged.")
    block = table.slice(int(rows[0]), int(rows.size))
    time_s = block.column(TIME_COLUMN).to_numpy()
    values = {name: block.column(name).to_numpy() for name in names}
    return pd.DataFrame(values, index=pd.Index(time_s, name=TIME_COLUMN), copy=False)
