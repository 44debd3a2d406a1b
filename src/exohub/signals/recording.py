"""``Recording``: multi-modal, multi-rate sensor channels in one object, with metadata, events and labels."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal

from exohub.exceptions import ValidationError
from exohub.signals.channels import Channel, parse_channel
from exohub.signals.consts import EVENT_TYPES, SIDES, TIME_COLUMN
from exohub.signals.info import RecordingInfo

MIN_SAMPLING_RATE_HZ = 0.01
MAX_SAMPLING_RATE_HZ = 100_000.0
#: A sample period may vary by this fraction of the median period before the stream counts as irregular.
RATE_JITTER = 0.5

EVENT_COLUMNS = ("side", "event", "time_s")


def check_time(time_s: np.ndarray, *, where: str) -> None:
    """Raise a ``ValidationError`` unless ``time_s`` is finite and strictly increasing; ``where`` names the source."""
    if time_s.size == 0:
        raise ValidationError(f"{where}: no samples.")
    if not np.all(np.isfinite(time_s)):
        bad = int(np.flatnonzero(~np.isfinite(time_s))[0])
        raise ValidationError(f"{where}: time_s is not a finite number at sample {bad} ({float(time_s[bad])!r}).")
    steps = np.diff(time_s)
    if np.any(steps <= 0):
        bad = int(np.flatnonzero(steps <= 0)[0])
        kind = "duplicated" if steps[bad] == 0 else "goes backwards"
        raise ValidationError(
            f"{where}: time_s {kind} at sample {bad + 1} ({float(time_s[bad])!r} then {float(time_s[bad + 1])!r}); "
            "time must be strictly increasing."
        )


def nominal_rate_hz(time_s: np.ndarray, *, where: str) -> float:
    """Return the sampling rate from the median sample period, checking that it is plausible."""
    if time_s.size < 2:
        raise ValidationError(f"{where}: needs at least 2 samples to have a sampling rate, got {time_s.size}.")
    rate_hz = float(1.0 / np.median(np.diff(time_s)))
    if not MIN_SAMPLING_RATE_HZ <= rate_hz <= MAX_SAMPLING_RATE_HZ:
        raise ValidationError(
            f"{where}: sampling rate {rate_hz:.6g} Hz is outside {MIN_SAMPLING_RATE_HZ:g}-{MAX_SAMPLING_RATE_HZ:g} Hz; "
            "check that time_s is in seconds."
        )
    return round(rate_hz, 6)


def _check_stream(stream: pd.DataFrame, index: int) -> tuple[pd.DataFrame, float]:
    """Return the stream as float64 indexed by ``time_s`` (without copying what already is) and its rate."""
    where = f"stream {index}"
    if not isinstance(stream, pd.DataFrame):
        raise TypeError(f"{where} must be a pandas DataFrame indexed by time_s, got {type(stream).__name__}.")
    if stream.shape[1] == 0:
        raise ValidationError(f"{where} has no channels.")
    for name in stream.columns:
        parse_channel(name)
    time_s = np.asarray(stream.index, dtype=np.float64)
    check_time(time_s, where=where)
    rate_hz = nominal_rate_hz(time_s, where=where)
    # Column by column: a frame of separate column arrays (as read from Parquet) is never copied into one block.
    columns = {name: stream[name].to_numpy(dtype=np.float64, copy=False) for name in stream.columns}
    for name, values in columns.items():
        infinite = np.isinf(values)
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise ValidationError(
                f"{where}: channel {name!r} is infinite at time_s={float(time_s[row])!r}; "
                "mark missing samples as NaN instead."
            )
    if all(dtype == np.float64 for dtype in stream.dtypes) and stream.index.dtype == np.float64:
        return stream.rename_axis(TIME_COLUMN), rate_hz
    frame = pd.DataFrame(columns, index=pd.Index(time_s, name=TIME_COLUMN), copy=False)
    return frame, rate_hz


def _check_events(events: pd.DataFrame | None) -> pd.DataFrame:
    if events is None:
        return pd.DataFrame({"side": pd.Series(dtype=str), "event": pd.Series(dtype=str), "time_s": []})
    missing = set(EVENT_COLUMNS) - set(events.columns)
    if missing:
        raise ValidationError(f"events need the columns {list(EVENT_COLUMNS)}; missing {sorted(missing)}.")
    events = events.loc[:, list(EVENT_COLUMNS)].copy()
    bad_side = ~events["side"].isin(SIDES)
    bad_event = ~events["event"].isin(EVENT_TYPES)
    if bad_side.any() or bad_event.any():
        raise ValidationError(
            f"events: side must be one of {SIDES} and event one of {EVENT_TYPES}; "
            f"got {events.loc[bad_side | bad_event].iloc[0].to_dict()}."
        )
    events["time_s"] = events["time_s"].astype(np.float64)
    if not np.all(np.isfinite(events["time_s"].to_numpy())):
        raise ValidationError("events: every time_s must be a finite number.")
    return events.sort_values(["time_s", "side", "event"], kind="stable").reset_index(drop=True)


class Recording:
    """Sensor channels from one session, at one or several sampling rates, with metadata.

    Parameters
    ----------
    streams
        One DataFrame per sampling clock, each indexed by ``time_s`` (seconds, strictly increasing) with one
        column per channel named by the CSV recording convention (``left_shank_gyr_x``,
        ``right_tibialis_anterior_emg``), values in the convention's units. A channel appears in one stream only.
        Missing samples are NaN.
    info
        A :class:`~exohub.signals.info.RecordingInfo` or a mapping of its settable keys.
    events
        Reference gait events (annotated or from motion capture): columns ``side``, ``event``, ``time_s``.
    labels
        Per-sample labels that are not sensor data (reference ``left_phase``/``right_phase`` in [0, 1),
        ``locomotion_mode``), indexed by ``time_s``.

    Attributes
    ----------
    streams
        The validated streams (float64, index named ``time_s``).
    info
        The recording's metadata.
    events
        Reference events, sorted by time.
    labels
        Per-sample labels, or None.
    """

    def __init__(
        self,
        streams: Iterable[pd.DataFrame],
        info: RecordingInfo | dict[str, Any] | None = None,
        *,
        events: pd.DataFrame | None = None,
        labels: pd.DataFrame | None = None,
    ) -> None:
        checked = [_check_stream(stream, i) for i, stream in enumerate(streams)]
        self.streams: list[pd.DataFrame] = [stream for stream, _ in checked]
        self._rates_hz = [rate_hz for _, rate_hz in checked]
        if not self.streams:
            raise ValidationError("A recording needs at least one stream of channels.")
        self._stream_of: dict[str, int] = {}
        for i, stream in enumerate(self.streams):
            for name in stream.columns:
                if name in self._stream_of:
                    raise ValidationError(f"Channel {name!r} appears in more than one stream.")
                self._stream_of[name] = i
        info = info if isinstance(info, RecordingInfo) else RecordingInfo(**(info or {}))
        self.info = info.copy()
        self.info._bind(self._derived_info)
        self.events = _check_events(events)
        self.labels = None if labels is None else _check_stream_labels(labels)

    # --- what is in it -------------------------------------------------------------------------------------------
    @property
    def channels(self) -> list[str]:
        """All channel names, stream by stream."""
        return [name for stream in self.streams for name in stream.columns]

    def channel(self, name: str) -> Channel:
        """Return the parsed :class:`~exohub.signals.channels.Channel` called ``name``."""
        self.stream_index(name)
        return parse_channel(name)

    def sampling_rate_hz(self, name: str) -> float:
        """Return the nominal sampling rate of channel ``name`` (from the median sample period)."""
        return self._rates_hz[self.stream_index(name)]

    def pick(
        self, *, quantity: str | Sequence[str] | None = None, side: str | None = None, body_part: str | None = None
    ) -> list[str]:
        """Return the names of the channels that match every given criterion (e.g. ``quantity="emg"``)."""
        quantities = (quantity,) if isinstance(quantity, str) else quantity
        found = []
        for name in self.channels:
            spec = parse_channel(name)
            if quantities is not None and spec.quantity not in quantities:
                continue
            if side is not None and spec.side != side:
                continue
            if body_part is not None and spec.body_part != body_part:
                continue
            found.append(name)
        return found

    def get(self, names: Sequence[str]) -> pd.DataFrame:
        """Return the channels ``names`` as one DataFrame; they must share a stream (else :meth:`align` them)."""
        indices = {self.stream_index(name) for name in names}
        if len(indices) != 1:
            raise ValidationError(
                f"Channels {list(names)} come from streams with different clocks; use Recording.align() first."
            )
        return self.streams[indices.pop()].loc[:, list(names)]

    @property
    def start_s(self) -> float:
        """Time of the first sample of any stream."""
        return float(min(stream.index[0] for stream in self.streams))

    @property
    def end_s(self) -> float:
        """Time of the last sample of any stream."""
        return float(max(stream.index[-1] for stream in self.streams))

    @property
    def duration_s(self) -> float:
        """Time from the first to the last sample."""
        return self.end_s - self.start_s

    # --- new recordings from this one ----------------------------------------------------------------------------
    def crop(self, tmin_s: float | None = None, tmax_s: float | None = None) -> Recording:
        """Return the part of the recording with ``tmin_s <= time_s <= tmax_s`` (either bound may be None)."""
        lo = -np.inf if tmin_s is None else float(tmin_s)
        hi = np.inf if tmax_s is None else float(tmax_s)
        if not lo <= hi:
            raise ValueError(f"crop needs tmin_s <= tmax_s, got tmin_s={tmin_s!r} and tmax_s={tmax_s!r}.")
        streams = [stream.loc[(stream.index >= lo) & (stream.index <= hi)] for stream in self.streams]
        kept = [stream for stream in streams if len(stream) >= 2]
        if not kept:
            raise ValidationError(f"crop({tmin_s}, {tmax_s}) leaves no stream with 2 samples or more.")
        events = self.events[(self.events["time_s"] >= lo) & (self.events["time_s"] <= hi)]
        labels = None if self.labels is None else self.labels.loc[(self.labels.index >= lo) & (self.labels.index <= hi)]
        return self._replace(streams=kept, events=events, labels=labels)

    def drop(self, names: Sequence[str]) -> Recording:
        """Return the recording without the channels ``names``."""
        for name in names:
            self.stream_index(name)
        streams = [stream.drop(columns=[n for n in names if n in stream.columns]) for stream in self.streams]
        return self._replace(streams=[stream for stream in streams if stream.shape[1]])

    def add_channels(self, stream: pd.DataFrame) -> Recording:
        """Return the recording with ``stream`` (new channels on their own clock, indexed by ``time_s``) added."""
        return self._replace(streams=[*self.streams, stream])

    def align(
        self, sampling_rate_hz: float, names: Sequence[str] | None = None, *, tmin_s: float | None = None
    ) -> pd.DataFrame:
        """Return channels on one uniform clock at ``sampling_rate_hz``, over the time all of them cover.

        A stream faster than the target is low-pass filtered (zero-phase, cut-off at 0.4 x the target rate) before
        it is interpolated, so nothing aliases; slower streams are interpolated linearly. NaN gaps stay NaN.
        """
        if not MIN_SAMPLING_RATE_HZ <= sampling_rate_hz <= MAX_SAMPLING_RATE_HZ:
            raise ValueError(
                f"sampling_rate_hz must be in {MIN_SAMPLING_RATE_HZ}-{MAX_SAMPLING_RATE_HZ}, got {sampling_rate_hz!r}."
            )
        names = list(self.channels if names is None else names)
        by_stream: dict[int, list[str]] = {}
        for name in names:
            by_stream.setdefault(self.stream_index(name), []).append(name)
        start = max(self.streams[i].index[0] for i in by_stream) if tmin_s is None else float(tmin_s)
        end = min(self.streams[i].index[-1] for i in by_stream)
        if end <= start:
            raise ValidationError(f"Channels {names} share no common time span to align.")
        grid = start + np.arange(int(np.floor((end - start) * sampling_rate_hz + 1e-9)) + 1) / sampling_rate_hz
        columns: dict[str, np.ndarray] = {}
        for i, stream_names in by_stream.items():
            stream = self.streams[i]
            time_s = np.asarray(stream.index)
            values = stream.loc[:, stream_names].to_numpy()
            rate_hz = self._rates_hz[i]
            if rate_hz > sampling_rate_hz * 1.01:
                values = _anti_alias(values, rate_hz=rate_hz, target_hz=sampling_rate_hz)
            for j, name in enumerate(stream_names):
                columns[name] = np.interp(grid, time_s, values[:, j])
        frame = pd.DataFrame(columns, index=pd.Index(grid, name=TIME_COLUMN))
        return frame.loc[:, names]

    def resample(self, sampling_rate_hz: float) -> Recording:
        """Return the recording with every channel on one clock at ``sampling_rate_hz`` (see :meth:`align`)."""
        return self._replace(streams=[self.align(sampling_rate_hz)])

    def to_frame(self) -> pd.DataFrame:
        """Return all channels on the union of the streams' clocks; a channel is NaN where its stream has no sample.

        This is the layout of the CSV convention. It cannot tell a stream's own NaN from "no sample": the CSV and
        Parquet writers keep that distinction, this view does not.
        """
        if len(self.streams) == 1:
            return self.streams[0].copy()
        return pd.concat(self.streams, axis=1, sort=True).rename_axis(TIME_COLUMN)

    def stream_index(self, name: str) -> int:
        """Return the index in :attr:`streams` of the stream holding channel ``name``."""
        try:
            return self._stream_of[name]
        except KeyError:
            raise ValidationError(
                f"The recording has no channel {name!r}; it has {', '.join(self.channels)}."
            ) from None

    # --- internals -------------------------------------------------------------------------------------------------
    def _derived_info(self, key: str) -> Any:
        if key == "channels":
            return self.channels
        if key == "sampling_rates_hz":
            return {name: self.sampling_rate_hz(name) for name in self.channels}
        return self.duration_s

    def _replace(self, **changes: Any) -> Recording:
        values: dict[str, Any] = {
            "streams": self.streams,
            "info": self.info.copy(),
            "events": self.events,
            "labels": self.labels,
        }
        values.update(changes)
        return Recording(values.pop("streams"), values.pop("info"), **values)

    def __repr__(self) -> str:
        rates = sorted({round(self.sampling_rate_hz(stream.columns[0]), 3) for stream in self.streams})
        return (
            f"<Recording | {len(self.channels)} channels, {len(self.streams)} streams at {rates} Hz, "
            f"{self.duration_s:.1f} s, {len(self.events)} reference events>"
        )


def _check_stream_labels(labels: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(labels, pd.DataFrame):
        raise TypeError(f"labels must be a DataFrame indexed by time_s, got {type(labels).__name__}.")
    time_s = np.asarray(labels.index, dtype=np.float64)
    check_time(time_s, where="labels")
    return pd.DataFrame(
        labels.to_numpy(dtype=np.float64), index=pd.Index(time_s, name=TIME_COLUMN), columns=list(labels.columns)
    )


def _anti_alias(values: np.ndarray, *, rate_hz: float, target_hz: float) -> np.ndarray:
    """Zero-phase low-pass at 0.4 x ``target_hz``, NaN-safe (NaNs are bridged for filtering, then restored)."""
    nan = np.isnan(values)
    filled = values
    if nan.any():
        filled = pd.DataFrame(values).interpolate(limit_direction="both").fillna(0.0).to_numpy()
    sos = signal.butter(4, 0.4 * target_hz, btype="low", fs=rate_hz, output="sos")
    out = signal.sosfiltfilt(sos, filled, axis=0)
    out[nan] = np.nan
    return out
