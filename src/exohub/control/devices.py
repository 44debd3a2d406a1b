"""What the loop drives: the ``Device`` protocol, the profiles shipped with exohub, loading a profile from a file."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from exohub.control.profiles import DeviceProfile
from exohub.control.safety import SensorFrame
from exohub.exceptions import ValidationError

if TYPE_CHECKING:
    from exohub.control.virtual import FaultInjection

DEFAULT_HIP_PROFILE = "hip_exo_profile.json"


@runtime_checkable
class Device(Protocol):
    """An exoskeleton as the loop sees it: the virtual patient, a live LSL device, a vendor driver.

    ``read`` fills the tick's :class:`~exohub.control.safety.SensorFrame`; ``write`` sends the supervised command.
    ``faults`` lists injected faults (empty for a real device); ``applied_torque_nm`` is the torque the actuators
    report (NaN where they do not).
    """

    @property
    def profile(self) -> DeviceProfile:
        """The device's limits (narrowed for the patient)."""

    @property
    def rate_hz(self) -> float:
        """The loop rate the device is driven at."""

    @property
    def faults(self) -> Sequence[FaultInjection]:
        """Faults to inject (none on a real device)."""

    @property
    def applied_torque_nm(self) -> np.ndarray:
        """The torque per joint the actuators report applying."""

    def read(self, t_s: float, frame: SensorFrame) -> None:
        """Fill ``frame`` with the newest readings, stamped on the loop clock."""

    def write(self, t_s: float, command_nm: np.ndarray) -> None:
        """Send the torque per joint (already checked and clamped by the safety supervisor)."""


def default_hip_profile() -> DeviceProfile:
    """Return the reference bilateral hip exoskeleton's profile (``control/data/hip_exo_profile.json``).

    Limits: 15 N*m and 12 rad/s per hip, range of motion -0.8 to 2.1 rad (46 degrees of extension, 120 of flexion:
    the hip-exoskeleton recordings reach -0.57 and 1.36 rad, and 9.8 rad/s on stairs), zero-torque safe state
    ramped over 50 ms, skin limit 43 degC (IEC 60601-1, contact of 10 min or more), warning at 41 degC.
    """
    text = resources.files("exohub.control").joinpath("data", DEFAULT_HIP_PROFILE).read_text(encoding="utf-8")
    return DeviceProfile.from_dict(json.loads(text))


def load_profile(path: str | Path) -> DeviceProfile:
    """Read a :class:`DeviceProfile` from a ``.json`` or ``.toml`` file; a malformed one is refused by field name."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path}: no such device profile file.")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            values = json.loads(text)
        elif path.suffix.lower() == ".toml":
            values = tomllib.loads(text)
        else:
            raise ValidationError(f"{path}: a device profile is a .json or .toml file, got {path.suffix!r}.")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
        raise ValidationError(f"{path}: not valid {path.suffix[1:].upper()}: {err}") from err
    try:
        return DeviceProfile.from_dict(values)
    except TypeError as err:  # a required field is missing
        raise ValidationError(f"{path}: {err}") from err
