"""One demo session's walking bout: the assistance loop on the virtual patient at that point of their course."""

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from exohub.control import AssistancePolicy, SimulatedClock, TorqueProfile, default_hip_profile
from exohub.control.session import run_session
from exohub.control.virtual import FaultInjection, VirtualPatient, synthetic_hip_gait
from exohub.signals import Recording
from exohub.signals.consts import TIME_COLUMN
from exohub.web.clinic.demo._cohort import DemoPatient, Incident
from exohub.web.clinic.demo._schedule import along
from exohub.web.clinic.models import AffectedSide

LOOP_RATE_HZ = 100.0
"""The assistance loop's rate in the demo recordings (100 Hz rather than 200 Hz halves the seeding time)."""
FULL_FLEXION_NM = 12.0
FULL_EXTENSION_NM = 9.0
"""Peak hip flexion and extension torque at 100 % assistance (the unaffected side gets 60 % of the level)."""
UNAFFECTED_SIDE_SHARE = 0.6


def session_recording(
    patient: DemoPatient,
    *,
    progress: float,
    assistance_level_pct: float,
    duration_s: float,
    device_name: str,
    incident: Incident | None = None,
    seed: int = 0,
) -> Recording:
    """One session's walking bout: the assistance loop on the virtual patient at this point of their course.

    The patient replays synthetic hip gait with the course's stride time and the affected hip's range of motion
    scaled down; the hip exoskeleton assists with a torque in proportion to ``assistance_level_pct`` (more on the
    affected side). An incident injects its fault in the second half of the bout.
    """
    course = patient.course
    gait = synthetic_hip_gait(
        duration_s + 2.0,
        sampling_rate_hz=LOOP_RATE_HZ,
        stride_time_s=along(course.stride_time_s, progress),
        seed=seed,
    )
    profile = replace(default_hip_profile(), name=device_name)
    policy = _assistance_policy(profile.joint_names, patient.affected_side, assistance_level_pct)
    faults: tuple[FaultInjection, ...] = ()
    resets: tuple[tuple[float, str], ...] = ()
    if incident is not None:
        faults, resets = _incident_faults(incident, patient, duration_s)
    virtual = VirtualPatient(
        _hip_gait(gait, patient.affected_side, along(course.affected_rom_ratio, progress)),
        profile,
        rate_hz=LOOP_RATE_HZ,
        faults=faults,
        seed=seed,
    )
    result = run_session(
        virtual, duration_s=duration_s, policy=policy, clock=SimulatedClock(), resets=resets, gc_policy="default"
    )
    return result.recording


def _assistance_policy(
    joint_names: Sequence[str], affected_side: AffectedSide, assistance_level_pct: float
) -> AssistancePolicy:
    """Hip torque in proportion to ``assistance_level_pct``: the full level on the affected side, less on the other."""
    share = _side_shares(affected_side)
    level = assistance_level_pct / 100.0
    return AssistancePolicy(
        tuple(
            TorqueProfile.hip(
                joint,
                flexion_nm=FULL_FLEXION_NM * level * share[joint],
                extension_nm=FULL_EXTENSION_NM * level * share[joint],
            )
            for joint in joint_names
        ),
        soft_start_s=1.0,
    )


def _side_shares(affected_side: AffectedSide) -> dict[str, float]:
    if affected_side in (AffectedSide.LEFT, AffectedSide.RIGHT):
        other = "right" if affected_side is AffectedSide.LEFT else "left"
        return {f"{affected_side.value}_hip": 1.0, f"{other}_hip": UNAFFECTED_SIDE_SHARE}
    return {"left_hip": 1.0, "right_hip": 1.0}


def _hip_gait(gait: Recording, affected_side: AffectedSide, rom_ratio: float) -> dict[str, np.ndarray]:
    """The gait's hip angles and velocities, the affected hip's swing around its mean scaled by ``rom_ratio``."""
    names = [f"{side}_hip_{quantity}" for side in ("left", "right") for quantity in ("angle", "velocity")]
    frame = gait.get(names)
    arrays = {name: frame[name].to_numpy(dtype=np.float64) for name in names}
    if affected_side in (AffectedSide.LEFT, AffectedSide.RIGHT):
        angle = arrays[f"{affected_side.value}_hip_angle"]
        mean = float(angle.mean())
        arrays[f"{affected_side.value}_hip_angle"] = mean + (angle - mean) * rom_ratio
        arrays[f"{affected_side.value}_hip_velocity"] = arrays[f"{affected_side.value}_hip_velocity"] * rom_ratio
    return {TIME_COLUMN: frame.index.to_numpy(dtype=np.float64), **arrays}


def _incident_faults(
    incident: Incident, patient: DemoPatient, duration_s: float
) -> tuple[tuple[FaultInjection, ...], tuple[tuple[float, str], ...]]:
    start_s = round(0.5 * duration_s, 1)
    if incident.kind == "over_temperature":
        joint = f"{patient.affected_side.value}_hip" if patient.affected_side.value in ("left", "right") else None
        # 0.45 degC/s more heating takes the skin from about 33 degC past the 41 degC warning to the 43 degC
        # limit in about 25 s; it stops soon after, so the skin cools again under the latched safe state.
        return (FaultInjection("over_temperature", start_s, 26.0, joint, 0.45),), ()
    if incident.kind == "communication_loss":
        return (FaultInjection("communication_loss", start_s, 0.3),), ((start_s + 4.0, "therapist"),)
    raise ValueError(f"incident kind must be over_temperature or communication_loss; got {incident.kind!r}.")
