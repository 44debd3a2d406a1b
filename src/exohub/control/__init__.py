"""Real time: the loop beside the exoskeleton, from sensors to a supervised torque command, every tick.

Device profiles and patient settings (:mod:`~exohub.control.profiles`), the safety supervisor
(:mod:`~exohub.control.safety`), assistance policies (:mod:`~exohub.control.assistance`), streaming estimators
(:mod:`~exohub.control.estimators`), the fixed-rate loop (optionally real-time: SCHED_FIFO, pinned CPUs, locked
memory) and its timing report, the ring-buffer log, the virtual patient with fault injection, live Lab Streaming Layer
I/O (:mod:`~exohub.control.lsl`, pylsl loaded on first use) and the session runner that writes the session as a
recording. Everything at loop rate runs on floats and preallocated numpy buffers (no pandas per tick). It depends on
:mod:`exohub.signals` only.

The names below are imported on first use, so a light part (``exohub.control.profiles``) does not import the rest.
"""

from typing import TYPE_CHECKING

from exohub._utils._lazy import lazy_exports

if TYPE_CHECKING:
    from exohub.control._realtime import Scheduling, realtime_scheduling
    from exohub.control._timing import Clock, MonotonicClock, SimulatedClock, TimingReport
    from exohub.control.assistance import AssistancePolicy, AssistAsNeeded, TorqueBump, TorqueProfile
    from exohub.control.devices import Device, default_hip_profile, load_profile
    from exohub.control.estimators import (
        AdaptiveOscillatorPhase,
        EmgEffort,
        LocomotionModeEstimator,
        StandingWalkingModeEstimator,
    )
    from exohub.control.loop import FixedRateLoop
    from exohub.control.lsl import LslCommandOutlet, LslDevice, LslSensorInlet, configure_lsl
    from exohub.control.profiles import DeviceProfile, JointLimits, PatientJointSettings, PatientSettings
    from exohub.control.ringlog import RingLog, RingLogFlusher
    from exohub.control.safety import FaultKind, SafetyEvent, SafetySupervisor, SensorFrame
    from exohub.control.session import SessionResult, run_session
    from exohub.control.virtual import FaultInjection, VirtualPatient

__all__ = [
    "AdaptiveOscillatorPhase",
    "AssistAsNeeded",
    "AssistancePolicy",
    "Clock",
    "Device",
    "DeviceProfile",
    "EmgEffort",
    "FaultInjection",
    "FaultKind",
    "FixedRateLoop",
    "JointLimits",
    "LocomotionModeEstimator",
    "LslCommandOutlet",
    "LslDevice",
    "LslSensorInlet",
    "MonotonicClock",
    "PatientJointSettings",
    "PatientSettings",
    "RingLog",
    "RingLogFlusher",
    "SafetyEvent",
    "SafetySupervisor",
    "Scheduling",
    "SensorFrame",
    "SessionResult",
    "SimulatedClock",
    "StandingWalkingModeEstimator",
    "TimingReport",
    "TorqueBump",
    "TorqueProfile",
    "VirtualPatient",
    "configure_lsl",
    "default_hip_profile",
    "load_profile",
    "realtime_scheduling",
    "run_session",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "exohub.control._realtime": ("Scheduling", "realtime_scheduling"),
        "exohub.control._timing": ("Clock", "MonotonicClock", "SimulatedClock", "TimingReport"),
        "exohub.control.assistance": ("AssistancePolicy", "AssistAsNeeded", "TorqueBump", "TorqueProfile"),
        "exohub.control.devices": ("Device", "default_hip_profile", "load_profile"),
        "exohub.control.estimators": (
            "AdaptiveOscillatorPhase",
            "EmgEffort",
            "LocomotionModeEstimator",
            "StandingWalkingModeEstimator",
        ),
        "exohub.control.loop": ("FixedRateLoop",),
        "exohub.control.lsl": ("LslCommandOutlet", "LslDevice", "LslSensorInlet", "configure_lsl"),
        "exohub.control.profiles": ("DeviceProfile", "JointLimits", "PatientJointSettings", "PatientSettings"),
        "exohub.control.ringlog": ("RingLog", "RingLogFlusher"),
        "exohub.control.safety": ("FaultKind", "SafetyEvent", "SafetySupervisor", "SensorFrame"),
        "exohub.control.session": ("SessionResult", "run_session"),
        "exohub.control.virtual": ("FaultInjection", "VirtualPatient"),
    },
)
