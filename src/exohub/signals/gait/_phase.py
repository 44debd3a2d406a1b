"""Continuous gait phase per side, 0 at initial contact: offline from the events, or causal as a device sees it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exohub.signals import events as detectors
from exohub.signals.consts import SIDES, TIME_COLUMN
from exohub.signals.gait._events import GaitEvents, detect_gait_events, detector_for
from exohub.signals.gait._sources import EventSource
from exohub.signals.phase import StrideTimePhaseEstimation, compute_phase_from_events
from exohub.signals.recording import Recording

#: How long after an IMU contact a streaming detector can confirm it (the swing lobe must have ended): the causal
#: path releases the offline IMU contacts to the estimator this late.
IMU_CONFIRMATION_DELAY_S = 0.1

PHASE_DEFINITION = "0 = initial contact (heel strike), rising linearly to the next one"


@dataclass(frozen=True)
class GaitPhase:
    """Phase of both legs on one clock.

    Attributes
    ----------
    phase
        Indexed by ``time_s``: ``left_phase`` and ``right_phase`` in [0, 1), NaN where the side is not walking or
        has no sensor.
    sampling_rate_hz
        The rate of the clock (the fastest event source's).
    causal
        Whether each value used only the signal up to its own time.
    gait_events
        The offline events (and sources) of the recording.
    definition
        What phase 0 is: :data:`PHASE_DEFINITION`.
    """

    phase: pd.DataFrame
    sampling_rate_hz: float
    causal: bool
    gait_events: GaitEvents
    definition: str = PHASE_DEFINITION


def estimate_gait_phase(
    recording: Recording, *, causal: bool = False, gait_events: GaitEvents | None = None
) -> GaitPhase:
    """Estimate each side's gait phase, 0 at initial contact.

    ``gait_events`` saves detecting the events again when the caller has them (from :func:`detect_gait_events`).

    Offline, the phase rises linearly from one initial contact to the next (:func:`compute_phase_from_events`).
    Causal, it is the time since the last contact over the mean of the last stride times
    (:class:`~exohub.signals.phase.StrideTimePhaseEstimation`) and each contact counts only once it can be known:

    - hip or thigh angle: when the streaming detector confirms the flexion peak (the phase is then shifted by the
      normative peak-to-contact lag);
    - load sensor: once the contact has lasted the detector's shortest contact (0.1 s);
    - IMU: :data:`IMU_CONFIRMATION_DELAY_S` after the offline contact (the latency of confirming the end of the
      swing lobe): an estimate of a streaming detector, not one.

    Thresholds and the flexion sign are set once per recording, as a device's calibration would.
    """
    gait_events = detect_gait_events(recording) if gait_events is None else gait_events
    clock_channel = max((source.channels[0] for source in gait_events.sources.values()), key=recording.sampling_rate_hz)
    time_s = np.asarray(recording.streams[recording.stream_index(clock_channel)].index, dtype=np.float64)
    columns = {}
    for side in SIDES:
        source = gait_events.sources.get(side)
        if source is None:
            columns[f"{side}_phase"] = np.full(time_s.size, np.nan)
        elif causal:
            columns[f"{side}_phase"] = _causal_phase(recording, source, gait_events, time_s)
        else:
            columns[f"{side}_phase"] = compute_phase_from_events(time_s, gait_events.initial_contacts_s(side))
    phase = pd.DataFrame(columns, index=pd.Index(time_s, name=TIME_COLUMN))
    return GaitPhase(
        phase=phase,
        sampling_rate_hz=recording.sampling_rate_hz(clock_channel),
        causal=causal,
        gait_events=gait_events,
    )


def _causal_phase(recording: Recording, source: EventSource, gait_events: GaitEvents, time_s: np.ndarray) -> np.ndarray:
    estimator = StrideTimePhaseEstimation()
    if source.kind.endswith("_angle"):
        frame = source.frame(recording)
        rate_hz = recording.sampling_rate_hz(source.channels[0])
        offline = detector_for(source).detect(frame, sampling_rate_hz=rate_hz)
        streaming = detectors.StreamingAngleEventDetection(event="initial_contact")
        streaming.detect(frame.assign(angle=offline.flexion_sign_ * frame["angle"]), sampling_rate_hz=rate_hz)
        peaks_s = streaming.events_["time_s"].to_numpy()
        phase = estimator.estimate(time_s, peaks_s, detected_at_s=streaming.detected_at_s_).phase_.to_numpy()
        return np.mod(phase - detectors.NORMATIVE_INITIAL_CONTACT_LAG, 1.0)
    contacts_s = gait_events.initial_contacts_s(source.side).to_numpy()
    detector = detector_for(source)
    # A load contact is confirmed once it has lasted the detector's shortest contact; an IMU one after the swing.
    delay_s = getattr(detector, "min_contact_s", IMU_CONFIRMATION_DELAY_S)
    return estimator.estimate(time_s, contacts_s, detected_at_s=contacts_s + delay_s).phase_.to_numpy()
