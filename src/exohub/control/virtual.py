"""A virtual patient wearing a virtual hip exoskeleton, for tests, benchmarks and demos, with fault injection.

:class:`VirtualPatient` replays recorded (or synthetic) hip angles at the loop's rate and closes the loop through
simple physics: the actuator's torque follows the command with a first-order lag, the applied torque nudges the joint
through a bounded admittance, and first-order thermal models warm the skin under the cuffs, the motors and the battery.
Each tick the loop calls :meth:`VirtualPatient.read` (fill a :class:`~exohub.control.safety.SensorFrame`) and
:meth:`VirtualPatient.write` (send the supervisor's command). :class:`FaultInjection` describes what to break and when;
the patient applies the sensor and link faults, the session runner the command and loop faults.

The per-tick path works on Python floats and lists prepared in ``__init__`` (the replay is interpolated to the loop's
clock once), so a tick costs a few microseconds and allocates nothing that outlives it.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from exohub.control.profiles import DeviceProfile, check_joint_name
from exohub.control.safety import SensorFrame
from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.consts import TIME_COLUMN
from exohub.signals.recording import Recording, check_time

#: What can be injected. Sensor and link faults act in the patient; ``torque_spike`` and ``overrun`` in the runner.
FAULT_KINDS = (
    "dropout",
    "spike",
    "stuck",
    "over_temperature",
    "rom_breach",
    "torque_spike",
    "overrun",
    "communication_loss",
)
#: Faults that may name one joint (None: every joint). The others act on the whole device.
JOINT_FAULTS = frozenset({"spike", "stuck", "over_temperature", "rom_breach", "torque_spike"})
#: Default magnitude per kind: spike (rad added to the angle for one sample), rom_breach (rad beyond the range's upper
#: end), over_temperature (degC per second of extra skin heating), torque_spike (N*m added to the policy's command:
#: infinite, a corrupted command), overrun (ticks reported late when no duration is given).
DEFAULT_MAGNITUDE = {"spike": 3.0, "rom_breach": 0.1, "over_temperature": 50.0, "torque_spike": math.inf, "overrun": 5}
_NO_TICK = sys.maxsize


@dataclass(frozen=True)
class FaultInjection:
    """One fault to inject into a session.

    Attributes
    ----------
    kind
        One of :data:`FAULT_KINDS`: ``dropout`` (the sensor sample time stops advancing and the values repeat),
        ``spike`` (the angle jumps by ``magnitude`` for one sample), ``stuck`` (angle and velocity frozen at their
        last value), ``over_temperature`` (the skin under the cuff heated by ``magnitude`` degC/s more),
        ``rom_breach`` (the angle held ``magnitude`` rad beyond the range's upper end), ``torque_spike`` (the
        policy's command plus ``magnitude`` N*m), ``overrun`` (the loop reports overruns) or ``communication_loss``
        (the time of the last packet from the device stops advancing).
    start_s
        Loop time at which it starts (the first tick at or after it).
    duration_s
        How long it lasts; None: to the end of the session (``spike``: one sample; ``overrun``: ``magnitude`` ticks).
    joint
        For the faults of :data:`JOINT_FAULTS`, the joint affected; None: every joint.
    magnitude
        See :data:`DEFAULT_MAGNITUDE`; None takes the default. Unused by dropout, stuck and communication loss.
    """

    kind: str
    start_s: float
    duration_s: float | None = None
    joint: str | None = None
    magnitude: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValidationError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, got {self.kind!r}.")
        if not _is_number(self.start_s) or not math.isfinite(self.start_s) or self.start_s < 0:
            raise ValidationError(f"fault {self.kind}: start_s must be a finite time >= 0 s, got {self.start_s!r}.")
        if self.duration_s is not None and not (
            _is_number(self.duration_s) and math.isfinite(self.duration_s) and self.duration_s > 0
        ):
            raise ValidationError(f"fault {self.kind}: duration_s must be above 0 s or None, got {self.duration_s!r}.")
        if self.joint is not None:
            if self.kind not in JOINT_FAULTS:
                raise ValidationError(
                    f"fault {self.kind}: joint must be None (it acts on the whole device); only "
                    f"{', '.join(sorted(JOINT_FAULTS))} take a joint."
                )
            check_joint_name(f"fault {self.kind}", self.joint)
        self._check_magnitude()

    def _check_magnitude(self) -> None:
        value = self.magnitude
        if value is None:
            object.__setattr__(self, "magnitude", DEFAULT_MAGNITUDE.get(self.kind))
            return
        if self.kind not in DEFAULT_MAGNITUDE:
            raise ValidationError(f"fault {self.kind}: takes no magnitude, got {value!r}.")
        if not _is_number(value):
            raise ValidationError(f"fault {self.kind}: magnitude must be a number, got {value!r}.")
        if self.kind == "overrun" and not (math.isfinite(value) and value == int(value) and value >= 1):
            raise ValidationError(f"fault overrun: magnitude must be a whole number of ticks >= 1, got {value!r}.")
        if self.kind in ("rom_breach", "over_temperature") and not (math.isfinite(value) and value > 0):
            raise ValidationError(f"fault {self.kind}: magnitude must be a finite number above 0, got {value!r}.")
        if self.kind == "spike" and not (math.isfinite(value) and value != 0):
            raise ValidationError(f"fault spike: magnitude must be a finite, non-zero angle (rad), got {value!r}.")

    def ticks(self, rate_hz: float) -> tuple[int, int]:
        """The first tick it affects and the first it no longer affects, at ``rate_hz`` (tick k at k / rate_hz)."""
        first = math.ceil(self.start_s * rate_hz - 1e-9)
        if self.kind == "spike":
            return first, first + 1
        if self.duration_s is None:
            if self.kind == "overrun":
                return first, first + int(self.magnitude)  # type: ignore[arg-type]
            return first, _NO_TICK
        return first, first + max(math.ceil(self.duration_s * rate_hz - 1e-9), 1)


def _is_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float)


@dataclass(frozen=True)
class PatientModel:
    """Parameters of the virtual patient's physics (illustrative values, not identified on a person).

    Attributes
    ----------
    actuator_tau_s
        Time constant of the applied torque following the command (motor current loop and transmission).
    compliance_rad_per_nm, interaction_tau_s, max_deviation_rad
        Interaction admittance: the applied torque moves the joint towards ``compliance x torque`` away from the
        replayed angle with this time constant, never more than ``max_deviation_rad`` (the patient's own muscles
        and the recorded movement dominate; 10 N*m gives 0.04 rad, 2.3 degrees).
    skin_baseline_c, skin_tau_s, skin_heating_c_per_nm_s
        Skin under each cuff: ``dT/dt = (baseline - T) / tau + heating x |torque|``. The cuff's pressure and the
        motor next to it warm the skin in proportion to the torque; continuous 10 N*m settles 3.6 degC above the
        33 degC baseline after a few times 120 s.
    ambient_c, motor_tau_s, motor_heating_c_per_nm2_s
        Each motor: ``dT/dt = (ambient - T) / tau + heating x torque^2`` (copper losses); 10 N*m settles 15 degC
        above ambient.
    battery_tau_s, battery_heating_c_per_nm2_s
        The battery, heated by the sum of the joints' torque squared.
    angle_noise_rad, velocity_noise_rad_s
        Standard deviation of the Gaussian noise on the sensors (an encoder and its differentiated speed).
    """

    actuator_tau_s: float = 0.01
    compliance_rad_per_nm: float = 0.004
    interaction_tau_s: float = 0.08
    max_deviation_rad: float = 0.1
    skin_baseline_c: float = 33.0
    skin_tau_s: float = 120.0
    skin_heating_c_per_nm_s: float = 0.003
    ambient_c: float = 25.0
    motor_tau_s: float = 300.0
    motor_heating_c_per_nm2_s: float = 0.0005
    battery_tau_s: float = 600.0
    battery_heating_c_per_nm2_s: float = 0.0001
    angle_noise_rad: float = 2e-4
    velocity_noise_rad_s: float = 5e-3

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            nonnegative = name.endswith("_noise_rad") or name.endswith("_noise_rad_s") or "heating" in name
            if not _is_number(value) or not math.isfinite(value) or value < 0 or (value == 0 and not nonnegative):
                raise ValidationError(f"patient model: {name} must be a finite number above 0, got {value!r}.")


class VirtualPatient:
    """A patient replaying recorded gait in a hip exoskeleton, with actuator, interaction and thermal dynamics.

    Parameters
    ----------
    gait
        A :class:`~exohub.signals.Recording` or a mapping with ``time_s`` and, for each joint of ``profile``,
        ``<joint>_angle`` (rad, flexion positive) and optionally ``<joint>_velocity`` (rad/s; the angle's
        gradient when absent). It is interpolated to the loop's clock and replayed in a loop when the session is
        longer; NaN gaps are bridged linearly (with a warning).
    profile
        The device: its joints say which channels drive which joint; its range of motion is what ``rom_breach``
        breaks.
    rate_hz
        The loop's rate: tick ``k`` is at ``k / rate_hz``.
    faults
        What to inject (:class:`FaultInjection`); the patient applies the sensor and link faults.
    seed
        Seed of the sensor noise.
    model
        The physics' parameters; :class:`PatientModel` defaults when None.

    Attributes
    ----------
    applied_torque_nm
        The torque each actuator applies now (N*m), after the latest :meth:`write`.
    """

    def __init__(
        self,
        gait: Recording | Mapping[str, Sequence[float] | np.ndarray],
        profile: DeviceProfile,
        *,
        rate_hz: float = 1000.0,
        faults: Sequence[FaultInjection] = (),
        seed: int = 0,
        model: PatientModel | None = None,
    ) -> None:
        if not isinstance(profile, DeviceProfile):
            raise ValidationError(f"profile must be a DeviceProfile, got {type(profile).__name__}.")
        if not _is_number(rate_hz) or not 1.0 <= rate_hz <= 10_000.0:
            raise ValidationError(f"rate_hz must be a number from 1 to 10000 Hz, got {rate_hz!r}.")
        self.profile, self.rate_hz = profile, float(rate_hz)
        self.model = PatientModel() if model is None else model
        self.faults = tuple(faults)
        for fault in self.faults:
            if not isinstance(fault, FaultInjection):
                raise ValidationError(f"faults must be FaultInjection objects, got {type(fault).__name__}.")
            if fault.joint is not None:
                profile.index(fault.joint)
        self.seed = seed
        time_s, angle, velocity = _gait_arrays(gait, profile.joint_names)
        self._replay_angle, self._replay_velocity = self._replay(time_s, angle, velocity)
        self.duration_s = len(self._replay_angle[0]) / self.rate_hz
        self._sensor_faults = [
            (fault.kind, *fault.ticks(self.rate_hz), self._joints_of(fault), float(fault.magnitude or 0.0))
            for fault in self.faults
            if fault.kind not in ("torque_spike", "overrun")
        ]
        self.applied_torque_nm = np.zeros(len(profile.joints))
        self.reset()

    def _joints_of(self, fault: FaultInjection) -> tuple[int, ...]:
        if fault.joint is None:
            return tuple(range(len(self.profile.joints)))
        return (self.profile.index(fault.joint),)

    def _replay(self, time_s: np.ndarray, angle: np.ndarray, velocity: np.ndarray) -> tuple[list, list]:
        """The replay on the loop's clock (one loop of the recording), plus the sensor noise, as lists per joint."""
        grid = time_s[0] + np.arange(int(np.floor((time_s[-1] - time_s[0]) * self.rate_hz)) + 1) / self.rate_hz
        rng = np.random.default_rng(self.seed)
        angles, velocities = [], []
        for j in range(angle.shape[1]):
            noise = rng.normal(0.0, 1.0, size=(2, grid.size))
            angles.append((np.interp(grid, time_s, angle[:, j]) + self.model.angle_noise_rad * noise[0]).tolist())
            velocities.append(
                (np.interp(grid, time_s, velocity[:, j]) + self.model.velocity_noise_rad_s * noise[1]).tolist()
            )
        return angles, velocities

    def reset(self) -> None:
        """Return to the start: no torque, the joint on the replay, temperatures at baseline and ambient."""
        n, model = len(self.profile.joints), self.model
        self._applied = [0.0] * n
        self._deviation = [0.0] * n
        self._deviation_rate = [0.0] * n
        self._skin = [model.skin_baseline_c] * n
        self._motor = [model.ambient_c] * n
        self._battery = model.ambient_c
        self._angle = [0.0] * n  # what the sensors reported last
        self._velocity = [0.0] * n
        self._sample_time_s = 0.0
        self._link_time_s = 0.0
        self._last_write_s = math.nan
        self._over_heating = [0.0] * n  # extra skin heating of an active over_temperature fault (degC/s)
        self.applied_torque_nm[:] = 0.0

    # --- the loop's calls ----------------------------------------------------------------------------------------
    def read(self, t_s: float, frame: SensorFrame) -> None:
        """Fill ``frame`` with the sensors at loop time ``t_s`` (faults applied)."""
        k = int(t_s * self.rate_hz + 0.5)
        i = k % len(self._replay_angle[0])
        angle, velocity = self._angle, self._velocity
        fresh_angle = [a[i] + d for a, d in zip(self._replay_angle, self._deviation, strict=True)]
        fresh_velocity = [v[i] + r for v, r in zip(self._replay_velocity, self._deviation_rate, strict=True)]
        sample_time_s = link_time_s = t_s
        if self._sensor_faults:
            sample_time_s, link_time_s = self._apply_faults(k, t_s, fresh_angle, fresh_velocity)
        angle[:], velocity[:] = fresh_angle, fresh_velocity
        self._sample_time_s, self._link_time_s = sample_time_s, link_time_s
        frame.angle_rad[:] = fresh_angle
        frame.velocity_rad_s[:] = fresh_velocity
        frame.skin_temp_c[:] = self._skin
        frame.motor_temp_c[:] = self._motor
        frame.battery_temp_c = self._battery
        frame.sample_time_s = sample_time_s
        frame.link_time_s = link_time_s

    def write(self, t_s: float, command_nm: np.ndarray) -> None:
        """Send the command of loop time ``t_s``: the actuators, the joints and the temperatures move one step."""
        model = self.model
        dt = t_s - self._last_write_s
        if not dt > 0.0:  # the first write (NaN), or a repeated time
            dt = 1.0 / self.rate_hz
        self._last_write_s = t_s
        follow = 1.0 - math.exp(-dt / model.actuator_tau_s)
        settle = 1.0 - math.exp(-dt / model.interaction_tau_s)
        skin_decay = math.exp(-dt / model.skin_tau_s)
        motor_decay = math.exp(-dt / model.motor_tau_s)
        limit = model.max_deviation_rad
        squares = 0.0
        for j, command in enumerate(command_nm.tolist()):
            applied = self._applied[j]
            applied += ((command if command - command == 0.0 else 0.0) - applied) * follow  # NaN/inf -> no torque
            self._applied[j] = applied
            target = min(max(model.compliance_rad_per_nm * applied, -limit), limit)
            deviation = self._deviation[j]
            moved = (target - deviation) * settle
            self._deviation[j] = deviation + moved
            self._deviation_rate[j] = moved / dt
            skin_input = model.skin_heating_c_per_nm_s * abs(applied) + self._over_heating[j]
            self._skin[j] = (
                model.skin_baseline_c
                + (self._skin[j] - model.skin_baseline_c) * skin_decay
                + (skin_input * model.skin_tau_s * (1.0 - skin_decay))
            )
            self._motor[j] = (
                model.ambient_c
                + (self._motor[j] - model.ambient_c) * motor_decay
                + (model.motor_heating_c_per_nm2_s * applied * applied * model.motor_tau_s * (1.0 - motor_decay))
            )
            squares += applied * applied
        battery_decay = math.exp(-dt / model.battery_tau_s)
        self._battery = (
            model.ambient_c
            + (self._battery - model.ambient_c) * battery_decay
            + (model.battery_heating_c_per_nm2_s * squares * model.battery_tau_s * (1.0 - battery_decay))
        )
        self.applied_torque_nm[:] = self._applied

    # --- faults ------------------------------------------------------------------------------------------------
    def _apply_faults(self, k: int, t_s: float, angle: list[float], velocity: list[float]) -> tuple[float, float]:
        """Break this tick's fresh readings as the active faults say; return the sample and link times."""
        sample_time_s, link_time_s = t_s, t_s
        heating = self._over_heating
        for j in range(len(heating)):
            heating[j] = 0.0
        for kind, first, end, joints, magnitude in self._sensor_faults:
            if not first <= k < end:
                continue
            if kind == "dropout":
                angle[:], velocity[:] = self._angle, self._velocity
                sample_time_s = self._sample_time_s
            elif kind == "communication_loss":
                link_time_s = self._link_time_s
            elif kind == "stuck":
                for j in joints:
                    angle[j], velocity[j] = self._angle[j], self._velocity[j]
            elif kind == "spike":
                for j in joints:
                    angle[j] += magnitude
            elif kind == "rom_breach":
                for j in joints:
                    angle[j] = self.profile.joints[j].max_angle_rad + magnitude
            else:  # over_temperature: heats from this tick's write on
                for j in joints:
                    heating[j] += magnitude
        return sample_time_s, link_time_s


def _gait_arrays(
    gait: Recording | Mapping[str, Sequence[float] | np.ndarray], joints: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time, angle and velocity ``(n_samples, n_joints)`` of ``joints`` from a recording or a mapping of arrays."""
    angle_names = [f"{joint}_angle" for joint in joints]
    velocity_names = [f"{joint}_velocity" for joint in joints]
    if isinstance(gait, Recording):
        frame = _recording_frame(gait, angle_names, velocity_names)
    elif isinstance(gait, Mapping):
        missing = [name for name in (TIME_COLUMN, *angle_names) if name not in gait]
        if missing:
            raise ValidationError(f"gait: missing {missing}; it needs {TIME_COLUMN} and {angle_names}.")
        columns = {
            name: np.asarray(gait[name], dtype=np.float64) for name in (*angle_names, *velocity_names) if name in gait
        }
        lengths = {name: values.shape for name, values in columns.items()}
        time_s = np.asarray(gait[TIME_COLUMN], dtype=np.float64)
        if any(shape != time_s.shape or len(shape) != 1 for shape in lengths.values()):
            raise ValidationError(
                f"gait: every array must be 1-D with one value per time_s ({time_s.shape}); got {lengths}."
            )
        frame = pd.DataFrame(columns, index=pd.Index(time_s, name=TIME_COLUMN))
    else:
        raise ValidationError(f"gait must be a Recording or a mapping of arrays, got {type(gait).__name__}.")
    time_s = frame.index.to_numpy(dtype=np.float64)
    check_time(time_s, where="gait")
    if time_s.size < 2:
        raise ValidationError(f"gait: needs at least 2 samples, got {time_s.size}.")
    angle = _bridged(frame, angle_names)
    if all(name in frame.columns for name in velocity_names):
        velocity = _bridged(frame, velocity_names)
    else:
        velocity = np.gradient(angle, time_s, axis=0)
    return time_s, angle, velocity


def _recording_frame(recording: Recording, angle_names: list[str], velocity_names: list[str]) -> pd.DataFrame:
    for name in angle_names:
        recording.stream_index(name)  # a missing channel is refused by name
    names = angle_names + [name for name in velocity_names if name in recording.channels]
    if len({recording.stream_index(name) for name in names}) == 1:
        return recording.get(names)
    return recording.align(recording.sampling_rate_hz(angle_names[0]), names)


def _bridged(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    values = frame.loc[:, names].to_numpy(dtype=np.float64, copy=True)
    bad = ~np.isfinite(values)
    if bad.all(axis=0).any():
        raise ValidationError(f"gait: channel {names[int(np.flatnonzero(bad.all(axis=0))[0])]!r} has no finite sample.")
    if bad.any():
        warnings.warn(
            f"gait: {int(bad.sum())} missing samples in {names} bridged by linear interpolation for the replay.",
            ExohubWarning,
            stacklevel=4,
        )
        time_s = frame.index.to_numpy(dtype=np.float64)
        for j in range(values.shape[1]):
            good = ~bad[:, j]
            values[bad[:, j], j] = np.interp(time_s[bad[:, j]], time_s[good], values[good, j])
    return values


def synthetic_hip_gait(
    duration_s: float = 10.0, *, sampling_rate_hz: float = 200.0, stride_time_s: float = 1.1, seed: int = 0
) -> Recording:
    """Return a synthetic level-walking recording of both hips (for demos, benchmarks and test fixtures).

    The hip flexion over a stride (phase 0 = initial contact) is ``12 + 18 cos(2 pi (phase - 0.97)) + 6 cos(4 pi
    (phase - 0.33))`` degrees: 26 degrees of flexion at heel strike, the most extension (-10 degrees) at 53 % and
    the most flexion (32 degrees) at 89 % of the stride, like normative walking. Stride times vary by 3 %
    (Gaussian), the right leg is half a stride behind the left, and 0.1 degree of noise is added.

    Returns
    -------
    Recording
        ``left/right_hip_angle`` (rad) and ``left/right_hip_velocity`` (rad/s) at ``sampling_rate_hz``; labels
        ``left_phase``, ``right_phase`` (0 = initial contact).
    """
    if not _is_number(duration_s) or not 1.0 <= duration_s <= 3600.0:
        raise ValidationError(f"duration_s must be from 1 to 3600 s, got {duration_s!r}.")
    rng = np.random.default_rng(seed)
    time_s = np.arange(int(duration_s * sampling_rate_hz)) / sampling_rate_hz
    n_strides = int(duration_s / stride_time_s) + 3
    strides = stride_time_s * (1.0 + 0.03 * rng.standard_normal(n_strides))
    contacts = np.concatenate(([0.0], np.cumsum(strides))) - 0.3 * stride_time_s
    index = np.searchsorted(contacts, time_s, side="right") - 1
    phase = (time_s - contacts[index]) / strides[index]
    columns, labels = {}, {}
    for side, shift in (("left", 0.0), ("right", 0.5)):
        side_phase = (phase + shift) % 1.0
        degrees = 12 + 18 * np.cos(2 * np.pi * (side_phase - 0.97)) + 6 * np.cos(4 * np.pi * (side_phase - 0.33))
        angle = np.deg2rad(degrees + 0.1 * rng.standard_normal(time_s.size))
        columns[f"{side}_hip_angle"] = angle
        columns[f"{side}_hip_velocity"] = np.gradient(np.deg2rad(degrees), time_s)
        labels[f"{side}_phase"] = side_phase
    index_s = pd.Index(time_s, name=TIME_COLUMN)
    info = {"description": "synthetic level walking (exohub.control.virtual.synthetic_hip_gait)", "source": "synthetic"}
    return Recording([pd.DataFrame(columns, index=index_s)], info, labels=pd.DataFrame(labels, index=index_s))
