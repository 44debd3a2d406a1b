"""A control session: patient -> phase estimation -> assistance -> safety supervisor -> patient, every tick.

:func:`run_session` wires a :class:`~exohub.control.virtual.VirtualPatient` (or anything with its ``read``/``write``
methods) to one phase estimator per joint, an :class:`~exohub.control.assistance.AssistancePolicy` and a
:class:`~exohub.control.safety.SafetySupervisor` inside a :class:`~exohub.control.FixedRateLoop`. Each tick is logged
as one row of floats into a preallocated :class:`~exohub.control.RingLog`, emptied off the loop by a
:class:`~exohub.control.RingLogFlusher` thread on the real clock (on a simulated clock, which runs faster than real
time, the ring holds the whole session and is drained at the end). The session then becomes a
:class:`~exohub.signals.Recording` (sensors as channels; estimated phase, commands, temperatures, faults as labels;
the fault, warning and reset log in ``info["description"]``) that :func:`~exohub.signals.write_recording` stores for
the clinic and :func:`~exohub.signals.read_recording` and ``exohub gait report`` read back.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from exohub.control._session_log import (
    CUFF_SEGMENT,
    FAULT_CODES,
    SAFETY_EVENT_COLUMNS,
    find_safety_events,
    session_recording,
)
from exohub.control._timing import Clock, SimulatedClock, TimingReport
from exohub.control.assistance import AssistancePolicy, TorqueProfile
from exohub.control.devices import Device
from exohub.control.loop import FixedRateLoop, GcPolicy
from exohub.control.profiles import DeviceProfile
from exohub.control.ringlog import RingLog, RingLogFlusher
from exohub.control.safety import SafetyEvent, SafetySupervisor, SensorFrame
from exohub.exceptions import ExohubWarning, SafetyViolation, ValidationError
from exohub.signals.events import NORMATIVE_INITIAL_CONTACT_LAG, StreamingAngleEventDetection
from exohub.signals.io import write_recording
from exohub.signals.phase import GaitPhaseEstimator, StrideTimePhaseEstimation
from exohub.signals.recording import Recording

__all__ = [
    "CUFF_SEGMENT",
    "FAULT_CODES",
    "SAFETY_EVENT_COLUMNS",
    "AnglePhaseEstimator",
    "SessionResult",
    "default_policy",
    "find_safety_events",
    "log_columns",
    "run_session",
    "session_recording",
]


class AnglePhaseEstimator:
    """Causal gait phase of one joint from its angle: flexion maxima -> time since the last one / stride time.

    :class:`~exohub.signals.events.StreamingAngleEventDetection` confirms each maximum of flexion (late swing,
    just before initial contact) and :class:`~exohub.signals.phase.StrideTimePhaseEstimation` runs the phase from
    the maximum's own time. Meets :class:`~exohub.signals.phase.GaitPhaseEstimator` with the joint angle (rad) as
    the sample, so an adaptive oscillator or a learned model can take its place. Phase 0 is initial contact, as in
    :mod:`exohub.signals.gait` and the assistance profiles: the flexion maximum comes
    :data:`~exohub.signals.events.NORMATIVE_INITIAL_CONTACT_LAG` of a stride before it. NaN until two maxima are
    known, over pauses, and for a NaN angle (which the detector never sees).

    Parameters
    ----------
    n_strides
        Stride times averaged by the phase estimator.
    """

    def __init__(self, n_strides: int = 3) -> None:
        self.n_strides = n_strides
        self.detector = StreamingAngleEventDetection(event="initial_contact")
        self.phase = StrideTimePhaseEstimation(n_strides=n_strides)

    def reset(self) -> None:
        """Forget the angle and the strides so far."""
        self.detector.reset()
        self.phase.reset()

    def step(self, time_s: float, angle_rad: float, /) -> float:
        """Take the angle at ``time_s``; return the phase in [0, 1) or NaN."""
        if angle_rad - angle_rad != 0.0:  # NaN or infinite: no event from a broken reading
            since_peak = self.phase.step(time_s, False)
        elif self.detector.step(time_s, angle_rad):
            since_peak = self.phase.step(time_s, True, self.detector.last_event_time_s)
        else:
            since_peak = self.phase.step(time_s, False)
        return (since_peak - NORMATIVE_INITIAL_CONTACT_LAG) % 1.0  # NaN stays NaN


def default_policy(profile: DeviceProfile) -> AssistancePolicy:
    """Hip assistance for every hip of ``profile``: 6 N*m extension around contact, 8 N*m flexion into swing."""
    hips = [joint for joint in profile.joint_names if joint.endswith("_hip")]
    if len(hips) != len(profile.joints):
        raise ValidationError(
            f"the default policy assists hips only; {profile.name} also has "
            f"{sorted(set(profile.joint_names) - set(hips))}; pass a policy with one torque profile per joint."
        )
    return AssistancePolicy(tuple(TorqueProfile.hip(joint) for joint in hips), soft_start_s=1.0)


@dataclass
class SessionResult:
    """What a session did.

    Attributes
    ----------
    timing
        The loop's :class:`~exohub.control.TimingReport`.
    events
        Faults, warnings and resets recorded by the supervisor, in order.
    refused_resets
        ``(time_s, reason)`` of each reset the supervisor refused (the cause was still present).
    columns
        Names of the per-tick log's columns.
    data
        The per-tick log, one row per tick (``(n_ticks, len(columns))``).
    recording
        The session as a :class:`~exohub.signals.Recording`.
    path
        Where the recording was written, or None.
    n_log_overwritten
        Log rows lost because the flusher fell behind (0 in a healthy run).
    """

    timing: TimingReport
    events: tuple[SafetyEvent, ...]
    refused_resets: tuple[tuple[float, str], ...]
    columns: tuple[str, ...]
    data: np.ndarray
    recording: Recording
    path: Path | None = None
    n_log_overwritten: int = 0
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {name: i for i, name in enumerate(self.columns)}

    def column(self, name: str) -> np.ndarray:
        """One column of the per-tick log (a view)."""
        if name not in self._index:
            raise ValidationError(f"the session log has no column {name!r}; it has {', '.join(self.columns)}.")
        return self.data[:, self._index[name]]

    @property
    def faults(self) -> tuple[SafetyEvent, ...]:
        """The faults among :attr:`events` (not warnings or resets)."""
        return tuple(event for event in self.events if event.kind in FAULT_CODES)


def log_columns(joints: Sequence[str]) -> tuple[str, ...]:
    """Columns of the per-tick log for ``joints``, in the order a tick writes them."""
    per_joint = ("angle_rad", "velocity_rad_s", "applied_torque_nm", "skin_temp_c", "motor_temp_c")
    commands = ("phase", "policy_torque_nm", "command_torque_nm")
    return (
        "t_s",
        "sample_time_s",
        "link_time_s",
        *(f"{joint}_{quantity}" for quantity in per_joint for joint in joints),
        "battery_temp_c",
        *(f"{joint}_{quantity}" for quantity in commands for joint in joints),
        "fault_code",
        "overrun",
    )


def run_session(
    patient: Device,
    *,
    duration_s: float,
    policy: AssistancePolicy | None = None,
    phase_estimators: Sequence[GaitPhaseEstimator] | None = None,
    clock: Clock | None = None,
    mode: str = "level_ground",
    resets: Sequence[tuple[float, str]] = (),
    out: str | Path | None = None,
    gc_policy: GcPolicy = "freeze",
    flush_period_s: float = 0.1,
    realtime_priority: int | None = None,
    cpus: Iterable[int] | None = None,
) -> SessionResult:
    """Run the assistance loop on ``patient`` for ``duration_s`` at the patient's rate; log and optionally write it.

    Parameters
    ----------
    patient
        The device side: ``read(t_s, frame)``, ``write(t_s, command)``, ``profile``, ``rate_hz``, ``faults`` and
        ``applied_torque_nm``. Its ``torque_spike`` and ``overrun`` faults are injected here.
    duration_s
        Session length (s of loop time).
    policy
        The assistance; :func:`default_policy` when None. The session starts it at t = 0 (its soft start runs).
    phase_estimators
        One :class:`~exohub.signals.phase.GaitPhaseEstimator` per joint, stepped with the joint's angle;
        :class:`AnglePhaseEstimator` when None. Each is reset before the loop starts.
    clock
        The loop's clock: the real clock when None; a :class:`~exohub.control.SimulatedClock` in tests.
    mode
        The locomotion mode given to the policy.
    resets
        ``(time_s, authorised_by)``: at the first tick at or after ``time_s`` the supervisor is asked to reset
        (refused while the fault's cause is present: recorded in :attr:`SessionResult.refused_resets`). After a
        reset the policy's soft start runs again.
    out
        Write the session recording there (``.parquet``, ``.csv``, ...); None writes nothing.
    gc_policy, flush_period_s
        The loop's garbage-collection policy, and how often the flusher thread empties the log (real clock).
    realtime_priority, cpus
        The loop's real-time mode (see :class:`~exohub.control.FixedRateLoop`): SCHED_FIFO at this priority with
        the memory locked, pinned to these CPUs, for the loop's thread only. The log flusher is started before the
        loop and keeps the process's normal policy and CPUs, so writing the log never competes with a tick.
    """
    profile = patient.profile
    rate_hz = patient.rate_hz
    if not isinstance(duration_s, int | float) or isinstance(duration_s, bool) or not 0 < duration_s <= 24 * 3600:
        raise ValidationError(f"duration_s must be a number of seconds in (0, 86400], got {duration_s!r}.")
    policy = default_policy(profile) if policy is None else policy
    policy_joints = [getattr(torque, "joint", None) for torque in policy.profiles]
    if policy_joints != list(profile.joint_names):
        raise ValidationError(
            f"the policy's torque profiles are for {policy_joints}; {profile.name} commands {list(profile.joint_names)}"
            " in that order."
        )
    resets = _checked_resets(resets)
    estimators = [AnglePhaseEstimator() for _ in profile.joints] if phase_estimators is None else list(phase_estimators)
    if len(estimators) != len(profile.joints) or not all(isinstance(e, GaitPhaseEstimator) for e in estimators):
        raise ValidationError(f"phase_estimators needs one GaitPhaseEstimator per joint ({len(profile.joints)}).")
    loop = FixedRateLoop(rate_hz, clock=clock, gc_policy=gc_policy, realtime_priority=realtime_priority, cpus=cpus)
    simulated = isinstance(loop.clock, SimulatedClock)
    columns = log_columns(profile.joint_names)
    n_slots = max(math.ceil(duration_s * rate_hz - 1e-9), 1)
    ring = RingLog(n_slots if simulated else max(int(rate_hz * max(2.0, 20 * flush_period_s)), 1000), columns)
    blocks: list[np.ndarray] = []
    tick, supervisor, refused, release = _make_tick(patient, policy, estimators, loop, ring, mode, resets)
    started_at = datetime.now(UTC)
    for estimator in estimators:
        estimator.reset()
    policy.start(0.0)
    try:
        if simulated:
            timing = loop.run(tick, duration_s=duration_s)
        else:
            flusher = RingLogFlusher(ring, blocks.append, period_s=flush_period_s)
            with flusher:
                timing = loop.run(tick, duration_s=duration_s)
    finally:
        release()
    blocks.append(ring.drain())
    if ring.n_overwritten:
        warnings.warn(
            f"the session log lost {ring.n_overwritten} rows: the flusher fell behind the loop.",
            ExohubWarning,
            stacklevel=2,
        )
    data = np.concatenate(blocks) if blocks else np.empty((0, len(columns)))
    events = tuple(supervisor.events)
    recording = session_recording(columns, data, events, profile, mode=mode, rate_hz=rate_hz)
    recording.info["meas_date"] = started_at  # the day the clinic's upload is checked against
    path = None if out is None else write_recording(recording, out)
    return SessionResult(
        timing, events, tuple(refused), columns, data, recording, path=path, n_log_overwritten=ring.n_overwritten
    )


def _checked_resets(resets: Sequence[tuple[float, str]]) -> list[tuple[float, str]]:
    checked = []
    for index, reset in enumerate(resets):
        if not (isinstance(reset, tuple | list) and len(reset) == 2):
            raise ValidationError(f"resets[{index}] must be a (time_s, authorised_by) pair, got {reset!r}.")
        t_s, who = reset
        if isinstance(t_s, bool) or not isinstance(t_s, int | float) or not 0 <= t_s < math.inf:
            raise ValidationError(f"resets[{index}]: time_s must be a finite number of seconds >= 0, got {t_s!r}.")
        if not isinstance(who, str) or not who.strip():
            raise ValidationError(f"resets[{index}]: authorised_by must name who resets, got {who!r}.")
        checked.append((float(t_s), who))
    return checked


def _make_tick(
    patient: Device,
    policy: AssistancePolicy,
    estimators: list[GaitPhaseEstimator],
    loop: FixedRateLoop,
    ring: RingLog,
    mode: str,
    resets: Sequence[tuple[float, str]],
) -> tuple[Any, SafetySupervisor, list[tuple[float, str]], Any]:
    """The tick function (a closure over preallocated buffers), its supervisor, refused resets and ``release``.

    ``release()`` sends zero torque once the loop has ended, for whatever reason. A tick in which reading the
    device, a phase estimator or the policy raises latches a controller error, and the supervisor commands the
    safe state from that tick on; the session goes on to its end.
    """
    profile, rate_hz = patient.profile, patient.rate_hz
    n = len(profile.joints)
    supervisor = SafetySupervisor(profile, tick_period_s=1.0 / rate_hz)
    frame = SensorFrame(n, n_skin_sensors=n)
    phase, command = np.full(n, math.nan), np.zeros(n)
    row = np.zeros(len(ring.columns))
    spikes = [
        (*fault.ticks(rate_hz), _joint_indices(profile, fault.joint), float(fault.magnitude))
        for fault in patient.faults
        if fault.kind == "torque_spike"
    ]
    overruns = [fault.ticks(rate_hz) for fault in patient.faults if fault.kind == "overrun"]
    reset_at = sorted((math.ceil(t_s * rate_hz - 1e-9), who) for t_s, who in resets)
    refused: list[tuple[float, str]] = []
    codes = FAULT_CODES
    seen_overruns = [0]
    # slices of the row: 3 times, then 5 blocks of n per-joint values, the battery, 3 blocks of n, code, overrun
    blocks = [slice(3 + b * n, 3 + (b + 1) * n) for b in range(5)]
    battery = 3 + 5 * n
    phases, policies, sent = (slice(battery + 1 + b * n, battery + 1 + (b + 1) * n) for b in range(3))
    code_at = battery + 1 + 3 * n
    applied = patient.applied_torque_nm
    last_t_s = [0.0]

    def tick(k: int, t_s: float) -> None:
        last_t_s[0] = t_s
        try:
            patient.read(t_s, frame)
        except Exception as error:  # noqa: BLE001 - any failure must end in the safe state, not stop the loop
            supervisor.fail(t_s, frame, f"reading the device raised {error!r}")
        overrun = loop.n_overruns != seen_overruns[0]
        seen_overruns[0] = loop.n_overruns
        for first, end in overruns:
            if first <= k < end:
                overrun = True
        while reset_at and reset_at[0][0] <= k:
            _, who = reset_at.pop(0)
            latched = supervisor.latched
            try:
                supervisor.reset(t_s, frame, authorised_by=who)
            except SafetyViolation as err:
                refused.append((t_s, str(err)))
            else:
                if latched:
                    policy.start(t_s)  # assistance rises again through the soft start
        try:
            for j, angle in enumerate(frame.angle_rad.tolist()):
                phase[j] = estimators[j].step(t_s, angle)
            command[:] = policy.step(t_s, phase, frame.angle_rad, mode)
        except Exception as error:  # noqa: BLE001 - as above
            command[:] = 0.0
            supervisor.fail(t_s, frame, f"the controller raised {error!r}")
        for first, end, joints, magnitude in spikes:
            if first <= k < end:
                for j in joints:
                    command[j] += magnitude
        safe = supervisor.step(t_s, frame, command, overrun=overrun)
        patient.write(t_s, safe)
        fault = supervisor.fault
        row[0], row[1], row[2] = t_s, frame.sample_time_s, frame.link_time_s
        row[blocks[0]] = frame.angle_rad
        row[blocks[1]] = frame.velocity_rad_s
        row[blocks[2]] = applied
        row[blocks[3]] = frame.skin_temp_c
        row[blocks[4]] = frame.motor_temp_c
        row[battery] = frame.battery_temp_c
        row[phases] = phase
        row[policies] = command
        row[sent] = safe
        row[code_at] = 0.0 if fault is None else codes[fault.kind]
        row[code_at + 1] = overrun
        ring.append(row)

    def release() -> None:
        patient.write(last_t_s[0] + 1.0 / rate_hz, np.zeros(n))

    return tick, supervisor, refused, release


def _joint_indices(profile: DeviceProfile, joint: str | None) -> tuple[int, ...]:
    return tuple(range(len(profile.joints))) if joint is None else (profile.index(joint),)
