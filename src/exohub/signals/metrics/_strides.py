"""Strides (initial contact to the next initial contact of the same foot) and walking bouts, from gait events."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exohub.exceptions import ValidationError
from exohub.signals.consts import EVENT_TYPES, MAX_STRIDE_TIME_S, MIN_STRIDE_TIME_S, SIDES

STRIDE_COLUMNS = ("side", "stride_id", "ic_s", "fc_s", "end_s", "stride_time_s", "stance_time_s", "swing_time_s")


def check_events(events: pd.DataFrame) -> pd.DataFrame:
    """Return ``events`` sorted by time if it has ``side``, ``event``, ``time_s`` with valid values, else raise."""
    missing = {"side", "event", "time_s"} - set(events.columns)
    if missing:
        raise ValidationError(f"events need the columns side, event, time_s; missing {sorted(missing)}.")
    if not events["side"].isin(SIDES).all() or not events["event"].isin(EVENT_TYPES).all():
        raise ValidationError(f"events: side must be one of {SIDES} and event one of {EVENT_TYPES}.")
    return events.sort_values("time_s", kind="stable").reset_index(drop=True)


def find_strides(
    events: pd.DataFrame, *, min_stride_time_s: float = MIN_STRIDE_TIME_S, max_stride_time_s: float = MAX_STRIDE_TIME_S
) -> pd.DataFrame:
    """Return one row per stride of each side.

    A stride runs from an initial contact (IC) to the next IC of the same side. It is kept when its duration lies in
    [``min_stride_time_s``, ``max_stride_time_s``]; its final contact (FC) is the one FC of that side inside it
    (NaN when there is none or more than one, so stance and swing are NaN but the stride still counts).

    Returns
    -------
    DataFrame
        Columns ``side``, ``stride_id``, ``ic_s``, ``fc_s``, ``end_s``, ``stride_time_s``, ``stance_time_s``,
        ``swing_time_s``.
    """
    if not 0 < min_stride_time_s < max_stride_time_s:
        raise ValueError(
            f"need 0 < min_stride_time_s < max_stride_time_s, got {min_stride_time_s!r} and {max_stride_time_s!r}."
        )
    events = check_events(events)
    rows = []
    for side in SIDES:
        mine = events[events["side"] == side]
        ics = mine.loc[mine["event"] == "initial_contact", "time_s"].to_numpy()
        fcs = mine.loc[mine["event"] == "final_contact", "time_s"].to_numpy()
        if ics.size < 2:
            continue
        starts, ends = ics[:-1], ics[1:]
        durations = ends - starts
        keep = (durations >= min_stride_time_s) & (durations <= max_stride_time_s)
        lo = np.searchsorted(fcs, starts, side="right")
        hi = np.searchsorted(fcs, ends, side="left")
        single = (hi - lo) == 1
        fc = np.where(single, fcs[np.minimum(lo, max(fcs.size - 1, 0))] if fcs.size else np.nan, np.nan)
        for start, end, fc_s in zip(starts[keep], ends[keep], fc[keep], strict=True):
            rows.append((side, start, fc_s, end))
    strides = pd.DataFrame(rows, columns=["side", "ic_s", "fc_s", "end_s"])
    strides.insert(1, "stride_id", strides.groupby("side").cumcount())
    strides["stride_time_s"] = strides["end_s"] - strides["ic_s"]
    strides["stance_time_s"] = strides["fc_s"] - strides["ic_s"]
    strides["swing_time_s"] = strides["end_s"] - strides["fc_s"]
    return strides.loc[:, list(STRIDE_COLUMNS)]


def find_bouts(strides: pd.DataFrame, *, max_gap_s: float = MAX_STRIDE_TIME_S) -> pd.DataFrame:
    """Return walking bouts: runs of strides (either side) with no pause longer than ``max_gap_s``.

    Returns
    -------
    DataFrame
        Columns ``bout_id``, ``start_s``, ``end_s``, ``duration_s``, ``n_strides``.
    """
    columns = ["bout_id", "start_s", "end_s", "duration_s", "n_strides"]
    if strides.empty:
        return pd.DataFrame(columns=columns)
    spans = strides.sort_values("ic_s")[["ic_s", "end_s"]].to_numpy()
    bouts = []
    start, end, count = spans[0, 0], spans[0, 1], 1
    for ic_s, end_s in spans[1:]:
        if ic_s - end <= max_gap_s:
            end, count = max(end, end_s), count + 1
        else:
            bouts.append((start, end, count))
            start, end, count = ic_s, end_s, 1
    bouts.append((start, end, count))
    frame = pd.DataFrame(bouts, columns=["start_s", "end_s", "n_strides"])
    frame.insert(0, "bout_id", np.arange(len(frame)))
    frame.insert(3, "duration_s", frame["end_s"] - frame["start_s"])
    return frame.loc[:, columns]
