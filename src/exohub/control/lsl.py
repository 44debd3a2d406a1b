"""Live streams over Lab Streaming Layer (LSL): the device's sensors in, the supervisor's command out, on this machine.

:class:`LslSensorInlet` fills a :class:`~exohub.control.safety.SensorFrame` from an LSL stream every tick, and
:class:`LslCommandOutlet` publishes the safe command; :class:`LslDevice` joins them with a
:class:`~exohub.control.profiles.DeviceProfile` into the device side that :func:`~exohub.control.run_session`
drives (the same ``read(t_s, frame)`` / ``write(t_s, command)`` as :class:`~exohub.control.VirtualPatient`).

**On this machine only.** Before the first LSL object of the process is made, :func:`configure_lsl` hands liblsl
the packaged ``control/data/lsl_api.cfg`` (:func:`pylsl.set_config_content`, which takes precedence over the
``LSLAPICFG`` environment variable and liblsl's own config files): discovery queries go to 127.0.0.1 only
(``ResolveScope = machine``, multicast TTL 0, IPv6 off) and the discovery responder listens on 127.0.0.1. liblsl
has no setting for the address of an outlet's data server, which listens on every IPv4 interface: LSL starts no
traffic off the machine, but a host that knows the port could connect in (block ports 16571-16603 in the firewall
of a device on a shared network). liblsl reads its configuration once per process: if anything used LSL before,
that configuration stays.

**Clocks.** Samples carry LSL time stamps (the sender's ``local_clock``). When the inlet opens it measures the
offset to this machine's LSL clock (liblsl's ``time_correction``: 0 between two processes of one machine, which
share the clock; :meth:`LslSensorInlet.update_time_correction` measures it again off the loop), and each tick
converts the newest stamp to the loop clock by its age:
``sample_time_s = t_s - (local_clock() - (time_stamp + time_correction_s))`` (an age below 0 counts as 0), so
any loop clock works (the real one, or a simulated one in tests). ``link_time_s`` is the loop time of the last
tick that received a sample.

**Per tick** the inlet makes one non-blocking ``lsl_pull_chunk_d`` call into liblsl (per 64 queued samples) into
preallocated buffers and one ``local_clock`` call, then copies the newest row into the frame; the outlet copies the
command into a preallocated array and makes one ``lsl_push_sample_dtp`` call. Both go straight to the liblsl
functions that ``pylsl`` loaded, because pylsl's own ``pull_chunk`` builds new arrays on every call (about 15 us
against 2-4 us). Only short-lived temporaries are made, no reference cycles. ``pylsl`` (whose wheel carries liblsl)
is imported when a class is first built, never when :mod:`exohub.control` is imported.
"""

from __future__ import annotations

import ctypes
import math
import time
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Literal

import numpy as np

from exohub.control._liblsl import LSL_CONFIG, _lsl, channel_labels, channel_units, configure_lsl, resolve_stream
from exohub.control.profiles import DeviceProfile
from exohub.control.safety import SensorFrame
from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.channels import parse_channel

__all__ = [
    "CHUNK_SAMPLES",
    "CUFF_SEGMENT",
    "LSL_CONFIG",
    "LslCommandOutlet",
    "LslDevice",
    "LslSensorInlet",
    "channel_labels",
    "channel_units",
    "configure_lsl",
    "resolve_stream",
]

#: The skin sensor under each joint's cuff: the segment below it (as in the session log).
CUFF_SEGMENT = {"hip": "thigh", "knee": "shank", "ankle": "foot"}
#: Samples taken from liblsl per call; the inlet drains up to ``_MAX_PULLS`` calls per tick.
CHUNK_SAMPLES = 64
_MAX_PULLS = 16


_TEMPERATURE_FIELDS = ("skin_temp_c", "motor_temp_c", "battery_temp_c")
#: The units a channel may declare (``desc/channels/channel/unit``) for each frame field; a channel that declares
#: none is taken to be in the field's unit, as its name says (the CSV convention).
ACCEPTED_UNITS: dict[str, frozenset[str]] = {
    "angle_rad": frozenset({"rad", "radian", "radians"}),
    "velocity_rad_s": frozenset({"rad/s", "rad s-1", "rad*s^-1", "radians/s"}),
    "applied_torque_nm": frozenset({"N*m", "N.m", "N m", "Nm"}),
    **{field: frozenset({"degC", "deg C", "°C", "celsius", "Celsius"}) for field in _TEMPERATURE_FIELDS},
}


def _frame_field(name: str, joints: Sequence[str]) -> tuple[str, int]:
    """Which SensorFrame entry a channel fills: (field, index); a name that fills none is refused."""
    if name == "battery_temp_c":
        return "battery_temp_c", 0
    if name.endswith("_motor_temp_c") and name[: -len("_motor_temp_c")] in joints:
        return "motor_temp_c", list(joints).index(name[: -len("_motor_temp_c")])
    channel = parse_channel(name)  # names the problem for a malformed channel
    if channel.quantity in ("angle", "velocity", "torque") and channel.axis is None and channel.location in joints:
        field = {"angle": "angle_rad", "velocity": "velocity_rad_s", "torque": "applied_torque_nm"}[channel.quantity]
        return field, list(joints).index(channel.location)
    if channel.quantity == "skin_temp":
        for j, joint in enumerate(joints):
            side, kind = joint.split("_", 1)
            if channel.location == f"{side}_{CUFF_SEGMENT.get(kind, '')}":
                return "skin_temp_c", j
    raise ValidationError(
        f"channel {name!r} fills no sensor reading of joints {list(joints)}: use <joint>_angle, <joint>_velocity, "
        "<joint>_torque, <side>_<cuff segment>_skin_temp, <joint>_motor_temp_c or battery_temp_c."
    )


class LslSensorInlet:
    """Read the newest sensor sample of an LSL stream into a :class:`~exohub.control.safety.SensorFrame`.

    The stream's channels are found by their ``label`` (``desc/channels/channel/label``, the XDF convention) and
    must be numeric. Each :meth:`read` takes every sample queued since the last one without waiting and keeps the
    newest; a tick with nothing new leaves the frame as it was, so the supervisor sees the sample and link times
    age (``sensor_stale`` / ``communication_loss``). Until the first sample arrives both times are ``-inf``: a
    session started on a silent stream goes to the safe state at its first tick (:meth:`wait_for_samples`
    waits for the data to flow first). A stream error at run time is counted (:attr:`n_errors`), never raised.

    Parameters
    ----------
    stream
        The stream's name (or type, with ``by="type"``).
    channels
        The channels to read, in the CSV convention: ``<joint>_angle`` (rad) for every joint (required),
        ``<joint>_velocity`` (rad/s; without it the velocity is the difference of the last two angle samples over
        their time stamps), ``<joint>_torque`` (applied, N*m: :attr:`applied_torque_nm`),
        ``<side>_<cuff segment>_skin_temp`` (degC; the thigh for a hip), and the session log's
        ``<joint>_motor_temp_c`` and ``battery_temp_c``. Readings without a channel keep the frame's values (a
        warning says which temperatures the supervisor then cannot check).
    joints
        The device's joints in the profile's order (``profile.joint_names``).
    by
        Resolve the stream by ``"name"`` or ``"type"``.
    timeout_s
        How long to look for the stream and wait for its description.

    Attributes
    ----------
    info
        The stream's full ``pylsl.StreamInfo``.
    labels
        The stream's channel labels, in its order.
    applied_torque_nm
        The newest applied torque per joint (NaN without ``<joint>_torque`` channels).
    n_samples, n_errors
        Samples received so far; liblsl errors while pulling.
    time_correction_s
        Added to the sender's time stamps to put them on this machine's LSL clock.
    """

    def __init__(
        self,
        stream: str,
        channels: Sequence[str],
        *,
        joints: Sequence[str],
        by: Literal["name", "type"] = "name",
        timeout_s: float = 2.0,
    ) -> None:
        self.stream, self.channels, self.joints, self.by = stream, tuple(channels), tuple(joints), by
        self.timeout_s = timeout_s
        fields = self._check_channels()
        pylsl = _lsl()
        found = resolve_stream(stream, by=by, timeout_s=timeout_s)
        if found.channel_format() == pylsl.cf_string:
            raise ValidationError(f"LSL stream {stream!r} carries text; sensor channels must be numeric.")
        self._inlet = pylsl.StreamInlet(found, max_buflen=1)
        self.info = self._inlet.info(timeout_s)
        self.labels = channel_labels(self.info)
        missing = [name for name in self.channels if name not in self.labels]
        if missing:
            raise ValidationError(
                f"LSL stream {stream!r} has no channel {', '.join(missing)}; its channel labels are "
                f"{', '.join(label or '(none)' for label in self.labels)}."
            )
        self._check_units(channel_units(self.info))
        self._inlet.open_stream(timeout_s)
        self._bind(pylsl, fields)
        self.update_time_correction(timeout_s)

    def _check_channels(self) -> dict[str, list[tuple[int, int]]]:
        """Map each requested channel to a frame field; refuse duplicates and a joint without its angle."""
        if not self.joints or not all(isinstance(joint, str) and joint for joint in self.joints):
            raise ValidationError(f"joints must name the device's joints, got {self.joints!r}.")
        if len(set(self.channels)) != len(self.channels):
            raise ValidationError(f"channels lists a channel twice: {list(self.channels)}.")
        fields: dict[str, list[tuple[int, int]]] = {}
        for position, name in enumerate(self.channels):
            field, index = _frame_field(name, self.joints)
            fields.setdefault(field, []).append((position, index))
        angles = {index for _, index in fields.get("angle_rad", [])}
        missing = [f"{joint}_angle" for j, joint in enumerate(self.joints) if j not in angles]
        if missing:
            raise ValidationError(f"channels must include {', '.join(missing)}: the supervisor checks every angle.")
        unchecked = [
            what
            for field, what in (
                ("skin_temp_c", "skin"),
                ("motor_temp_c", "motor"),
                ("battery_temp_c", "battery"),
            )
            if field not in fields
        ]
        if unchecked:
            warnings.warn(
                f"LSL stream {self.stream!r}: no {', '.join(unchecked)} temperature channel; the supervisor "
                "cannot check those temperatures (the frame keeps its values).",
                ExohubWarning,
                stacklevel=3,
            )
        return fields

    def _check_units(self, units: tuple[str, ...]) -> None:
        """Refuse a requested channel whose declared unit is not its frame field's (degrees read as radians...)."""
        for name in self.channels:
            unit = units[self.labels.index(name)] if len(units) == len(self.labels) else ""
            field, _ = _frame_field(name, self.joints)
            if unit and unit not in ACCEPTED_UNITS[field]:
                raise ValidationError(
                    f"LSL stream {self.stream!r}: channel {name!r} is in {unit!r}; exohub reads it as {field} and "
                    f"accepts {', '.join(sorted(ACCEPTED_UNITS[field]))} (or no declared unit). Convert at the sender."
                )

    def _bind(self, pylsl: ModuleType, fields: dict[str, list[tuple[int, int]]]) -> None:
        """Preallocate the pull buffers and the column -> frame index arrays used every tick."""
        n_channels = self.info.channel_count()
        self._lib = pylsl.lib.lib
        self._local_clock = self._lib.lsl_local_clock
        self._data = np.zeros((CHUNK_SAMPLES, n_channels))
        self._stamps = np.zeros(CHUNK_SAMPLES)
        self._pull_args = (
            self._inlet.obj,
            ctypes.c_void_p(self._data.ctypes.data),
            ctypes.c_void_p(self._stamps.ctypes.data),
            ctypes.c_size_t(self._data.size),
            ctypes.c_size_t(CHUNK_SAMPLES),
            ctypes.c_double(0.0),
        )
        self._error = ctypes.c_int()
        self._error_ref = ctypes.byref(self._error)
        self._n_channels = n_channels
        self._newest = np.full(n_channels, math.nan)
        self._previous = np.full(n_channels, math.nan)
        self._newest_stamp = self._previous_stamp = math.nan
        n = len(self.joints)
        self.applied_torque_nm = np.full(n, math.nan)
        column = {name: self.labels.index(name) for name in self.channels}
        self._columns = {
            field: (
                np.array([column[self.channels[p]] for p, _ in pairs], dtype=np.intp),
                np.array([i for _, i in pairs], dtype=np.intp),
            )
            for field, pairs in fields.items()
        }
        self._per_joint = [
            (field, *self._columns[field])
            for field in ("angle_rad", "velocity_rad_s", "motor_temp_c", "skin_temp_c")
            if field in self._columns
        ]
        self._battery = int(self._columns["battery_temp_c"][0][0]) if "battery_temp_c" in self._columns else -1
        self._torque = self._columns.get("applied_torque_nm")
        self._derive_velocity = "velocity_rad_s" not in self._columns
        self._angle_columns, self._angle_joints = self._columns["angle_rad"]
        self.n_samples = self.n_errors = 0
        self._sample_loop_time_s = self._link_loop_time_s = -math.inf
        self._fresh = False

    # --- the loop's call --------------------------------------------------------------------------------------------
    def read(self, t_s: float, frame: SensorFrame) -> None:
        """Fill ``frame`` with the newest sample (taken without waiting) and its loop-clock times."""
        self._pull()
        if self._fresh:
            age_s = self._local_clock() - (self._newest_stamp + self.time_correction_s)
            self._sample_loop_time_s = t_s - (age_s if age_s > 0.0 else 0.0)
            self._link_loop_time_s = t_s
            self._fill(frame)
            self._fresh = False
        frame.sample_time_s = self._sample_loop_time_s
        frame.link_time_s = self._link_loop_time_s

    def _pull(self) -> int:
        """Drain what liblsl holds (up to ``_MAX_PULLS`` chunks); keep the newest two samples; return the count."""
        pull, args, error = self._lib.lsl_pull_chunk_d, self._pull_args, self._error_ref
        n_channels, received = self._n_channels, 0
        for _ in range(_MAX_PULLS):
            n_values = pull(*args, error)
            if self._error.value:
                self.n_errors += 1
                self._error.value = 0
                break
            n = n_values // n_channels
            if n == 0:
                break
            received += n
            if self._derive_velocity:  # the velocity comes from the last two samples
                if n >= 2:
                    self._previous[:] = self._data[n - 2]
                    self._previous_stamp = float(self._stamps[n - 2])
                else:
                    self._previous[:] = self._newest
                    self._previous_stamp = self._newest_stamp
            self._newest[:] = self._data[n - 1]
            self._newest_stamp = float(self._stamps[n - 1])
            if n < CHUNK_SAMPLES:
                break
        if received:
            self.n_samples += received
            self._fresh = True
        return received

    def _fill(self, frame: SensorFrame) -> None:
        newest = self._newest
        for field, columns, joints in self._per_joint:
            getattr(frame, field)[joints] = newest[columns]
        if self._derive_velocity:
            dt_s = self._newest_stamp - self._previous_stamp
            if dt_s > 0.0:  # False before two samples (NaN) and for repeated stamps: the velocity is kept
                rate = (newest[self._angle_columns] - self._previous[self._angle_columns]) / dt_s
                frame.velocity_rad_s[self._angle_joints] = rate
        if self._battery >= 0:
            frame.battery_temp_c = float(newest[self._battery])
        if self._torque is not None:
            self.applied_torque_nm[self._torque[1]] = newest[self._torque[0]]

    def update_time_correction(self, timeout_s: float = 2.0) -> float:
        """Measure (off the loop) the offset from the sender's LSL clock to this machine's; return it (s).

        Done when the inlet opens; call it again now and then (between sessions) for a sender on another
        machine, whose clock drifts. Between two processes of one machine it is 0 (they share one clock).
        """
        self.time_correction_s = float(self._inlet.time_correction(timeout_s))
        return self.time_correction_s

    def wait_for_samples(self, count: int = 1, timeout_s: float = 2.0) -> bool:
        """Wait (off the loop) until ``count`` samples in all have been received or ``timeout_s`` passed.

        Returns whether they came. The newest is what the next :meth:`read` gives (its age counted from now on).
        """
        deadline = time.monotonic() + timeout_s
        while self.n_samples < count and time.monotonic() < deadline:
            if not self._pull():
                time.sleep(0.001)
        return self.n_samples >= count

    def close(self) -> None:
        """Close the connection to the stream (the inlet is unusable afterwards)."""
        if getattr(self, "_inlet", None) is not None:
            self._inlet.close_stream()
            self._inlet = None


class LslCommandOutlet:
    """Publish the command sent to each joint (N*m) as an LSL stream, one sample per tick.

    The stream (``cf_double64``, irregular rate, time stamped by liblsl at the push) has one channel per joint,
    labelled ``<joint>_torque`` with unit ``N*m``; each :meth:`write` copies the command into a preallocated array
    and pushes it through at once. A push error is counted (:attr:`n_errors`), never raised in the loop.

    Parameters
    ----------
    name
        The stream's name.
    joints
        The device's joints in the profile's order.
    stream_type
        The stream's LSL type.
    source_id
        The stream's source id (lets a receiver reconnect after a restart); ``exohub-<name>`` when None.

    Attributes
    ----------
    n_pushed, n_errors
        Samples pushed; pushes liblsl refused.
    """

    def __init__(
        self, name: str, joints: Sequence[str], *, stream_type: str = "Control", source_id: str | None = None
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"the command stream needs a name, got {name!r}.")
        self.name, self.joints = name, tuple(joints)
        if not self.joints or not all(isinstance(joint, str) and joint for joint in self.joints):
            raise ValidationError(f"joints must name the device's joints, got {self.joints!r}.")
        for joint in self.joints:
            parse_channel(f"{joint}_torque")  # a joint outside the convention is refused by name
        pylsl = _lsl()
        info = pylsl.StreamInfo(
            name,
            stream_type,
            len(self.joints),
            pylsl.IRREGULAR_RATE,
            pylsl.cf_double64,
            source_id or f"exohub-{name}",
        )
        channels = info.desc().append_child("channels")
        for joint in self.joints:
            channel = channels.append_child("channel")
            channel.append_child_value("label", f"{joint}_torque")
            channel.append_child_value("unit", "N*m")
            channel.append_child_value("type", "torque")
        self._outlet = pylsl.StreamOutlet(info, chunk_size=1, max_buffered=1)
        self._sample = np.zeros(len(self.joints))
        lib = pylsl.lib.lib
        self._push = lib.lsl_push_sample_dtp
        self._push_args = (self._outlet.obj, ctypes.c_void_p(self._sample.ctypes.data), ctypes.c_double(0.0), 1)
        self.n_pushed = self.n_errors = 0

    def write(self, t_s: float, command_nm: np.ndarray) -> None:
        """Push the command of loop time ``t_s`` (one value per joint, in the profile's order)."""
        self._sample[:] = command_nm
        if self._push(*self._push_args):
            self.n_errors += 1
        else:
            self.n_pushed += 1

    def wait_for_consumers(self, timeout_s: float = 2.0) -> bool:
        """Wait (off the loop) until a receiver is connected or ``timeout_s`` passed; return whether one is."""
        return bool(self._outlet.wait_for_consumers(timeout_s))

    def close(self) -> None:
        """Withdraw the stream (the outlet is unusable afterwards)."""
        self._outlet = None
        self._push_args = ()


class LslDevice:
    """A device reached over LSL: what :func:`~exohub.control.run_session` drives, like a virtual patient.

    Parameters
    ----------
    profile
        The device's limits; its joints must be the inlet's and the outlet's, in the same order.
    inlet, outlet
        The sensor stream in and the command stream out.
    rate_hz
        The loop's rate (100 to 1000 Hz).

    Attributes
    ----------
    faults
        Empty: nothing is injected into a live device.
    applied_torque_nm
        The inlet's newest applied torque per joint (NaN without ``<joint>_torque`` channels).
    """

    def __init__(
        self, profile: DeviceProfile, inlet: LslSensorInlet, outlet: LslCommandOutlet, *, rate_hz: float = 1000.0
    ) -> None:
        if not isinstance(profile, DeviceProfile):
            raise ValidationError(f"profile must be a DeviceProfile, got {type(profile).__name__}.")
        for side, joints in (("inlet", inlet.joints), ("outlet", outlet.joints)):
            if tuple(joints) != profile.joint_names:
                raise ValidationError(
                    f"the {side}'s joints {list(joints)} are not {profile.name}'s {list(profile.joint_names)}."
                )
        if not isinstance(rate_hz, int | float) or isinstance(rate_hz, bool) or not 100.0 <= rate_hz <= 1000.0:
            raise ValidationError(f"rate_hz must be from 100 to 1000 Hz, got {rate_hz!r}.")
        self.profile, self.inlet, self.outlet, self.rate_hz = profile, inlet, outlet, float(rate_hz)
        self.faults: tuple[()] = ()
        self.applied_torque_nm = inlet.applied_torque_nm

    def read(self, t_s: float, frame: SensorFrame) -> None:
        """Fill ``frame`` from the sensor stream."""
        self.inlet.read(t_s, frame)

    def write(self, t_s: float, command_nm: np.ndarray) -> None:
        """Publish the command."""
        self.outlet.write(t_s, command_nm)
