"""Gait events written as text (XDF marker streams, EDF+ annotations) -> ``(side, event)`` of the convention."""

from __future__ import annotations

import re

import pandas as pd

_SIDE = {"left": "left", "l": "left", "right": "right", "r": "right"}
_EVENT = {
    "initial_contact": "initial_contact",
    "initial contact": "initial_contact",
    "foot strike": "initial_contact",
    "heel strike": "initial_contact",
    "ic": "initial_contact",
    "hs": "initial_contact",
    "final_contact": "final_contact",
    "final contact": "final_contact",
    "foot off": "final_contact",
    "toe off": "final_contact",
    "tc": "final_contact",
    "to": "final_contact",
}
_EVENTS = "|".join(sorted((re.escape(text) for text in _EVENT), key=len, reverse=True))
_SIDES = "|".join(_SIDE)
_PATTERNS = (
    re.compile(rf"^(?P<side>{_SIDES})[\s_\-:]+(?P<event>{_EVENTS})$"),
    re.compile(rf"^(?P<event>{_EVENTS})[\s_\-:]+(?P<side>{_SIDES})$"),
)


def parse_gait_event(text: str) -> tuple[str, str] | None:
    """Return ``(side, event)`` for texts such as ``left_initial_contact``, ``Right Foot Off``, ``HS L``; else None."""
    text = " ".join(str(text).strip().lower().split())
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match is not None:
            return _SIDE[match["side"]], _EVENT[match["event"]]
    return None


def gait_events(texts: list[str], times_s: list[float]) -> tuple[pd.DataFrame, list[str]]:
    """Return the gait events among ``texts`` (at ``times_s``) as an events table, and the texts that are not."""
    rows, other = [], []
    for text, time_s in zip(texts, times_s, strict=True):
        parsed = parse_gait_event(text)
        if parsed is None:
            other.append(text)
        else:
            rows.append((*parsed, float(time_s)))
    return pd.DataFrame(rows, columns=["side", "event", "time_s"]), other
