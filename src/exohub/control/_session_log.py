"""The stored form of a control session: the per-tick log as a Recording, and its safety events read back.

:func:`session_recording` turns the log that :func:`~exohub.control.session.run_session` keeps into a
:class:`~exohub.signals.Recording` (its description lists every fault, warning and reset, one line each), and
:func:`find_safety_events` reads those events back from such a recording, also after a write/read round trip: the
line format is written and parsed here only. The names are imported from :mod:`exohub.control.session`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from exohub.control.profiles import DeviceProfile
from exohub.control.safety import FaultKind, SafetyEvent
from exohub.exceptions import ValidationError
from exohub.signals.consts import SIDES, TIME_COLUMN
from exohub.signals.info import MAX_TEXT_LENGTH
from exohub.signals.recording import Recording

#: The ``fault_code`` label: 0 while no fault is latched, else the latched fault's code.
FAULT_CODES: dict[str, int] = {kind.value: code for code, kind in enumerate(FaultKind, start=1)}
#: The cuff (skin-temperature sensor) of each joint: the segment below it.
CUFF_SEGMENT = {"hip": "thigh", "knee": "shank", "ankle": "foot"}


def session_recording(
    columns: Sequence[str],
    data: np.ndarray,
    events: Sequence[SafetyEvent],
    profile: DeviceProfile,
    *,
    mode: str = "",
    rate_hz: float = math.nan,
) -> Recording:
    """The session log as a :class:`~exohub.signals.Recording`.

    Channels (at the loop's rate): ``<joint>_angle``, ``<joint>_velocity``, ``<joint>_torque`` (applied) and
    ``<side>_<cuff segment>_skin_temp``; infinite readings are stored as NaN. Labels: ``<joint>_phase_estimate``,
    ``<joint>_torque_policy_nm`` (the policy's command, before the supervisor), ``<joint>_torque_command_nm``
    (what was sent), ``<joint>_motor_temp_c``, ``battery_temp_c``, ``sample_time_s``, ``link_time_s``,
    ``fault`` (1 while a fault is latched), ``fault_code`` (:data:`FAULT_CODES`), ``overrun`` (1 on a late tick),
    ``skin_warning`` and ``reset`` (1 on the tick of a skin-temperature warning or of a reset). The description
    lists every fault, warning and reset with its time, tick and detail.
    """
    if data.shape[0] < 2:
        raise ValidationError(f"a session needs at least 2 ticks to be stored, got {data.shape[0]}.")
    log = dict(zip(columns, data.T, strict=True))
    index = pd.Index(log["t_s"], name=TIME_COLUMN)
    channels: dict[str, np.ndarray] = {}
    for joint in profile.joint_names:
        side, name = joint.split("_", 1)
        channels[f"{joint}_angle"] = log[f"{joint}_angle_rad"]
        channels[f"{joint}_velocity"] = log[f"{joint}_velocity_rad_s"]
        channels[f"{joint}_torque"] = log[f"{joint}_applied_torque_nm"]
        channels[f"{side}_{CUFF_SEGMENT[name]}_skin_temp"] = log[f"{joint}_skin_temp_c"]
    stream = pd.DataFrame(channels, index=index).replace([np.inf, -np.inf], np.nan)
    labels: dict[str, np.ndarray] = {}
    for joint in profile.joint_names:
        labels[f"{joint}_phase_estimate"] = log[f"{joint}_phase"]
        labels[f"{joint}_torque_policy_nm"] = log[f"{joint}_policy_torque_nm"]
        labels[f"{joint}_torque_command_nm"] = log[f"{joint}_command_torque_nm"]
        labels[f"{joint}_motor_temp_c"] = log[f"{joint}_motor_temp_c"]
    for name in ("battery_temp_c", "sample_time_s", "link_time_s"):
        labels[name] = log[name]
    labels["fault"] = (log["fault_code"] > 0).astype(np.float64)
    labels["fault_code"] = log["fault_code"]
    labels["overrun"] = log["overrun"]
    times = log["t_s"]
    for label, kind in (("skin_warning", "skin_temperature_warning"), ("reset", "reset")):
        flags = np.zeros(times.size)
        at = [event.time_s for event in events if event.kind == kind]
        flags[np.clip(np.searchsorted(times, at), 0, times.size - 1)] = 1.0
        labels[label] = flags
    info = {
        "description": _describe(events, n_ticks=data.shape[0], rate_hz=rate_hz),
        "device": profile.name[:MAX_TEXT_LENGTH],
        "condition": mode,
        "source": "exohub control session",
        "phase_definition": "estimated phase: 0 = maximum hip flexion (late swing), stride-time estimate",
    }
    return Recording([stream], info, labels=pd.DataFrame(labels, index=index))


def _describe(events: Sequence[SafetyEvent], *, n_ticks: int, rate_hz: float) -> str:
    head = f"exohub control session: {n_ticks} ticks at {rate_hz:g} Hz; {len(events)} safety event(s)"
    lines = [head + ("." if not events else ":")]
    lines += [
        f"{e.kind} at {e.time_s:.4f} s (tick {e.tick}){'' if e.joint is None else ' ' + e.joint}: {e.detail}"
        for e in events
    ]
    text = "\n".join(lines)
    if len(text) <= MAX_TEXT_LENGTH:
        return text
    cut = text[: MAX_TEXT_LENGTH - 40].rsplit("\n", 1)[0]
    return f"{cut}\n... and more (see the fault labels)"


#: Columns of :func:`find_safety_events`.
SAFETY_EVENT_COLUMNS = ("time_s", "kind", "joint", "detail")
#: One line of the session description per event, as :func:`session_recording` writes it.
_EVENT_LINE = re.compile(
    r"^(?P<kind>[a-z_]+) at (?P<time_s>-?\d+(?:\.\d+)?) s \(tick (?P<tick>\d+)\)(?: (?P<joint>\S+))?: (?P<detail>.*)$"
)


def find_safety_events(recording: Recording) -> pd.DataFrame:
    """Return the safety events of a control session log: faults, skin-temperature warnings, resets, overruns.

    Parameters
    ----------
    recording
        A session as :func:`session_recording` stores it (also after a write/read round trip).

    Returns
    -------
    pandas.DataFrame
        One row per event, by time, with the columns of :data:`SAFETY_EVENT_COLUMNS`: ``time_s``; ``kind``, a
        :data:`FAULT_CODES` name (the tick a fault was latched: a rise of ``fault_code``, or a new code after a
        reset in the same tick), ``"skin_temperature_warning"``, ``"reset"`` or ``"overrun"`` (one row per run of
        consecutive late ticks, the count in ``detail``); ``joint`` (the joint concerned, or None); ``detail``
        (what was measured against which limit, or who reset, from the description's line for the event; empty
        when the description does not have it, e.g. cut short). For skin-temperature events without a joint, the
        joint of the hottest cuff at that tick. Empty, with those columns, for a recording that is not a session
        log (no ``fault_code`` label).
    """
    labels = recording.labels
    if labels is None or "fault_code" not in labels.columns:
        return _safety_frame([])
    time_s = labels.index.to_numpy(dtype=np.float64)
    code = np.nan_to_num(labels["fault_code"].to_numpy(dtype=np.float64))
    reset = _flag(labels, "reset")
    kinds = {value: kind for kind, value in FAULT_CODES.items()}
    # In one tick a reset comes before a new fault (the supervisor resets, then checks the tick).
    found = [(float(time_s[tick]), "reset") for tick in np.flatnonzero(reset)]
    previous = np.r_[0.0, code[:-1]]
    for tick in np.flatnonzero((code != 0) & ((code != previous) | reset)).tolist():
        found.append((float(time_s[tick]), kinds.get(code[tick], f"unknown fault code {code[tick]:g}")))
    found += [(float(time_s[t]), "skin_temperature_warning") for t in np.flatnonzero(_flag(labels, "skin_warning"))]
    described = _described_events(recording.info["description"])
    period_s = float(np.median(np.diff(time_s))) if time_s.size > 1 else 0.0
    rows = []
    for at_s, kind in found:
        joint, detail = _match_description(described, kind, at_s, tolerance_s=0.5 * period_s + 1e-4)
        if joint is None and kind in ("skin_temperature_warning", "skin_temperature"):
            joint = _hottest_cuff_joint(recording, at_s)
        rows.append((at_s, kind, joint, detail))
    overrun = _flag(labels, "overrun")
    starts = np.flatnonzero(overrun & ~np.r_[False, overrun[:-1]])
    ends = np.flatnonzero(overrun & ~np.r_[overrun[1:], False])
    for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
        n = last - first + 1
        detail = f"{n} late tick{'s' if n > 1 else ''} in a row, until {time_s[last]:.4f} s"
        rows.append((float(time_s[first]), "overrun", None, detail))
    return _safety_frame(sorted(rows, key=lambda row: row[0]))


def _flag(labels: pd.DataFrame, name: str) -> np.ndarray:
    if name not in labels.columns:
        return np.zeros(len(labels), dtype=bool)
    return np.nan_to_num(labels[name].to_numpy(dtype=np.float64)) > 0


def _described_events(description: str) -> list[tuple[str, float, str | None, str]]:
    """``(kind, time_s, joint, detail)`` of each event line of a session description."""
    events = []
    for line in description.splitlines():
        match = _EVENT_LINE.match(line)
        if match is not None:
            events.append((match["kind"], float(match["time_s"]), match["joint"], match["detail"]))
    return events


def _match_description(
    described: list[tuple[str, float, str | None, str]], kind: str, time_s: float, *, tolerance_s: float
) -> tuple[str | None, str]:
    for described_kind, described_s, joint, detail in described:
        if described_kind == kind and abs(described_s - time_s) <= tolerance_s:
            return joint, detail
    return None, ""


def _hottest_cuff_joint(recording: Recording, time_s: float) -> str | None:
    """The joint whose cuff (skin-temperature channel) was the hottest at ``time_s``, or None."""
    joint_of = {
        f"{side}_{segment}_skin_temp": f"{side}_{joint}" for joint, segment in CUFF_SEGMENT.items() for side in SIDES
    }
    names = [name for name in recording.pick(quantity="skin_temp") if name in joint_of]
    best, hottest_c = None, -math.inf
    for name in names:
        stream = recording.get([name])
        row = min(int(np.searchsorted(stream.index.to_numpy(), time_s)), len(stream) - 1)
        value = float(stream.iloc[row, 0])
        if value > hottest_c:  # NaN never is
            best, hottest_c = joint_of[name], value
    return best


def _safety_frame(rows: list[tuple[float, str, str | None, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(SAFETY_EVENT_COLUMNS))
    frame["time_s"] = frame["time_s"].astype(np.float64)
    frame["joint"] = frame["joint"].astype(object).where(frame["joint"].notna(), None)
    return frame.astype({"kind": object, "detail": object})
