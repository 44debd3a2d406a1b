"""Parse and check channel names of the CSV recording convention (see :mod:`exohub.signals.consts`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from exohub.exceptions import ValidationError
from exohub.signals.consts import (
    AXES,
    AXIS_QUANTITIES,
    AXIS_REQUIRED,
    JOINT_QUANTITIES,
    JOINTS,
    MUSCLES,
    QUANTITY_UNITS,
    SEGMENT_QUANTITIES,
    SIDED_SEGMENTS,
    SIDES,
    UNNAMED_EMG_PREFIX,
    UNSIDED_SEGMENTS,
)

# Longest quantity first so that "skin_temp" wins over a shorter suffix.
_QUANTITIES = sorted(QUANTITY_UNITS, key=len, reverse=True)
_UNNAMED_EMG = re.compile(rf"{UNNAMED_EMG_PREFIX}\d+")


@dataclass(frozen=True, slots=True)
class Channel:
    """One channel of the convention, e.g. ``left_shank_gyr_x`` or ``right_tibialis_anterior_emg``.

    Attributes
    ----------
    name
        The full column name.
    location
        ``<side>_<body part>`` or an unsided body part (``pelvis``).
    side
        ``"left"``, ``"right"`` or ``None``.
    body_part
        The segment, joint or muscle without its side (``shank``, ``knee``, ``tibialis_anterior``).
    quantity
        One of :data:`~exohub.signals.consts.QUANTITY_UNITS`.
    axis
        ``"x"``, ``"y"``, ``"z"`` or ``None``.
    """

    name: str
    location: str
    side: str | None
    body_part: str
    quantity: str
    axis: str | None

    @property
    def unit(self) -> str:
        """The fixed unit of the quantity."""
        return QUANTITY_UNITS[self.quantity]

    @property
    def sensor(self) -> str:
        """The name without the axis: the columns of one sensor share it (``left_foot_acc``)."""
        return f"{self.location}_{self.quantity}"


@cache
def parse_channel(name: str) -> Channel:
    """Return the :class:`Channel` that ``name`` denotes, or raise a ``ValidationError`` saying what is wrong."""
    if not isinstance(name, str) or not name:
        raise ValidationError(f"Channel name must be a non-empty string, got {name!r}.")
    stem, axis = name, None
    if len(name) > 2 and name[-2] == "_" and name[-1] in AXES:
        stem, axis = name[:-2], name[-1]
    quantity = next((q for q in _QUANTITIES if stem.endswith(f"_{q}")), None)
    if quantity is None:
        raise ValidationError(
            f"Channel {name!r}: no known quantity at the end of the name. Name channels "
            f"<location>_<quantity>[_<axis>] with quantity one of {', '.join(QUANTITY_UNITS)}."
        )
    location = stem[: -len(quantity) - 1]
    if axis is not None and quantity not in AXIS_QUANTITIES:
        raise ValidationError(f"Channel {name!r}: quantity {quantity!r} takes no axis suffix.")
    if axis is None and quantity in AXIS_REQUIRED:
        raise ValidationError(f"Channel {name!r}: quantity {quantity!r} needs an axis suffix _x, _y or _z.")
    side, body_part = _split_side(location)
    _check_location(name, quantity, side, body_part)
    return Channel(name=name, location=location, side=side, body_part=body_part, quantity=quantity, axis=axis)


def _split_side(location: str) -> tuple[str | None, str]:
    for side in SIDES:
        if location.startswith(f"{side}_"):
            return side, location[len(side) + 1 :]
    return None, location


def _check_location(name: str, quantity: str, side: str | None, body_part: str) -> None:
    if quantity == "emg":
        if _UNNAMED_EMG.fullmatch(body_part):
            return
        if body_part not in MUSCLES:
            raise ValidationError(
                f"Channel {name!r}: {body_part!r} is not a known muscle. Use one of {', '.join(MUSCLES)}, "
                f"or {UNNAMED_EMG_PREFIX}<n> when the muscle is not recorded."
            )
        if side is None and body_part != "erector_spinae":
            raise ValidationError(f"Channel {name!r}: EMG of {body_part!r} needs a side (left_ or right_).")
        return
    if body_part in SIDED_SEGMENTS or body_part in JOINTS:
        if side is None:
            raise ValidationError(f"Channel {name!r}: location {body_part!r} needs a side (left_ or right_).")
        allowed = SEGMENT_QUANTITIES if body_part in SIDED_SEGMENTS else JOINT_QUANTITIES
    elif body_part in UNSIDED_SEGMENTS:
        if side is not None:
            raise ValidationError(f"Channel {name!r}: location {body_part!r} has no side; drop {side}_.")
        allowed = SEGMENT_QUANTITIES
    else:
        known = ", ".join((*SIDED_SEGMENTS, *JOINTS, *UNSIDED_SEGMENTS))
        raise ValidationError(f"Channel {name!r}: unknown location {body_part!r}. Known locations: {known}.")
    if quantity not in allowed:
        raise ValidationError(f"Channel {name!r}: a {body_part} has no {quantity!r}; allowed: {sorted(allowed)}.")


def channel_name(location: str, quantity: str, axis: str | None = None) -> str:
    """Build a channel name and check it against the convention."""
    name = f"{location}_{quantity}" + (f"_{axis}" if axis else "")
    parse_channel(name)
    return name
