"""EDF, EDF+ and BDF files: signals grouped into one stream per sampling rate, EDF+ annotations as gait events."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exohub._utils import atomic_path
from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.channels import parse_channel
from exohub.signals.consts import TIME_COLUMN
from exohub.signals.io._errors import check_file, reading
from exohub.signals.io._event_text import gait_events
from exohub.signals.io._names import MUSCLE_ABBREVIATIONS, emg_name
from exohub.signals.io._units import scale_to_si
from exohub.signals.recording import Recording

EDF_MAGIC = b"0       "
BDF_MAGIC = b"\xffBIOSEMI"
MAX_LABEL = 16
#: data-record durations tried, shortest first, until every rate gives a whole number of samples per record
RECORD_DURATIONS_S = (0.01, 0.02, 0.025, 0.05, 0.1, 0.125, 0.2, 0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 8.0, 10.0)
#: units written to the file, per quantity (EMG in µV, as EDF viewers expect; everything else in the convention's)
FILE_UNITS = {"emg": "uV", "switch": ""}
_SIDE_PREFIX = {"left_": "L_", "right_": "R_"}
_MUSCLE_CODE = {muscle: code for code, muscle in reversed(MUSCLE_ABBREVIATIONS.items())}


def read_edf(path: str | Path, *, channel_map: Mapping[str, str | None] | None = None) -> Recording:
    """Read an EDF, EDF+ or BDF file (chosen by the file's first bytes).

    Parameters
    ----------
    path
        An ``.edf`` or ``.bdf`` file.
    channel_map
        Signal label -> convention name, overriding the rules below; ``None`` drops the signal without a warning.

    Returns
    -------
    Recording
        One stream per sampling rate, ``time_s`` from 0 at the file's start. Physical units are converted to the
        convention's (uV, mV -> V; deg -> rad). EDF+ annotations that are gait events (``left_initial_contact``,
        ``Left Foot Strike``, ``HS L``) become reference events; others are reported in an ``ExohubWarning``.

    Notes
    -----
    A label is used as it is when it follows the convention, else with ``L_``/``R_`` expanded to ``left_``/
    ``right_`` (the short form :func:`write_edf` uses to fit EDF's 16 characters), else, for a signal in volts, as an
    EMG label such as ``EMG L TA`` (see :data:`~exohub.signals.io._names.MUSCLE_ABBREVIATIONS`). Other signals are not
    read, with a warning.
    """
    path = check_file(path)
    channel_map = dict(channel_map or {})
    with reading(path, "EDF/BDF"):
        with path.open("rb") as file:
            magic = file.read(8)
        if magic not in (EDF_MAGIC, BDF_MAGIC):
            raise ValidationError(f"not an EDF or BDF file (it starts with {magic!r}).")
        import edfio

        _check_edf_size(path, sample_bytes=3 if magic == BDF_MAGIC else 2)
        with warnings.catch_warnings():
            # edfio warns, then repairs, when the header and the data disagree: for us the file is damaged
            warnings.simplefilter("error")
            try:
                edf = edfio.read_bdf(path) if magic == BDF_MAGIC else edfio.read_edf(path, lazy_load_data=False)
            except Warning as warning:
                raise ValidationError(f"damaged EDF/BDF file: {warning}") from None
        by_rate: dict[float, dict[str, np.ndarray]] = {}
        dropped: list[str] = []
        for signal in edf.signals:
            label, unit = signal.label.strip(), signal.physical_dimension.strip()
            name = channel_map[label] if label in channel_map else _name_of_label(label, unit)
            if name is None:
                if label not in channel_map:
                    dropped.append(label)
                continue
            rate_hz = float(signal.sampling_frequency)
            columns = by_rate.setdefault(rate_hz, {})
            if any(name in stream for stream in by_rate.values()):
                raise ValidationError(f"two signals map to {name!r} (the second is {label!r}); use channel_map.")
            columns[name] = scale_to_si(signal.data, unit, parse_channel(name).quantity, label)
        if not by_rate:
            raise ValidationError("no signal has a name in the convention; pass channel_map.")
        streams = [_stream(columns, rate_hz) for rate_hz, columns in by_rate.items()]
        texts = [annotation.text for annotation in edf.annotations]
        events, other = gait_events(texts, [annotation.onset for annotation in edf.annotations])
        notes = [f"signals with no convention name were not read: {dropped}"] if dropped else []
        if other:
            notes.append(
                f"{len(other)} annotations are not gait events and were not read (e.g. {sorted(set(other))[:5]})"
            )
        if notes:
            warnings.warn(f"{path}: " + "; ".join(notes) + ".", ExohubWarning, stacklevel=2)
        return Recording(streams, {"source": path.name, "meas_date": _start(edf)}, events=events)


def _start(edf: Any) -> datetime | None:
    """The recording's start from the header, or None when it is anonymised (EDF+ "Startdate X") or unreadable.

    EDF states no time zone; the start is taken as UTC (a clinic's local time differs by at most 14 hours).
    """
    import edfio

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # edfio warns when the EDF+ and legacy dates differ; EDF+ wins
            start = datetime.combine(edf.startdate, edf.starttime)
    except (edfio.AnonymizedDateError, ValueError):
        return None
    return start.replace(tzinfo=UTC)


def _check_edf_size(path: Path, *, sample_bytes: int) -> None:
    """Refuse a file whose length is not what its header promises (edfio would drop the partial record quietly).

    The fixed header: 256 bytes, then 256 per signal; ``ns`` (number of signals) at bytes 252-256, the number of data
    records at 236-244 (-1: unknown), and each signal's samples per record in 8-byte fields after the first
    ``256 + 216 * ns`` bytes.
    """
    data = path.read_bytes()
    size = len(data)
    try:
        n_signals = int(data[252:256].decode("ascii"))
        n_records = int(data[236:244].decode("ascii"))
        start = 256 + 216 * n_signals
        per_record = [int(data[start + 8 * i : start + 8 * i + 8].decode("ascii")) for i in range(n_signals)]
    except (UnicodeDecodeError, ValueError) as err:
        raise ValidationError(f"the EDF header is damaged or truncated ({err}).") from err
    header_bytes = 256 * (n_signals + 1)
    record_bytes = sample_bytes * sum(per_record)
    if n_signals < 1 or min(per_record) < 1 or size < header_bytes:
        raise ValidationError(f"the EDF header is damaged or truncated ({n_signals} signals, {size} bytes).")
    expected = header_bytes + n_records * record_bytes if n_records >= 0 else size
    if size != expected or (size - header_bytes) % record_bytes:
        raise ValidationError(
            f"truncated or damaged: the header promises {n_records} data records of {record_bytes} bytes after "
            f"{header_bytes} header bytes ({expected} bytes); the file has {size}."
        )


def _stream(columns: dict[str, np.ndarray], rate_hz: float) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    return pd.DataFrame(columns, index=pd.Index(np.arange(n) / rate_hz, name=TIME_COLUMN))


def _name_of_label(label: str, unit: str) -> str | None:
    for candidate in (label, _expand(label)):
        try:
            return parse_channel(candidate).name
        except ValidationError:
            continue
    return emg_name(label, unit, "EMG", numbered=False)


def _expand(label: str) -> str:
    for long, short in _SIDE_PREFIX.items():
        if label.startswith(short):
            return long + label[len(short) :]
    return label


def edf_label(name: str) -> str:
    """Return the label :func:`write_edf` writes for channel ``name``.

    The name itself if it fits EDF's 16 characters, else a short form: ``R_knee_angle_x`` for
    ``right_knee_angle_x``, ``EMG RGAS`` for ``right_gastrocnemius_medialis_emg``.
    """
    if len(name) <= MAX_LABEL:
        return name
    channel = parse_channel(name)
    if channel.quantity == "emg" and channel.body_part in _MUSCLE_CODE:
        side = "" if channel.side is None else channel.side[0].upper()
        return f"EMG {side}{_MUSCLE_CODE[channel.body_part]}"
    for long, short in _SIDE_PREFIX.items():
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def write_edf(recording: Recording, path: str | Path) -> Path:
    """Write ``recording`` as EDF+ (``.edf``, 16-bit samples) or BDF (``.bdf``, 24-bit samples).

    Each channel is scaled to the digital range from its own minimum and maximum, so :func:`read_edf` gives back
    every sample within half a digital step, ``(physical_max - physical_min) / (digital_max - digital_min) / 2``:
    1/131070 of the channel's range in EDF, 1/33554430 in BDF. The reference events are written as EDF+
    annotations (BDF files carry none). Metadata other than the channel names is not written.

    Raises
    ------
    ValidationError
        If a channel has missing samples (EDF has no NaN), a stream is not regularly sampled, the streams start at
        different times, no data-record duration from :data:`RECORD_DURATIONS_S` holds a whole number of samples of
        every rate, or a channel's label does not fit 16 characters even in its short form (:func:`edf_label`).
    """
    path = Path(path)
    is_bdf = path.suffix.lower() == ".bdf"
    import edfio

    record_s = _record_duration(recording)
    n_records = _common_records(recording, record_s)
    signals = []
    for stream in recording.streams:
        rate_hz = 1.0 / float(np.median(np.diff(stream.index.to_numpy())))
        rate_hz = round(rate_hz, 6)
        n = round(n_records * record_s * rate_hz)
        for name in stream.columns:
            signals.append(_signal(edfio, name, stream[name].to_numpy()[:n], rate_hz, is_bdf))
    annotations = None
    if not is_bdf and len(recording.events):
        annotations = [
            edfio.EdfAnnotation(float(t) - recording.start_s, None, f"{side}_{event}")
            for side, event, t in recording.events.itertuples(index=False)
        ]
    kind: Any = edfio.Bdf if is_bdf else edfio.Edf
    start = recording.info["meas_date"]
    dated: dict[str, Any] = {}
    if start is not None:
        start = start.astimezone(UTC)
        dated = {"recording": edfio.Recording(startdate=start.date()), "starttime": start.time().replace(tzinfo=None)}
    edf = kind(signals, data_record_duration=record_s, **dated, **({"annotations": annotations} if annotations else {}))
    with atomic_path(path) as partial:
        edf.write(partial)
    return path


def _signal(edfio: Any, name: str, values: np.ndarray, rate_hz: float, is_bdf: bool) -> Any:
    label = edf_label(name)
    if len(label) > MAX_LABEL:
        raise ValidationError(f"channel {name!r}: EDF labels hold {MAX_LABEL} characters; {label!r} does not fit.")
    if not np.all(np.isfinite(values)):
        raise ValidationError(f"channel {name!r} has missing samples (NaN); EDF cannot store them.")
    quantity = parse_channel(name).quantity
    unit = FILE_UNITS.get(quantity, parse_channel(name).unit)
    values = values / scale_to_si(np.ones(1), unit, quantity, name)[0]
    low, high = float(values.min()), float(values.max())
    physical = (low, high) if high > low else (low - 1.0, low + 1.0)
    signal_class = edfio.BdfSignal if is_bdf else edfio.EdfSignal
    return signal_class(values, rate_hz, label=label, physical_dimension=unit, physical_range=physical)


def _record_duration(recording: Recording) -> float:
    rates = []
    for i, stream in enumerate(recording.streams):
        steps = np.diff(stream.index.to_numpy())
        period = float(np.median(steps))
        if np.max(np.abs(steps - period)) > 1e-3 * period:
            raise ValidationError(f"stream {i} ({stream.columns[0]}, ...) is not regularly sampled; EDF needs it.")
        rates.append(1.0 / period)
    for record_s in RECORD_DURATIONS_S:
        if all(abs(rate * record_s - round(rate * record_s)) < 1e-6 and round(rate * record_s) for rate in rates):
            return record_s
    raise ValidationError(f"sampling rates {sorted(set(rates))} Hz share no EDF data-record duration; resample.")


def _common_records(recording: Recording, record_s: float) -> int:
    starts = [float(stream.index[0]) for stream in recording.streams]
    if max(starts) - min(starts) > 1e-6:
        raise ValidationError(f"the streams start at different times {starts}; EDF signals share one start. Crop.")
    durations = [len(stream) * float(np.median(np.diff(stream.index.to_numpy()))) for stream in recording.streams]
    n_records = int(np.floor(min(durations) / record_s + 1e-6))
    if n_records == 0:
        raise ValidationError(f"the recording is shorter than one EDF data record ({record_s} s).")
    lost = max(durations) - n_records * record_s
    if lost > 1e-6:
        warnings.warn(
            f"EDF data records of {record_s} s cover {n_records * record_s:.6g} s; the last {lost:.6g} s of the "
            "longer streams are not written.",
            ExohubWarning,
            stacklevel=3,
        )
    return n_records
