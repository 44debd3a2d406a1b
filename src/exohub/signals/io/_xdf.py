"""XDF files written by Lab Streaming Layer recorders (LabRecorder): one Recording stream per LSL stream."""

from __future__ import annotations

import struct
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.channels import parse_channel
from exohub.signals.consts import TIME_COLUMN, UNNAMED_EMG_PREFIX
from exohub.signals.io._errors import check_file, reading
from exohub.signals.io._event_text import gait_events
from exohub.signals.io._names import emg_name
from exohub.signals.io._units import scale_to_si
from exohub.signals.io._xdf_structure import check_xdf_structure
from exohub.signals.recording import Recording, check_time

#: What pyxdf raises on content that passed the structural check but is still wrong (bad numbers, bad XML text).
_PYXDF_ERRORS = (struct.error, ET.ParseError, ArithmeticError, TypeError, AttributeError, np.linalg.LinAlgError)


def read_xdf(path: str | Path, *, channel_map: Mapping[str, str | None] | None = None) -> Recording:
    """Read an XDF file: each numeric LSL stream becomes one stream of the Recording, on its own clock.

    Parameters
    ----------
    path
        An ``.xdf`` file, or a gzip-compressed ``.xdfz``. Its chunk structure is checked first, so a truncated or
        damaged file raises a ``ValidationError`` instead of being partly read.
    channel_map
        Channel label -> convention name, overriding the rules below; ``None`` drops the channel without a warning.

    Returns
    -------
    Recording
        One stream per numeric LSL stream, with pyxdf's clock synchronisation and de-jittering applied, and
        ``time_s`` counted from the earliest sample of any stream (numeric or marker). Marker (string) streams
        become reference events where the marker is a gait event (``left_initial_contact``, ``Right Foot Off``,
        ``HS L``, see :func:`~exohub.signals.io._event_text.parse_gait_event`); other markers are reported in an
        ``ExohubWarning``.

    Notes
    -----
    Channel names come from the stream's ``desc/channels/channel/label``: a label that already follows the
    convention is kept and its ``unit`` converted to the convention's unit; in a stream of type ``EMG``, labels
    such as ``L TA`` map through :data:`~exohub.signals.io._names.MUSCLE_ABBREVIATIONS`, and unlabelled or unknown
    ones are named ``channel_<n>_emg`` (n counts the file's EMG channels from 1), with a warning. Channels of other
    types that have no convention name are not read, with a warning. A stream's timestamps must increase strictly.
    """
    path = check_file(path)
    channel_map = dict(channel_map or {})
    with reading(path, "XDF"):
        check_xdf_structure(path)
        import pyxdf

        try:
            xdf_streams, _ = pyxdf.load_xdf(str(path))
        except _PYXDF_ERRORS as err:
            raise ValidationError(f"not a readable XDF file ({type(err).__name__}: {err}).") from err
        numeric = [s for s in xdf_streams if _format(s) != "string" and len(s["time_stamps"])]
        markers = [s for s in xdf_streams if _format(s) == "string" and len(s["time_stamps"])]
        empty = [_name(s) for s in xdf_streams if not len(s["time_stamps"])]
        firsts = [float(s["time_stamps"][0]) for s in (*numeric, *markers)]
        if not numeric:
            raise ValidationError("no numeric stream with samples; nothing to read.")
        start_s = min(firsts)
        notes: list[str] = [f"stream {name!r} has no samples" for name in empty]
        counter = _EmgCounter()
        streams = [_stream(s, start_s, channel_map, counter, notes) for s in numeric]
        streams = [stream for stream in streams if stream is not None]
        if not streams:
            raise ValidationError("no channel has a name in the convention; pass channel_map.")
        events = _events(markers, start_s, notes)
        if notes:
            warnings.warn(f"{path}: " + "; ".join(notes) + ".", ExohubWarning, stacklevel=2)
        return Recording(streams, {"source": path.name}, events=events)


class _EmgCounter:
    """Numbers the file's generically named EMG channels 1, 2, ... across streams."""

    def __init__(self) -> None:
        self.n = 0

    def next_name(self) -> str:
        self.n += 1
        return f"{UNNAMED_EMG_PREFIX}{self.n}_emg"


def _first(info: dict[str, Any], key: str, default: str = "") -> str:
    value = info.get(key) or [default]
    return str(value[0]) if value[0] is not None else default


def _name(stream: dict[str, Any]) -> str:
    return _first(stream["info"], "name", "?")


def _format(stream: dict[str, Any]) -> str:
    return _first(stream["info"], "channel_format")


def _channel_specs(stream: dict[str, Any], n_channels: int) -> list[tuple[str, str]]:
    """(label, unit) per channel from ``desc/channels``; empty strings where the header does not say."""
    desc = (stream["info"].get("desc") or [None])[0]
    channels: list[dict[str, Any]] = []
    if isinstance(desc, dict):
        groups = desc.get("channels") or [None]
        if isinstance(groups[0], dict):
            channels = [c for c in groups[0].get("channel") or [] if isinstance(c, dict)]
    specs = [(_first(c, "label").strip(), _first(c, "unit").strip()) for c in channels[:n_channels]]
    return specs + [("", "")] * (n_channels - len(specs))


def _stream(
    stream: dict[str, Any],
    start_s: float,
    channel_map: dict[str, str | None],
    counter: _EmgCounter,
    notes: list[str],
) -> pd.DataFrame | None:
    stream_name = _name(stream)
    with np.errstate(invalid="ignore"):  # a signalling NaN in float32 data warns when cast; it stays NaN
        values = np.asarray(stream["time_series"], dtype=np.float64)
    values = values.reshape(len(values), -1)
    time_s = np.asarray(stream["time_stamps"], dtype=np.float64) - start_s
    check_time(time_s, where=f"stream {stream_name!r}")
    is_emg = _first(stream["info"], "type").strip().lower() == "emg"
    columns: dict[str, np.ndarray] = {}
    generic, dropped = [], []
    for i, (label, unit) in enumerate(_channel_specs(stream, values.shape[1])):
        name = _channel_name(label, unit, is_emg, channel_map)
        if name is None and is_emg and label not in channel_map:
            name = counter.next_name()
            generic.append(f"{label or i + 1}->{name}")
        if name is None:
            if label not in channel_map:
                dropped.append(label or f"#{i + 1}")
            continue
        if name in columns:
            raise ValidationError(f"stream {stream_name!r}: two channels map to {name!r}; use channel_map.")
        quantity = parse_channel(name).quantity
        columns[name] = scale_to_si(values[:, i], unit or ("V" if quantity == "emg" else unit), quantity, label)
    if generic:
        notes.append(f"EMG channels of stream {stream_name!r} have no muscle name: {', '.join(generic)}")
    if dropped:
        notes.append(f"channels of stream {stream_name!r} have no convention name and were not read: {dropped}")
    if not columns:
        return None
    return pd.DataFrame(columns, index=pd.Index(time_s, name=TIME_COLUMN))


def _channel_name(label: str, unit: str, is_emg: bool, channel_map: dict[str, str | None]) -> str | None:
    if label in channel_map:
        return channel_map[label]
    if label:
        try:
            return parse_channel(label).name
        except ValidationError:
            pass
    if is_emg and label:
        return emg_name(label, unit or "V", "EMG", numbered=False)
    return None


def _events(markers: list[dict[str, Any]], start_s: float, notes: list[str]) -> pd.DataFrame:
    texts, times = [], []
    for stream in markers:
        for sample, time_s in zip(stream["time_series"], stream["time_stamps"], strict=True):
            texts.append(str(sample[0]) if len(sample) else "")
            times.append(float(time_s) - start_s)
    events, other = gait_events(texts, times)
    if other:
        notes.append(f"{len(other)} markers are not gait events and were not read (e.g. {sorted(set(other))[:5]})")
    return events
