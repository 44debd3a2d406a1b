"""The fault matrix: every injectable fault at several times, on the simulated clock, checked from the session log.

For each case a session runs with one :class:`~exohub.control.virtual.FaultInjection`, is written to Parquet and read
back. The checks use the log and the profile's thresholds, not the supervisor's internals: the tick at which the
fault first becomes observable in the logged readings (a sample older than ``max_sensor_age_s``, an angle outside the
range, a reading frozen for ``stuck_s`` while driven, ...), the tick at which the fault is latched (their difference
must be 0: the safe state comes in the tick the fault is observed), whether the sent command then ramps to zero and
stays there (zero-torque profiles), whether the fault stays latched to the end, and whether the recording read back
carries it (the ``fault_code`` label at that tick and the fault named in the description).
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exohub.control._defaults import DEFAULT_TIMES_S
from exohub.control._timing import SimulatedClock
from exohub.control.profiles import DeviceProfile
from exohub.control.session import FAULT_CODES, SessionResult, run_session
from exohub.control.virtual import FAULT_KINDS, FaultInjection, VirtualPatient
from exohub.exceptions import ValidationError
from exohub.signals.io import read_recording
from exohub.signals.recording import Recording

#: The fault the supervisor must latch for each injected kind (default magnitudes).
EXPECTED_FAULT = {
    "dropout": "sensor_stale",
    "spike": "range_of_motion",
    "stuck": "sensor_stuck",
    "over_temperature": "skin_temperature",
    "rom_breach": "range_of_motion",
    "torque_spike": "command_invalid",
    "overrun": "loop_overrun",
    "communication_loss": "communication_loss",
}


@dataclass(frozen=True)
class FaultCase:
    """The outcome of one fault injected at one time.

    Attributes
    ----------
    kind, injected_s
        What was injected, and when.
    expected_fault, fault
        The fault the supervisor should latch, and the one it latched (None: none).
    observed_tick, fault_tick
        First tick at which the fault is observable in the logged readings, and first tick with a latched fault.
    ticks_to_safe
        ``fault_tick - observed_tick``: 0 when the safe state came in the tick the fault was observed.
    safe_state
        The sent torque never grew in magnitude from the fault tick on and was zero once the ramp had run.
    latched
        The fault stayed latched to the end of the session.
    logged
        The recording read back shows the fault (``fault_code`` label at the fault tick, the fault in the
        description).
    """

    kind: str
    injected_s: float
    expected_fault: str
    fault: str | None
    observed_tick: int | None
    fault_tick: int | None
    ticks_to_safe: int | None
    safe_state: bool
    latched: bool
    logged: bool

    @property
    def passed(self) -> bool:
        """Everything as required: the expected fault, safe in the tick it is observed, latched and logged."""
        return (
            self.fault == self.expected_fault
            and self.ticks_to_safe is not None
            and self.ticks_to_safe == 0
            and self.safe_state
            and self.latched
            and self.logged
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields and ``passed``, JSON-ready."""
        return asdict(self) | {"passed": self.passed}


def run_fault_matrix(
    gait: Any,
    profile: DeviceProfile,
    *,
    rate_hz: float = 1000.0,
    kinds: Sequence[str] = FAULT_KINDS,
    times_s: Sequence[float] = DEFAULT_TIMES_S,
    after_s: float = 1.0,
    directory: str | Path | None = None,
) -> list[FaultCase]:
    """Run every fault kind at every time; return one :class:`FaultCase` each, kind by kind.

    Parameters
    ----------
    gait
        What the virtual patient replays (see :class:`~exohub.control.virtual.VirtualPatient`).
    profile
        The device; its safe state must be ``zero_torque`` (the check of the safe state is for that one).
    rate_hz
        The loop's rate.
    kinds, times_s
        The faults and the injection times (s).
    after_s
        How long each session runs past the injection (a stuck sensor needs ``stuck_s`` and a driven joint).
    directory
        Where the session recordings are written; a temporary folder (removed afterwards) when None.
    """
    if profile.safe_state != "zero_torque":
        raise ValidationError(
            f"the fault matrix checks the zero-torque safe state; {profile.name} uses {profile.safe_state!r}."
        )
    unknown = sorted(set(kinds) - set(FAULT_KINDS))
    if unknown:
        raise ValidationError(f"unknown fault kind(s) {unknown}; known: {', '.join(FAULT_KINDS)}.")
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="exohub-faults-") as temporary:
            return run_fault_matrix(
                gait, profile, rate_hz=rate_hz, kinds=kinds, times_s=times_s, after_s=after_s, directory=temporary
            )
    cases = []
    for kind in kinds:
        for injected_s in times_s:
            fault = FaultInjection(kind, float(injected_s))
            patient = VirtualPatient(gait, profile, rate_hz=rate_hz, faults=(fault,))
            out = Path(directory) / f"{kind}_{injected_s:g}s.parquet"
            result = run_session(patient, duration_s=injected_s + after_s, clock=SimulatedClock(), out=out)
            cases.append(evaluate_case(fault, result, read_recording(out), profile, rate_hz=rate_hz))
    return cases


def evaluate_case(
    fault: FaultInjection, result: SessionResult, stored: Recording, profile: DeviceProfile, *, rate_hz: float
) -> FaultCase:
    """Check one session against the matrix's requirements (see the module's description)."""
    first = fault.ticks(rate_hz)[0]
    observable = _observable(fault.kind, result, profile)
    observable[:first] = False
    code = result.column("fault_code")
    latched_ticks = np.flatnonzero(code > 0)
    observed_tick = int(np.argmax(observable)) if observable.any() else None
    fault_tick = int(latched_ticks[0]) if latched_ticks.size else None
    fault_kind = None if fault_tick is None else _kind_of(code[fault_tick])
    logged = fault_tick is not None and fault_kind is not None and _logged(stored, fault_tick, fault_kind)
    return FaultCase(
        kind=fault.kind,
        injected_s=fault.start_s,
        expected_fault=EXPECTED_FAULT[fault.kind],
        fault=fault_kind,
        observed_tick=observed_tick,
        fault_tick=fault_tick,
        ticks_to_safe=None if observed_tick is None or fault_tick is None else fault_tick - observed_tick,
        safe_state=fault_tick is not None and _ramped_to_zero(result, profile, fault_tick, rate_hz),
        latched=fault_tick is not None and bool(np.all(code[fault_tick:] == code[fault_tick])),
        logged=logged,
    )


def _kind_of(code: float) -> str | None:
    return next((kind for kind, value in FAULT_CODES.items() if value == code), None)


def _columns(result: SessionResult, profile: DeviceProfile, quantity: str) -> np.ndarray:
    return np.column_stack([result.column(f"{joint}_{quantity}") for joint in profile.joint_names])


def _observable(kind: str, result: SessionResult, profile: DeviceProfile) -> np.ndarray:
    """Per tick, whether the logged readings show the fault ``kind`` is meant to cause."""
    t_s = result.column("t_s")
    if kind == "dropout":
        return t_s - result.column("sample_time_s") > profile.max_sensor_age_s
    if kind == "communication_loss":
        return t_s - result.column("link_time_s") > profile.watchdog_s
    if kind in ("spike", "rom_breach"):
        angle = _columns(result, profile, "angle_rad")
        low = np.array([j.min_angle_rad for j in profile.joints])
        high = np.array([j.max_angle_rad for j in profile.joints])
        return ~np.all((angle >= low) & (angle <= high), axis=1)
    if kind == "over_temperature":
        return np.any(_columns(result, profile, "skin_temp_c") > profile.skin_limit_c, axis=1)
    if kind == "torque_spike":
        return ~np.all(np.isfinite(_columns(result, profile, "policy_torque_nm")), axis=1)
    if kind == "overrun":
        return _run_length(result.column("overrun") > 0) >= profile.max_consecutive_overruns
    return _stuck(t_s, result, profile)


def _run_length(flags: np.ndarray) -> np.ndarray:
    """How many ticks in a row, up to and including each, ``flags`` has been True."""
    counts = np.zeros(flags.size, dtype=np.int64)
    running = 0
    for i, flag in enumerate(flags.tolist()):
        running = running + 1 if flag else 0
        counts[i] = running
    return counts


def _stuck(t_s: np.ndarray, result: SessionResult, profile: DeviceProfile) -> np.ndarray:
    """A joint's angle and velocity identical to the previous tick's for ``stuck_s`` while it is commanded."""
    angle = _columns(result, profile, "angle_rad")
    velocity = _columns(result, profile, "velocity_rad_s")
    command = _columns(result, profile, "policy_torque_nm")
    found = np.zeros(t_s.size, dtype=bool)
    for j in range(angle.shape[1]):
        same = np.zeros(t_s.size, dtype=bool)
        same[1:] = (angle[1:, j] == angle[:-1, j]) & (velocity[1:, j] == velocity[:-1, j])
        changed_at = np.maximum.accumulate(np.where(same, 0, np.arange(t_s.size)))
        found |= same & (t_s - t_s[changed_at] >= profile.stuck_s) & (command[:, j] != 0.0)
    return found


def _ramped_to_zero(result: SessionResult, profile: DeviceProfile, fault_tick: int, rate_hz: float) -> bool:
    sent = np.abs(_columns(result, profile, "command_torque_nm")[fault_tick - 1 :])
    if not np.all(np.diff(sent, axis=0) <= 1e-12):
        return False
    ramp_ticks = math.ceil(profile.safe_ramp_s * rate_hz - 1e-9)
    return sent.shape[0] > ramp_ticks + 1 and bool(np.all(sent[ramp_ticks + 1 :] == 0.0))


def _logged(stored: Recording, fault_tick: int, fault_kind: str) -> bool:
    if stored.labels is None or "fault_code" not in stored.labels.columns:
        return False
    code = stored.labels["fault_code"].to_numpy()
    return bool(code[fault_tick] == FAULT_CODES[fault_kind] and fault_kind in stored.info["description"])
