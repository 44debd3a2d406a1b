"""Which sensor gives a side's gait events: the best one present, in a fixed order of trust."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exohub._utils._checks import check_option
from exohub.exceptions import ValidationError
from exohub.signals.channels import parse_channel
from exohub.signals.consts import AXES, SIDES
from exohub.signals.recording import Recording

#: Sources in the order they are trusted: a load sensor measures contact, an IMU on the foot sees it as an impact,
#: the shank and the hip or thigh angle only infer it from the swing.
SOURCE_KINDS = ("force", "switch", "foot_imu", "shank_imu", "hip_angle", "thigh_angle")


@dataclass(frozen=True)
class EventSource:
    """The channels one side's events come from.

    Attributes
    ----------
    side
        ``left`` or ``right``.
    kind
        One of :data:`SOURCE_KINDS`.
    channels
        The recording's channel names used, in the detector's column order.
    """

    side: str
    kind: str
    channels: tuple[str, ...]

    def frame(self, recording: Recording) -> pd.DataFrame:
        """Return the detector's input: the source channels under the detector's column names, indexed by time_s."""
        data = recording.get(list(self.channels))
        if self.kind.endswith("_imu"):
            return data.set_axis([f"{quantity}_{axis}" for quantity in ("acc", "gyr") for axis in AXES], axis=1)
        if self.kind == "force" and len(self.channels) > 1:
            # A force plate with axes: the load is the vertical force, the axis that swings most (body weight);
            # the shear axes carry offsets (a treadmill belt's drag) that would hide the unloaded foot in a norm.
            values = data.to_numpy()
            vertical = int(np.nanargmax(np.nanmax(values, axis=0) - np.nanmin(values, axis=0)))
            return pd.DataFrame({"force": np.abs(values[:, vertical])}, index=data.index)
        if self.kind.endswith("_angle") and len(self.channels) > 1:
            # Joint angles with three anatomical axes (motion capture): flexion/extension moves most in gait.
            sagittal = data.columns[int(np.nanargmax(data.var().to_numpy()))]
            return data.loc[:, [sagittal]].set_axis(["angle"], axis=1)
        return data.set_axis([self.kind if self.kind in ("force", "switch") else "angle"], axis=1)


def find_event_sources(recording: Recording, kinds: Sequence[str] = SOURCE_KINDS) -> dict[str, EventSource]:
    """Return, per side that has one, the first source of ``kinds`` present in ``recording`` (the most trusted).

    Pass ``kinds=("hip_angle",)`` to use one kind of sensor whatever else is present (e.g. to compare sensors).

    Raises
    ------
    ValidationError
        If no side has any channel gait events can be found from; the message lists what would do.
    """
    for kind in kinds:
        check_option("kinds", kind, SOURCE_KINDS)
    sources = {side: source for side in SIDES if (source := _best_source(recording, side, kinds)) is not None}
    if not sources:
        raise ValidationError(
            "No channel to find gait events from: the recording needs, per side, a load sensor "
            "(<side>_foot_force, <side>_foot_switch), a foot or shank IMU (<side>_foot_acc_x..z and _gyr_x..z) "
            f"or a hip or thigh angle (<side>_hip_angle). It has: {', '.join(recording.channels)}."
        )
    return sources


def _best_source(recording: Recording, side: str, kinds: Sequence[str]) -> EventSource | None:
    for kind in kinds:
        channels = _channels_for(recording, side, kind)
        if channels:
            return EventSource(side=side, kind=kind, channels=channels)
    return None


def _channels_for(recording: Recording, side: str, kind: str) -> tuple[str, ...]:
    if kind.endswith("_imu"):
        segment = kind.removesuffix("_imu")
        names = tuple(f"{side}_{segment}_{quantity}_{axis}" for quantity in ("acc", "gyr") for axis in AXES)
        present = set(recording.channels)
        if all(name in present for name in names) and len({recording.stream_index(name) for name in names}) == 1:
            return names
        return ()
    body_part, quantity = kind.split("_") if kind.endswith("_angle") else ("foot", kind)
    names = tuple(
        name
        for name in recording.pick(quantity=quantity, side=side, body_part=body_part)
        if parse_channel(name).quantity == quantity
    )
    if len(names) > 1 and len({recording.stream_index(name) for name in names}) > 1:
        return names[:1]
    return names
