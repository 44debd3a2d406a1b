"""C3D motion-capture files (Vicon, Qualisys, Motek): analog channels, model outputs and gait events."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from exohub._utils._checks import check_option
from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.channels import parse_channel
from exohub.signals.consts import AXES, SIDES, TIME_COLUMN
from exohub.signals.io._c3d_structure import C3DLayout, check_c3d_structure
from exohub.signals.io._errors import check_file, reading
from exohub.signals.io._names import emg_name
from exohub.signals.io._units import scale_to_si
from exohub.signals.recording import Recording

#: Plug-in-Gait model outputs -> convention stem (x/y/z appended). The model writes pelvis and thorax angles twice,
#: mirrored for the right side; the left copy is read, the right one is dropped as a duplicate.
_MODEL_OUTPUT = re.compile(
    r"^(?P<side>L|R)(?P<part>Hip|Knee|Ankle|FootProgress|Pelvis|Thorax)(?P<kind>Angles|Moment|Force)$"
)
_UNSIDED_PARTS = {"Pelvis": "pelvis", "Thorax": "trunk"}
_QUANTITY_OF_KIND = {"Angles": "angle", "Moment": "torque", "Force": "force"}
#: C3D EVENT labels -> event type of the convention.
C3D_EVENT_TYPES = {"foot strike": "initial_contact", "foot off": "final_contact"}
_CONTEXTS = {"left": "left", "right": "right"}
_FORCE_PLATE_AXES = ("x", "y", "z")


def read_c3d(
    path: str | Path,
    *,
    channel_map: Mapping[str, str | None] | None = None,
    force_plate_sides: Mapping[int, str] | None = None,
    unmapped: str = "warn",
) -> Recording:
    """Read a C3D file: analog channels at the analog rate, model outputs at the point rate, and gait events.

    Parameters
    ----------
    path
        A ``.c3d`` file. Its layout is checked in pure Python first (block counts, parameter records, data size),
        so a truncated or damaged file raises a ``ValidationError`` instead of reaching ezc3d.
    channel_map
        C3D label -> convention name, overriding the rules below; ``None`` drops the label without a warning. For
        a point (three components) give the name without the axis (``{"LHipMoment": "left_hip_torque"}``); for an
        analog channel the full name (``{"Voltage.3": "left_soleus_emg"}``).
    force_plate_sides
        Force plate number (1-based, the order of ``FORCE_PLATFORM:CHANNEL``) -> ``"left"`` or ``"right"``, for
        plates that one foot only touches (a split-belt treadmill). Their Fx, Fy, Fz become
        ``<side>_foot_force_x/y/z``; the plate moments have no channel in the convention and are dropped.
    unmapped
        ``"warn"`` (default): labels that get no name are listed in one ``ExohubWarning``; ``"ignore"``: they are
        dropped quietly, for callers that state what they keep (a data-set loader).

    Returns
    -------
    Recording
        One stream per rate: analog channels (EMG in V, forces in N) and point model outputs (angles in rad,
        moments in N*m, forces in N), each on its own clock with ``time_s`` counted from C3D frame 1. Events from
        the ``EVENT`` group (``Foot Strike``/``Foot Off`` with context ``Left``/``Right``) become
        ``initial_contact``/``final_contact`` reference events.

    Notes
    -----
    Names without a ``channel_map`` entry follow these rules:

    - EMG (an analog channel in volts): ``[prefix.]<L|R><abbreviation>`` such as ``Voltage.LTA`` maps through
      :data:`MUSCLE_ABBREVIATIONS`; an unnamed EMG-system channel whose label ends in a number ``n``
      (``Voltage.12`` with an ``EMG`` description) becomes ``channel_<n>_emg``.
    - Plug-in-Gait outputs ``<L|R><Hip|Knee|Ankle>Angles/Moment/Force`` become ``<side>_<joint>_angle/torque/force``;
      ``<L|R>FootProgressAngles`` ``<side>_foot_angle``; ``LPelvisAngles``, ``LThoraxAngles`` ``pelvis_angle``,
      ``trunk_angle`` (their right-side mirrors are dropped silently as duplicates).
    - Everything else (marker trajectories, powers, unnamed analog channels, unassigned force plates) is dropped
      with one ``ExohubWarning`` listing the labels.

    ezc3d has applied the ``ANALOG:SCALE``, ``OFFSET`` and ``GEN_SCALE`` factors; the units (``ANALOG:UNITS``,
    ``POINT:ANGLE_UNITS``, ``MOMENT_UNITS``, ``FORCE_UNITS``) are converted here to the convention's SI units
    (mV, uV -> V; deg -> rad; N*mm -> N*m). An unknown unit raises a ``ValidationError``. Missing samples (NaN in
    the file, or a point with a negative residual) stay NaN; an infinite value raises a ``ValidationError``.
    """
    path = check_file(path)
    check_option("unmapped", unmapped, ("warn", "ignore"))
    channel_map = dict(channel_map or {})
    sides = _check_force_plate_sides(force_plate_sides)
    with reading(path, "C3D"):
        layout = check_c3d_structure(path)
        import ezc3d

        c3d = ezc3d.c3d(str(path))
        parameters = c3d["parameters"]
        _check_shapes(c3d["data"], layout)
        dropped: list[str] = []
        streams = [
            stream
            for stream in (
                _point_stream(c3d, channel_map, dropped),
                _analog_stream(c3d, channel_map, sides, dropped),
            )
            if stream is not None
        ]
        if not streams:
            raise ValidationError("no channel of the file has a name in the convention; pass channel_map.")
        if dropped and unmapped == "warn":
            warnings.warn(
                f"{path}: {len(dropped)} C3D labels have no channel in the convention and were not read: "
                f"{', '.join(dropped[:12])}{', ...' if len(dropped) > 12 else ''}. Map them with "
                "channel_map={label: name}, or {label: None} to drop them without this warning.",
                ExohubWarning,
                stacklevel=2,
            )
        return Recording(streams, _info(path, parameters), events=_events(parameters, path))


def _check_force_plate_sides(sides: Mapping[int, str] | None) -> dict[int, str]:
    sides = dict(sides or {})
    for plate, side in sides.items():
        if isinstance(plate, bool) or not isinstance(plate, int) or plate < 1:
            raise ValueError(f"force_plate_sides keys must be plate numbers from 1, got {plate!r}.")
        if side not in SIDES:
            raise ValueError(f"force_plate_sides[{plate}] must be one of {SIDES}, got {side!r}.")
    if len(set(sides.values())) != len(sides):
        raise ValueError(f"force_plate_sides gives one side to several plates: {sides}.")
    return sides


def _param(parameters: dict[str, Any], group: str, name: str, default: Any = None) -> Any:
    try:
        return parameters[group][name]["value"]
    except KeyError:
        return default


def _check_shapes(data: dict[str, np.ndarray], layout: C3DLayout) -> None:
    points, analogs = data["points"], data["analogs"]
    n_samples = layout.n_frames * (layout.analog_per_frame // max(layout.n_analog_channels, 1))
    if points.shape[1:] != (layout.n_points, layout.n_frames if layout.n_points else points.shape[2]):
        raise ValidationError(f"ezc3d read points of shape {points.shape[1:]}, the header promises {layout}.")
    if layout.n_analog_channels and analogs.shape[1:] != (layout.n_analog_channels, n_samples):
        raise ValidationError(f"ezc3d read analogs of shape {analogs.shape[1:]}, the header promises {layout}.")


def _time_s(first_frame: int, n_samples: int, rate_hz: float, what: str) -> np.ndarray:
    if not np.isfinite(rate_hz) or rate_hz <= 0:
        raise ValidationError(f"the {what} rate is {rate_hz!r} Hz; it must be a positive number.")
    return (first_frame + np.arange(n_samples)) / rate_hz


def _point_stream(c3d: dict[str, Any], channel_map: dict[str, str | None], dropped: list[str]) -> pd.DataFrame | None:
    parameters = c3d["parameters"]
    labels = list(_param(parameters, "POINT", "LABELS", []))
    points = c3d["data"]["points"]
    if points.shape[1] == 0:
        return None
    if len(labels) < points.shape[1]:
        raise ValidationError(f"POINT:LABELS names {len(labels)} points, the data holds {points.shape[1]}.")
    units = {
        "angle": _first(_param(parameters, "POINT", "ANGLE_UNITS"), "deg"),
        "torque": _first(_param(parameters, "POINT", "MOMENT_UNITS"), "Nmm"),
        "force": _first(_param(parameters, "POINT", "FORCE_UNITS"), "N"),
    }
    default_unit = _first(_param(parameters, "POINT", "UNITS"), "mm")
    columns: dict[str, np.ndarray] = {}
    for i, label in enumerate(labels[: points.shape[1]]):
        label = label.strip()
        stem = channel_map[label] if label in channel_map else _point_stem(label)
        if stem is None:
            if label not in channel_map and not _is_mirror(label):
                dropped.append(label)
            continue
        quantity = parse_channel(f"{stem}_x").quantity
        unit = units.get(quantity, default_unit)
        for axis_index, axis in enumerate(AXES):
            columns[_unique(f"{stem}_{axis}", columns, label)] = scale_to_si(
                points[axis_index, i, :], unit, quantity, label
            )
    if not columns:
        return None
    header = c3d["header"]["points"]
    time_s = _time_s(header["first_frame"], points.shape[2], float(header["frame_rate"]), "point")
    return pd.DataFrame(columns, index=pd.Index(time_s, name=TIME_COLUMN))


def _point_stem(label: str) -> str | None:
    match = _MODEL_OUTPUT.match(label)
    if match is None:
        return None
    side = {"L": "left", "R": "right"}[match["side"]]
    part, quantity = match["part"], _QUANTITY_OF_KIND[match["kind"]]
    if part in _UNSIDED_PARTS:
        if quantity != "angle" or side != "left":
            return None
        return f"{_UNSIDED_PARTS[part]}_angle"
    if part == "FootProgress":
        return f"{side}_foot_angle" if quantity == "angle" else None
    return f"{side}_{part.lower()}_{quantity}"


def _is_mirror(label: str) -> bool:
    """The right-side copy of an unsided Plug-in-Gait angle (``RPelvisAngles``): a duplicate, not a loss."""
    match = _MODEL_OUTPUT.match(label)
    return match is not None and match["side"] == "R" and match["part"] in _UNSIDED_PARTS and match["kind"] == "Angles"


def _analog_stream(
    c3d: dict[str, Any], channel_map: dict[str, str | None], sides: dict[int, str], dropped: list[str]
) -> pd.DataFrame | None:
    parameters = c3d["parameters"]
    analogs = c3d["data"]["analogs"]
    if analogs.shape[1] == 0:
        return None
    n = analogs.shape[1]
    labels = [str(label).strip() for label in _param(parameters, "ANALOG", "LABELS", [])]
    if len(labels) < n:
        raise ValidationError(f"ANALOG:LABELS names {len(labels)} channels, the data holds {n}.")
    units = _padded(_param(parameters, "ANALOG", "UNITS", []), n)
    descriptions = _padded(_param(parameters, "ANALOG", "DESCRIPTIONS", []), n)
    plate_names = _force_plate_names(parameters, sides, n)
    columns: dict[str, np.ndarray] = {}
    for i, label in enumerate(labels[:n]):
        if label in channel_map:
            name = channel_map[label]
        elif i in plate_names:
            name = plate_names[i]
        else:
            name = emg_name(label, units[i], descriptions[i])
        if name is None:
            if label not in channel_map:
                dropped.append(label)
            continue
        quantity = parse_channel(name).quantity
        columns[_unique(name, columns, label)] = scale_to_si(analogs[0, i, :], units[i], quantity, label)
    if not columns:
        return None
    header = c3d["header"]["analogs"]
    time_s = _time_s(header["first_frame"], analogs.shape[2], float(header["frame_rate"]), "analog")
    return pd.DataFrame(columns, index=pd.Index(time_s, name=TIME_COLUMN))


def _force_plate_names(parameters: dict[str, Any], sides: dict[int, str], n_analog: int) -> dict[int, str | None]:
    """Analog index -> name for the channels of every force plate (None for a plate without a side, or a moment)."""
    channels = np.asarray(_param(parameters, "FORCE_PLATFORM", "CHANNEL", []), dtype=np.int64)
    n_plates = channels.shape[1] if channels.ndim == 2 else 0
    unknown = sorted(set(sides) - set(range(1, n_plates + 1)))
    if unknown:
        raise ValidationError(f"force_plate_sides names plates {unknown}; the file has {n_plates} force plates.")
    names: dict[int, str | None] = {}
    for plate in range(n_plates):
        side = sides.get(plate + 1)
        for row, channel in enumerate(channels[:, plate]):
            if not 1 <= channel <= n_analog:
                raise ValidationError(f"FORCE_PLATFORM:CHANNEL of plate {plate + 1} names analog {channel}.")
            is_force = row < len(_FORCE_PLATE_AXES)
            names[int(channel) - 1] = f"{side}_foot_force_{_FORCE_PLATE_AXES[row]}" if side and is_force else None
    return names


def _unique(name: str, columns: dict[str, np.ndarray], label: str) -> str:
    if name in columns:
        raise ValidationError(f"label {label!r} maps to {name!r}, which another label already took; use channel_map.")
    return name


def _first(value: Any, default: str) -> str:
    values = list(value) if value is not None else []
    return str(values[0]).strip() if values else default


def _padded(values: Any, n: int) -> list[str]:
    values = [str(value) for value in (values if values is not None else [])]
    return values + [""] * (n - len(values))


def _events(parameters: dict[str, Any], path: Path) -> pd.DataFrame:
    labels = [str(label).strip().lower() for label in _param(parameters, "EVENT", "LABELS", [])]
    contexts = [str(context).strip().lower() for context in _param(parameters, "EVENT", "CONTEXTS", [])]
    times = np.asarray(_param(parameters, "EVENT", "TIMES", np.zeros((2, 0))), dtype=np.float64)
    n = min(len(labels), len(contexts), times.shape[-1] if times.ndim == 2 else 0)
    if times.ndim != 2 or times.shape[0] != 2 or len({len(labels), len(contexts), times.shape[-1]}) != 1:
        if labels or contexts or times.size:
            raise ValidationError("EVENT:LABELS, CONTEXTS and TIMES (2 x n: minutes, seconds) do not match.")
        n = 0
    time_s = times[0, :n] * 60.0 + times[1, :n] if n else np.zeros(0)
    kept = [i for i in range(n) if labels[i] in C3D_EVENT_TYPES and contexts[i] in _CONTEXTS and np.isfinite(time_s[i])]
    if len(kept) < n:
        other = sorted({f"{contexts[i]} {labels[i]}" for i in range(n) if i not in kept})
        warnings.warn(
            f"{path}: {n - len(kept)} C3D events are not left/right foot strike or foot off and were not read: "
            f"{', '.join(other[:8])}.",
            ExohubWarning,
            stacklevel=3,
        )
    return pd.DataFrame(
        {
            "side": [_CONTEXTS[contexts[i]] for i in kept],
            "event": [C3D_EVENT_TYPES[labels[i]] for i in kept],
            "time_s": time_s[kept],
        }
    )


def _info(path: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """The file name as source; the body mass when the model stored one. Subject names are not copied (pseudonyms)."""
    info: dict[str, Any] = {"source": path.name}
    mass = np.asarray(_param(parameters, "PROCESSING", "Bodymass", []), dtype=np.float64).ravel()
    if mass.size and 2.0 <= mass[0] <= 400.0:
        info["body_mass_kg"] = float(mass[0])
    return info
