"""Device profiles and patient settings: the declared limits every command and every sensor reading is held to.

A :class:`DeviceProfile` is what the maker declares for an exoskeleton (per joint: torque, velocity, range of motion,
motor temperature; the skin under the cuffs, the battery, sensor freshness, the safe state). :class:`PatientSettings`
narrow those limits for one patient (a therapist's choice); they may never widen them. Both are frozen dataclasses
validated on construction, so a loop never starts with a limit that makes no sense (opensourceleg's ``MOTOR_CONSTANTS``
idea), and both load from plain mappings (JSON, TOML) refusing unknown keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Self

from exohub.exceptions import ValidationError
from exohub.signals.consts import JOINTS, SIDES

SAFE_STATES = ("zero_torque", "damping", "hold")
#: IEC 60601-1 (11.1.2.2, Table 24): applied parts in contact with the skin for 10 min or more may reach 43 °C; above
#: 41 °C the maker must disclose the temperature and its clinical effects. An exoskeleton cuff is worn for a whole
#: session, so the long-contact limit applies from the start.
SKIN_LIMIT_C = 43.0
SKIN_WARNING_C = 41.0


def _number(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{where} must be a number, got {value!r}.")
    number = float(value)
    if not math.isfinite(number):
        raise ValidationError(f"{where} must be finite, got {value!r}.")
    return number


def _positive(where: str, value: Any) -> float:
    number = _number(where, value)
    if number <= 0:
        raise ValidationError(f"{where} must be above 0, got {value!r}.")
    return number


def check_joint_name(where: str, joint: Any) -> str:
    """Return ``joint`` if it is a sided joint of the convention (``left_hip``, ``right_knee``, ...)."""
    valid = [f"{side}_{name}" for side in SIDES for name in JOINTS]
    if joint not in valid:
        raise ValidationError(f"{where}: unknown joint {joint!r}; joints are {', '.join(valid)}.")
    return str(joint)


def _from_mapping(cls: type, where: str, values: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise ValidationError(f"{where} must be a mapping of settings, got {type(values).__name__}.")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValidationError(f"{where}: unknown setting(s) {unknown}; known: {sorted(known)}.")
    return dict(values)


@dataclass(frozen=True)
class JointLimits:
    """What one actuated joint may do (device-declared, or narrowed for a patient).

    Attributes
    ----------
    joint
        Sided joint name (``left_hip``).
    max_torque_nm
        Largest commanded torque magnitude; every command is clamped to it.
    max_velocity_rad_s
        A measured joint speed above this is a fault.
    min_angle_rad, max_angle_rad
        Range of motion (ISB signs, flexion positive); a measured angle outside it is a fault.
    max_motor_temp_c
        A motor winding or housing temperature above this is a fault.
    """

    joint: str
    max_torque_nm: float
    max_velocity_rad_s: float
    min_angle_rad: float
    max_angle_rad: float
    max_motor_temp_c: float = 80.0

    def __post_init__(self) -> None:
        where = f"joints[{self.joint!r}]"
        check_joint_name(where, self.joint)
        for name in ("max_torque_nm", "max_velocity_rad_s", "max_motor_temp_c"):
            object.__setattr__(self, name, _positive(f"{where}.{name}", getattr(self, name)))
        low = _number(f"{where}.min_angle_rad", self.min_angle_rad)
        high = _number(f"{where}.max_angle_rad", self.max_angle_rad)
        if not low < high:
            raise ValidationError(f"{where}: min_angle_rad ({low}) must be below max_angle_rad ({high}).")
        object.__setattr__(self, "min_angle_rad", low)
        object.__setattr__(self, "max_angle_rad", high)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Build from a mapping (e.g. one entry of a JSON profile); unknown keys are refused."""
        return cls(**_from_mapping(cls, "joint limits", values))


@dataclass(frozen=True)
class DeviceProfile:
    """An exoskeleton's declared limits and safe state.

    Attributes
    ----------
    name
        The device model.
    joints
        Limits of each actuated joint, in the order of the command vector.
    safe_state
        What the supervisor commands on a fault: ``zero_torque``, ``damping`` (torque opposing joint speed) or
        ``hold`` (a stiff spring to the angle at the fault, plus damping).
    damping_nm_s_per_rad, hold_stiffness_nm_per_rad
        Gains of the ``damping`` and ``hold`` safe states (always clamped to each joint's torque limit).
    safe_ramp_s
        The command moves from the last one sent to the safe state linearly over this time, starting in the tick
        the fault is seen (0: at once).
    skin_limit_c, skin_warning_c
        Applied-part skin temperature: above the limit is a fault, above the warning a recorded warning.
    max_battery_temp_c
        A battery temperature above this is a fault.
    max_sensor_age_s
        A sensor sample older than this (its own time stamp against the loop's clock) is a fault.
    watchdog_s
        No packet from the device for this long is a communication-loss fault.
    stuck_s
        A sensor value identical to the bit for this long (angle, velocity: real sensors always move a little when
        the joint moves) while the joint is commanded is a fault.
    max_consecutive_overruns
        This many loop overruns in a row is a fault (one late tick is recorded, not a fault).
    """

    name: str
    joints: tuple[JointLimits, ...]
    safe_state: str = "zero_torque"
    damping_nm_s_per_rad: float = 2.0
    hold_stiffness_nm_per_rad: float = 30.0
    safe_ramp_s: float = 0.05
    skin_limit_c: float = SKIN_LIMIT_C
    skin_warning_c: float = SKIN_WARNING_C
    max_battery_temp_c: float = 60.0
    max_sensor_age_s: float = 0.02
    watchdog_s: float = 0.05
    stuck_s: float = 0.25
    max_consecutive_overruns: int = 3
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ValidationError("name must be a non-empty text.")
        joints = tuple(self.joints)
        if not joints or not all(isinstance(limits, JointLimits) for limits in joints):
            raise ValidationError("joints must be a non-empty sequence of JointLimits.")
        names = [limits.joint for limits in joints]
        if len(set(names)) != len(names):
            raise ValidationError(f"joints: each joint may appear once, got {names}.")
        object.__setattr__(self, "joints", joints)
        object.__setattr__(self, "_index", {name: i for i, name in enumerate(names)})
        if self.safe_state not in SAFE_STATES:
            raise ValidationError(f"safe_state must be one of {', '.join(SAFE_STATES)}, got {self.safe_state!r}.")
        for name in ("damping_nm_s_per_rad", "hold_stiffness_nm_per_rad", "skin_limit_c", "skin_warning_c"):
            object.__setattr__(self, name, _positive(name, getattr(self, name)))
        for name in ("max_battery_temp_c", "max_sensor_age_s", "watchdog_s", "stuck_s"):
            object.__setattr__(self, name, _positive(name, getattr(self, name)))
        ramp = _number("safe_ramp_s", self.safe_ramp_s)
        if not 0.0 <= ramp <= 1.0:
            raise ValidationError(f"safe_ramp_s must be between 0 and 1 s, got {ramp}.")
        object.__setattr__(self, "safe_ramp_s", ramp)
        if self.skin_warning_c > self.skin_limit_c:
            raise ValidationError(
                f"skin_warning_c ({self.skin_warning_c}) must not be above skin_limit_c ({self.skin_limit_c})."
            )
        overruns = self.max_consecutive_overruns
        if isinstance(overruns, bool) or not isinstance(overruns, int) or overruns < 1:
            raise ValidationError(f"max_consecutive_overruns must be a whole number of at least 1, got {overruns!r}.")

    @property
    def joint_names(self) -> tuple[str, ...]:
        """The joints in command order."""
        return tuple(limits.joint for limits in self.joints)

    def index(self, joint: str) -> int:
        """Position of ``joint`` in the command vector."""
        try:
            return self._index[joint]
        except KeyError:
            raise ValidationError(f"{self.name} has no joint {joint!r}; it has {', '.join(self._index)}.") from None

    def with_patient(self, settings: PatientSettings) -> DeviceProfile:
        """Return the profile with ``settings`` applied (every limit the tighter of the two)."""
        return settings.apply_to(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Build from a mapping such as a parsed JSON or TOML profile; ``joints`` is a list of joint mappings."""
        values = _from_mapping(cls, "device profile", values)
        values.pop("_index", None)
        raw_joints = values.get("joints", ())
        if not isinstance(raw_joints, list | tuple):
            raise ValidationError("device profile: joints must be a list of joint limits.")
        values["joints"] = tuple(JointLimits.from_dict(joint) for joint in raw_joints)
        return cls(**values)


@dataclass(frozen=True)
class PatientJointSettings:
    """A therapist's limits for one joint of one patient; each must lie within the device's.

    Attributes
    ----------
    joint
        Sided joint name.
    max_torque_nm
        The patient's torque limit (at most the device's).
    min_angle_rad, max_angle_rad
        The patient's range of motion (inside the device's), e.g. after a hip replacement.
    """

    joint: str
    max_torque_nm: float | None = None
    min_angle_rad: float | None = None
    max_angle_rad: float | None = None

    def __post_init__(self) -> None:
        where = f"patient joints[{self.joint!r}]"
        check_joint_name(where, self.joint)
        if self.max_torque_nm is not None:
            object.__setattr__(self, "max_torque_nm", _positive(f"{where}.max_torque_nm", self.max_torque_nm))
        for name in ("min_angle_rad", "max_angle_rad"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, _number(f"{where}.{name}", getattr(self, name)))
        if (
            self.min_angle_rad is not None
            and self.max_angle_rad is not None
            and self.min_angle_rad >= self.max_angle_rad
        ):
            raise ValidationError(
                f"{where}: min_angle_rad ({self.min_angle_rad}) must be below max_angle_rad ({self.max_angle_rad})."
            )


@dataclass(frozen=True)
class PatientSettings:
    """Per-patient limits, narrower than or equal to the device's (never wider).

    Attributes
    ----------
    joints
        Settings per joint; joints not listed keep the device's limits.
    """

    joints: tuple[PatientJointSettings, ...] = ()

    def apply_to(self, profile: DeviceProfile) -> DeviceProfile:
        """Return ``profile`` narrowed to these settings; a setting outside the device's limits is refused."""
        limits = list(profile.joints)
        for setting in self.joints:
            device = limits[profile.index(setting.joint)]
            where = f"patient joints[{setting.joint!r}]"
            changes: dict[str, float] = {}
            if setting.max_torque_nm is not None:
                if setting.max_torque_nm > device.max_torque_nm:
                    raise ValidationError(
                        f"{where}.max_torque_nm ({setting.max_torque_nm}) is above the device's "
                        f"{device.max_torque_nm} N*m; a patient's limit may only be tighter."
                    )
                changes["max_torque_nm"] = setting.max_torque_nm
            for name in ("min_angle_rad", "max_angle_rad"):
                value = getattr(setting, name)
                if value is None:
                    continue
                if not device.min_angle_rad <= value <= device.max_angle_rad:
                    raise ValidationError(
                        f"{where}.{name} ({value}) is outside the device's range of motion "
                        f"[{device.min_angle_rad}, {device.max_angle_rad}] rad."
                    )
                changes[name] = value
            limits[profile.index(setting.joint)] = replace(device, **changes)
        return replace(profile, joints=tuple(limits))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Self:
        """Build from a mapping ``{"joints": [{"joint": "left_hip", "max_torque_nm": 10}, ...]}``."""
        values = _from_mapping(cls, "patient settings", values)
        raw = values.get("joints", ())
        if not isinstance(raw, list | tuple):
            raise ValidationError("patient settings: joints must be a list.")
        return cls(
            joints=tuple(PatientJointSettings(**_from_mapping(PatientJointSettings, "patient joint", j)) for j in raw)
        )
