"""Gait events of a whole recording: each side from its most trusted sensor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from exohub.signals import events as detectors
from exohub.signals.base import BaseEventDetection
from exohub.signals.gait._sources import EventSource, find_event_sources
from exohub.signals.recording import Recording

EVENT_COLUMNS = ["side", "event", "time_s"]


@dataclass(frozen=True)
class GaitEvents:
    """Initial and final contacts of both sides, and where each side's came from.

    Attributes
    ----------
    events
        ``side``, ``event`` (initial_contact | final_contact), ``time_s``, sorted by time.
    sources
        Per side, the :class:`EventSource` used.
    """

    events: pd.DataFrame
    sources: Mapping[str, EventSource]

    def initial_contacts_s(self, side: str) -> pd.Series:
        """Return the times of ``side``'s initial contacts."""
        mine = self.events[(self.events["side"] == side) & (self.events["event"] == "initial_contact")]
        return mine["time_s"].reset_index(drop=True)


def detector_for(source: EventSource) -> BaseEventDetection:
    """Return a detector with default parameters for the kind of ``source``."""
    if source.kind.endswith("_imu"):
        return detectors.ImuEventDetection(location=source.kind.removesuffix("_imu"))
    if source.kind.endswith("_angle"):
        return detectors.AngleEventDetection(
            initial_contact_lag=detectors.NORMATIVE_INITIAL_CONTACT_LAG,
            final_contact_lag=detectors.NORMATIVE_FINAL_CONTACT_LAG,
        )
    return detectors.ForceEventDetection()


def detect_gait_events(recording: Recording, *, sources: Mapping[str, EventSource] | None = None) -> GaitEvents:
    """Detect initial and final contacts per side from the best sensor present.

    Parameters
    ----------
    recording
        Any recording in the CSV convention. Per side, the first present of: foot force, foot switch, foot IMU,
        shank IMU, hip angle, thigh angle (:data:`~exohub.signals.gait.SOURCE_KINDS`).
    sources
        Override the choice, e.g. ``{"left": EventSource("left", "foot_imu", (...))}``.

    Returns
    -------
    GaitEvents
    """
    sources = dict(find_event_sources(recording) if sources is None else sources)
    found = []
    for side, source in sources.items():
        rate_hz = recording.sampling_rate_hz(source.channels[0])
        side_events = detector_for(source).detect(source.frame(recording), sampling_rate_hz=rate_hz).events_
        found.append(side_events.loc[:, ["event", "time_s"]].assign(side=side))
    events = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=EVENT_COLUMNS)
    events = events.loc[:, EVENT_COLUMNS].sort_values(["time_s", "side"], kind="stable").reset_index(drop=True)
    return GaitEvents(events=events, sources=sources)
