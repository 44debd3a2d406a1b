"""The safety supervisor: the last step before the actuator, every tick, separate from any assistance policy.

Each tick it checks the sensors and the policy's command against the :class:`~exohub.control.profiles.DeviceProfile`.
With no fault it passes the command on, clamped to each joint's torque limit (whatever the policy says). On a fault it
commands the profile's safe state *in the same tick*, ramped from the last command sent, latches, and records the
fault; only :meth:`SafetySupervisor.reset`, by a named person, with the cause gone, releases it. Bad sensor data is a
fault, never an exception: the loop must go on commanding the safe state.

Per tick nothing grows: the state lives in arrays allocated in ``__init__``; only a fault (rare) creates objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from exohub.control.profiles import DeviceProfile
from exohub.exceptions import SafetyViolation, ValidationError

#: A temperature reading below this (degC) is a broken sensor, not the weather: no worn device runs colder.
COLDEST_READING_C = -40.0


class FaultKind(StrEnum):
    """What went wrong."""

    SENSOR_INVALID = "sensor_invalid"  # NaN, infinity or an impossible temperature in a sensor reading
    SENSOR_STALE = "sensor_stale"  # the newest sample is too old, or stamped ahead of the loop clock
    SENSOR_STUCK = "sensor_stuck"  # a reading identical to the bit while the joint is driven
    RANGE_OF_MOTION = "range_of_motion"
    VELOCITY = "velocity"
    MOTOR_TEMPERATURE = "motor_temperature"
    SKIN_TEMPERATURE = "skin_temperature"
    BATTERY_TEMPERATURE = "battery_temperature"
    LOOP_OVERRUN = "loop_overrun"
    COMMUNICATION_LOSS = "communication_loss"
    COMMAND_INVALID = "command_invalid"  # the policy's command is NaN or infinite, or not one torque per joint
    CONTROLLER_ERROR = "controller_error"  # reading the device, the phase estimator or the policy raised


@dataclass(frozen=True)
class SafetyEvent:
    """A fault, a warning or a reset, as recorded in the session log.

    Attributes
    ----------
    kind
        A :class:`FaultKind` value, ``"skin_temperature_warning"`` or ``"reset"``.
    time_s, tick
        When it was observed (loop time and tick number).
    detail
        What was measured against which limit, or who reset.
    joint
        The joint concerned, if any.
    """

    kind: str
    time_s: float
    tick: int
    detail: str
    joint: str | None = None


class SensorFrame:
    """The readings the supervisor checks, in preallocated arrays the device adapter fills every tick.

    Parameters
    ----------
    n_joints
        Number of actuated joints, in the profile's order.
    n_skin_sensors
        Number of skin-temperature sensors under the cuffs.

    Attributes
    ----------
    angle_rad, velocity_rad_s, motor_temp_c
        Per joint.
    skin_temp_c
        Per skin sensor.
    battery_temp_c
        The battery.
    sample_time_s
        Loop-clock time of the newest joint sample.
    link_time_s
        Loop-clock time of the last packet received from the device.
    """

    def __init__(self, n_joints: int, n_skin_sensors: int = 1) -> None:
        self.angle_rad = np.zeros(n_joints)
        self.velocity_rad_s = np.zeros(n_joints)
        self.motor_temp_c = np.full(n_joints, 25.0)
        self.skin_temp_c = np.full(n_skin_sensors, 32.0)
        self.battery_temp_c = 25.0
        self.sample_time_s = 0.0
        self.link_time_s = 0.0


class SafetySupervisor:
    """Check every tick, clamp every command, command the safe state on a fault and latch it.

    Parameters
    ----------
    profile
        The device's limits (already narrowed for the patient, see ``DeviceProfile.with_patient``).
    tick_period_s
        The loop's period; the safe-state ramp advances one period per tick.

    Attributes
    ----------
    fault
        The latched fault, or None.
    events
        Every fault, warning and reset so far, in order.
    """

    def __init__(self, profile: DeviceProfile, *, tick_period_s: float) -> None:
        if not isinstance(profile, DeviceProfile):
            raise ValidationError(f"profile must be a DeviceProfile, got {type(profile).__name__}.")
        if not (isinstance(tick_period_s, int | float) and 0 < tick_period_s <= 0.1):
            raise ValidationError(f"tick_period_s must be in (0, 0.1] s, got {tick_period_s!r}.")
        self.profile = profile
        self.tick_period_s = float(tick_period_s)
        n = len(profile.joints)
        self._max_torque_nm = np.array([j.max_torque_nm for j in profile.joints])
        self._min_torque_nm = -self._max_torque_nm
        self._min_angle_rad = np.array([j.min_angle_rad for j in profile.joints])
        self._max_angle_rad = np.array([j.max_angle_rad for j in profile.joints])
        self._max_velocity_rad_s = np.array([j.max_velocity_rad_s for j in profile.joints])
        self._min_velocity_rad_s = -self._max_velocity_rad_s
        self._max_motor_temp_c = np.array([j.max_motor_temp_c for j in profile.joints])
        self._out = np.zeros(n)
        self._last_out = np.zeros(n)
        self._from = np.zeros(n)  # the command sent when the fault came: the ramp starts there
        self._hold_angle_rad = np.zeros(n)
        # Per-tick state on plain floats: a few joints are checked faster in Python than through numpy calls.
        self._limits = tuple(
            [getattr(j, name) for j in profile.joints]
            for name in ("min_angle_rad", "max_angle_rad", "max_velocity_rad_s", "max_motor_temp_c")
        )
        self._previous_angles = [math.nan] * n
        self._previous_velocities = [math.nan] * n
        self._same_since = [0.0] * n
        self._flags = np.zeros(n, dtype=bool)
        self._other_flags = np.zeros(n, dtype=bool)
        self._skin_flags: np.ndarray | None = None
        self._tick = 0
        self._consecutive_overruns = 0
        self._skin_warned = False
        self._fault_time_s = math.nan
        self._resume_time_s = math.nan
        #: A time stamp may lead the loop clock by this much (a device stamping its sample just after the loop
        #: read its clock); further ahead, the two clocks disagree and the age checks would mean nothing.
        self._clock_lead_s = self.tick_period_s
        self.fault: SafetyEvent | None = None
        self.events: list[SafetyEvent] = []

    @property
    def latched(self) -> bool:
        """True from a fault until an authorised reset."""
        return self.fault is not None

    def step(self, t_s: float, sensors: SensorFrame, command_nm: np.ndarray, *, overrun: bool = False) -> np.ndarray:
        """Return the command to send this tick (an array the supervisor owns: copy it to keep it).

        Parameters
        ----------
        t_s
            The loop clock now.
        sensors
            This tick's readings.
        command_nm
            The policy's torque per joint, in the profile's order.
        overrun
            Whether the loop missed this tick's deadline.
        """
        self._tick += 1
        shape = self._out.shape
        if not sensors.angle_rad.shape == sensors.velocity_rad_s.shape == sensors.motor_temp_c.shape == shape:
            raise ValidationError(  # a wiring error, the same from the first tick: before any torque is sent
                f"the sensor frame has {len(sensors.angle_rad)} angles, {len(sensors.velocity_rad_s)} velocities "
                f"and {len(sensors.motor_temp_c)} motor temperatures; {self.profile.name} has {shape[0]} joints."
            )
        if self._skin_flags is None or self._skin_flags.shape != sensors.skin_temp_c.shape:
            self._skin_flags = np.zeros(sensors.skin_temp_c.shape, dtype=bool)
        if self.fault is None:
            found = self._check(t_s, sensors, command_nm, overrun)
            if found is not None:
                self._latch(found, t_s, sensors)
        if self.fault is None:
            np.clip(command_nm, self._min_torque_nm, self._max_torque_nm, out=self._out)
            if self.profile.safe_ramp_s > 0 and t_s - self._resume_time_s < self.profile.safe_ramp_s:  # NaN: no reset
                self._ramp_from_last(t_s - self._resume_time_s)
        else:
            self._safe_command(t_s, sensors)
        self._last_out[:] = self._out
        return self._out

    def fail(self, t_s: float, sensors: SensorFrame, detail: str) -> None:
        """Latch a controller error (the estimator or the policy raised); :meth:`step` then ramps to the safe state.

        A fault already latched stays the one recorded.
        """
        if self.fault is None:
            self._latch(self._event(FaultKind.CONTROLLER_ERROR, t_s, detail), t_s, sensors)

    def reset(self, t_s: float, sensors: SensorFrame, *, authorised_by: str) -> None:
        """Release the latched fault; refused (``SafetyViolation``) while its cause is still present.

        Parameters
        ----------
        t_s, sensors
            The clock and the readings now: they are checked again, with a zero command.
        authorised_by
            Who resets (recorded).

        Released, the command rises from the safe state's to the policy's over the profile's ``safe_ramp_s``, not in
        one tick; restart the policy's own soft start too (the session does).
        """
        if not isinstance(authorised_by, str) or not authorised_by.strip():
            raise ValidationError("a reset must name who authorises it (authorised_by).")
        if self.fault is None:
            return
        self._consecutive_overruns = 0
        self._previous_angles[:] = [math.nan] * len(self._previous_angles)
        still = self._check(t_s, sensors, np.zeros_like(self._out), overrun=False)
        if still is not None:
            raise SafetyViolation(f"cannot reset: {still.kind} is still present ({still.detail}).")
        self.events.append(
            SafetyEvent("reset", t_s, self._tick, f"reset by {authorised_by.strip()} after {self.fault.kind}")
        )
        self.fault = None
        self._resume_time_s = t_s
        self._from[:] = self._last_out

    # --- checks ---------------------------------------------------------------------------------------------------
    def _check(self, t_s: float, s: SensorFrame, command_nm: np.ndarray, overrun: bool) -> SafetyEvent | None:
        profile = self.profile
        self._consecutive_overruns = self._consecutive_overruns + 1 if overrun else 0
        if self._consecutive_overruns >= profile.max_consecutive_overruns:
            return self._event(FaultKind.LOOP_OVERRUN, t_s, f"{self._consecutive_overruns} overruns in a row")
        lead_s = self._clock_lead_s
        if not -lead_s <= t_s - s.link_time_s <= profile.watchdog_s:  # NaN and infinite stamps fail too
            return self._event(
                FaultKind.COMMUNICATION_LOSS, t_s, _age("last packet", t_s - s.link_time_s, profile.watchdog_s)
            )
        if not -lead_s <= t_s - s.sample_time_s <= profile.max_sensor_age_s:
            return self._event(
                FaultKind.SENSOR_STALE, t_s, _age("newest sample", t_s - s.sample_time_s, profile.max_sensor_age_s)
            )
        if not isinstance(command_nm, np.ndarray) or command_nm.shape != self._out.shape:
            shape = getattr(command_nm, "shape", type(command_nm).__name__)
            return self._event(
                FaultKind.COMMAND_INVALID, t_s, f"the policy's command is {shape}, not one torque per joint"
            )
        angles, velocities = s.angle_rad.tolist(), s.velocity_rad_s.tolist()
        commands = command_nm.tolist()
        if not self._readings_within_limits(angles, velocities, s):
            found = self._classify_reading(t_s, s)
            if found is not None:
                return found
        if s.battery_temp_c > profile.max_battery_temp_c:
            return self._event(
                FaultKind.BATTERY_TEMPERATURE,
                t_s,
                f"battery {s.battery_temp_c:.1f} degC > {profile.max_battery_temp_c}",
            )
        stuck = self._stuck_joint(t_s, angles, velocities, commands)
        if stuck is not None:
            return stuck
        if not all(command - command == 0.0 for command in commands):  # NaN - NaN and inf - inf are NaN
            return self._event(FaultKind.COMMAND_INVALID, t_s, "the policy commanded a NaN or infinite torque")
        return None

    def _readings_within_limits(self, angles: list[float], velocities: list[float], s: SensorFrame) -> bool:
        """The every-tick test, on plain floats (faster than numpy for a few joints); NaN fails every comparison."""
        for angle, velocity, motor_c, low, high, fastest, hottest in zip(
            angles, velocities, s.motor_temp_c.tolist(), *self._limits, strict=True
        ):
            if not (
                low <= angle <= high and -fastest <= velocity <= fastest and COLDEST_READING_C <= motor_c <= hottest
            ):
                return False
        skin_c = s.skin_temp_c.tolist()
        warning_c = self.profile.skin_warning_c
        if not all(COLDEST_READING_C <= value <= warning_c for value in skin_c):
            return False
        self._skin_warned = False
        return COLDEST_READING_C <= s.battery_temp_c < math.inf

    def _classify_reading(self, t_s: float, s: SensorFrame) -> SafetyEvent | None:
        """Which limit a reading broke (run only when the every-tick test failed), or None for a skin warning."""
        profile = self.profile
        invalid = self._invalid_reading(s)
        if invalid is not None:
            return self._event(FaultKind.SENSOR_INVALID, t_s, invalid)
        found = (
            self._beyond(FaultKind.RANGE_OF_MOTION, t_s, s.angle_rad, self._min_angle_rad, self._max_angle_rad, "rad")
            or self._beyond(
                FaultKind.VELOCITY, t_s, s.velocity_rad_s, self._min_velocity_rad_s, self._max_velocity_rad_s, "rad/s"
            )
            or self._beyond(FaultKind.MOTOR_TEMPERATURE, t_s, s.motor_temp_c, None, self._max_motor_temp_c, "degC")
        )
        if found is not None:
            return found
        hottest_c = float(s.skin_temp_c.max())
        if hottest_c > profile.skin_limit_c:
            return self._event(FaultKind.SKIN_TEMPERATURE, t_s, f"skin {hottest_c:.1f} degC > {profile.skin_limit_c}")
        if hottest_c > profile.skin_warning_c and not self._skin_warned:
            self.events.append(
                self._event("skin_temperature_warning", t_s, f"skin {hottest_c:.1f} degC > {profile.skin_warning_c}")
            )
        self._skin_warned = hottest_c > profile.skin_warning_c
        return None

    def _invalid_reading(self, s: SensorFrame) -> str | None:
        """What makes a reading impossible (not a finite number, or a temperature below any worn device's)."""
        for name in ("angle_rad", "velocity_rad_s", "motor_temp_c", "skin_temp_c"):
            values = getattr(s, name)
            if not np.isfinite(values, out=self._skin_flags if name == "skin_temp_c" else self._flags).all():
                return f"{name}[{int(np.flatnonzero(~np.isfinite(values))[0])}] is not a finite number"
            if name.endswith("_c") and (values < COLDEST_READING_C).any():
                j = int(np.flatnonzero(values < COLDEST_READING_C)[0])
                return f"{name}[{j}] reads {values[j]:.1f} degC, below any plausible {COLDEST_READING_C:g}"
        if not math.isfinite(s.battery_temp_c):
            return "battery_temp_c is not a finite number"
        if s.battery_temp_c < COLDEST_READING_C:
            return f"battery_temp_c reads {s.battery_temp_c:.1f} degC, below any plausible {COLDEST_READING_C:g}"
        return None

    def _beyond(
        self, kind: FaultKind, t_s: float, values: np.ndarray, low: np.ndarray | None, high: np.ndarray, unit: str
    ) -> SafetyEvent | None:
        np.greater(values, high, out=self._flags)
        if low is not None:
            np.less(values, low, out=self._other_flags)
            np.logical_or(self._flags, self._other_flags, out=self._flags)
        if not self._flags.any():
            return None
        j = int(np.flatnonzero(self._flags)[0])
        bounds = f"[{low[j]:.3f}, {high[j]:.3f}]" if low is not None else f"<= {high[j]:.1f}"
        joint = self.profile.joints[j].joint
        return self._event(kind, t_s, f"{joint} at {values[j]:.3f} {unit}, limit {bounds}", joint)

    def _stuck_joint(
        self, t_s: float, angles: list[float], velocities: list[float], commands: list[float]
    ) -> SafetyEvent | None:
        """A reading repeated to the bit for ``stuck_s`` while the joint is commanded: the sensor has frozen."""
        previous_angles, previous_velocities, same_since = (
            self._previous_angles,
            self._previous_velocities,
            self._same_since,
        )
        found = -1
        for j, (angle, velocity) in enumerate(zip(angles, velocities, strict=True)):
            if angle == previous_angles[j] and velocity == previous_velocities[j]:
                if found < 0 and t_s - same_since[j] >= self.profile.stuck_s and commands[j] != 0.0:
                    found = j
            else:
                same_since[j] = t_s
            previous_angles[j], previous_velocities[j] = angle, velocity
        if found < 0:
            return None
        joint = self.profile.joints[found].joint
        detail = f"{joint} angle and velocity unchanged for {t_s - same_since[found]:.3f} s while driven"
        return self._event(FaultKind.SENSOR_STUCK, t_s, detail, joint)

    # --- fault handling ---------------------------------------------------------------------------------------------
    def _event(self, kind: str, t_s: float, detail: str, joint: str | None = None) -> SafetyEvent:
        return SafetyEvent(str(kind), float(t_s), self._tick, detail, joint)

    def _latch(self, fault: SafetyEvent, t_s: float, s: SensorFrame) -> None:
        self.fault = fault
        self.events.append(fault)
        self._fault_time_s = t_s
        self._from[:] = self._last_out
        usable = np.isfinite(s.angle_rad) & (s.angle_rad >= self._min_angle_rad) & (s.angle_rad <= self._max_angle_rad)
        # Hold where the joint is, or at the nearest end of its range of motion if the reading is outside it.
        fallback = np.clip(np.nan_to_num(s.angle_rad, nan=0.0), self._min_angle_rad, self._max_angle_rad)
        self._hold_angle_rad[:] = np.where(usable, s.angle_rad, fallback)

    def _safe_command(self, t_s: float, s: SensorFrame) -> None:
        """Ramp from the last command sent to the profile's safe state; NaN readings give zero torque."""
        profile = self.profile
        out = self._out
        if profile.safe_state == "zero_torque":
            out[:] = 0.0
        else:
            # Readings beyond any physical value (a broken sensor) are bounded first, so the products stay finite.
            velocity = np.clip(np.nan_to_num(s.velocity_rad_s, nan=0.0, posinf=0.0, neginf=0.0), -1e3, 1e3)
            np.multiply(velocity, -profile.damping_nm_s_per_rad, out=out)
            if profile.safe_state == "hold":
                angle = np.clip(np.nan_to_num(s.angle_rad, nan=0.0, posinf=0.0, neginf=0.0), -1e3, 1e3)
                out += profile.hold_stiffness_nm_per_rad * (self._hold_angle_rad - angle)
                out[~np.isfinite(s.angle_rad)] = 0.0
        if profile.safe_ramp_s > 0:
            self._ramp_from_last(t_s - self._fault_time_s)
        np.clip(out, self._min_torque_nm, self._max_torque_nm, out=out)

    def _ramp_from_last(self, since_s: float) -> None:
        """Blend :attr:`_out` with the command sent when the fault (or reset) came, over ``safe_ramp_s``.

        The first tick already moves one period's worth; a clock that went backwards never gives more than the
        command the ramp started from.
        """
        elapsed_s = since_s + self.tick_period_s
        remaining = min(1.0, max(0.0, 1.0 - elapsed_s / self.profile.safe_ramp_s))
        self._out += remaining * (self._from - self._out)


def _age(what: str, age_s: float, limit_s: float) -> str:
    if age_s < 0:
        return f"{what} stamped {-age_s:.3f} s ahead of the loop clock: the device's clock and the loop's disagree"
    if math.isnan(age_s):
        return f"{what} has no valid time stamp"
    return f"{what} {age_s:.3f} s old > {limit_s}"
