"""Temporal gait parameters per stride and per side: stance/swing, step time, double support, cadence, symmetry."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exohub.signals.metrics._strides import check_events

OTHER_SIDE = {"left": "right", "right": "left"}


def add_step_and_support(strides: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Return ``strides`` with ``step_time_s``, ``double_support_time_s`` and the percentages of the stride.

    For a stride of one side from initial contact IC to the next IC: the step time runs from the other side's last
    IC before it to this IC; initial double support from IC to the other side's next final contact (FC), terminal
    double support from the other side's next IC to this side's FC. A value is NaN when the events it needs are
    missing or out of order (a missed event never yields a wrong number).
    """
    events = check_events(events)
    out = strides.copy()
    out["step_time_s"] = np.nan
    out["double_support_time_s"] = np.nan
    for side, other in OTHER_SIDE.items():
        rows = out["side"] == side
        if not rows.any():
            continue
        theirs = events[events["side"] == other]
        other_ic = theirs.loc[theirs["event"] == "initial_contact", "time_s"].to_numpy()
        other_fc = theirs.loc[theirs["event"] == "final_contact", "time_s"].to_numpy()
        ic, fc, end = (out.loc[rows, column].to_numpy() for column in ("ic_s", "fc_s", "end_s"))
        out.loc[rows, "step_time_s"] = _step_time(ic, end, other_ic)
        out.loc[rows, "double_support_time_s"] = _double_support(ic, fc, end, other_ic, other_fc)
    out["stance_pct"] = 100.0 * out["stance_time_s"] / out["stride_time_s"]
    out["swing_pct"] = 100.0 * out["swing_time_s"] / out["stride_time_s"]
    out["double_support_pct"] = 100.0 * out["double_support_time_s"] / out["stride_time_s"]
    return out


def _step_time(ic: np.ndarray, end: np.ndarray, other_ic: np.ndarray) -> np.ndarray:
    if other_ic.size == 0:
        return np.full(ic.size, np.nan)
    before = np.searchsorted(other_ic, ic, side="left") - 1
    previous = np.where(before >= 0, other_ic[np.clip(before, 0, None)], np.nan)
    step = ic - previous
    step[(before < 0) | (step > end - ic)] = np.nan  # a step longer than the stride means a missed contact
    return step


def _double_support(
    ic: np.ndarray, fc: np.ndarray, end: np.ndarray, other_ic: np.ndarray, other_fc: np.ndarray
) -> np.ndarray:
    if other_ic.size == 0 or other_fc.size == 0:
        return np.full(ic.size, np.nan)
    next_fc = _next_after(other_fc, ic)
    next_ic = _next_after(other_ic, ic)
    ordered = (ic < next_fc) & (next_fc < next_ic) & (next_ic < fc) & (fc < end)
    support = (next_fc - ic) + (fc - next_ic)
    return np.where(ordered, support, np.nan)


def _next_after(times: np.ndarray, after: np.ndarray) -> np.ndarray:
    index = np.searchsorted(times, after, side="right")
    return np.where(index < times.size, times[np.clip(index, 0, times.size - 1)], np.nan)


def symmetry_index_pct(left: float, right: float) -> float:
    """Return the symmetry index 100 (left - right) / (0.5 (left + right)): 0 is symmetric, the sign says which."""
    mean = 0.5 * (left + right)
    if not np.isfinite(mean) or mean == 0:
        return float("nan")
    return float(100.0 * (left - right) / mean)
