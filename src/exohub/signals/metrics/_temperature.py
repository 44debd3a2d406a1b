"""Skin temperature: the maximum and the trend over the session (heat under a cuff or strap is a safety signal)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def temperature_summary(data: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Return, per skin-temperature channel, ``max_c``, ``mean_c`` and ``trend_c_per_h`` (least-squares slope).

    ``data`` is indexed by ``time_s`` in seconds, values in °C; NaN samples are ignored. A channel with fewer than
    two samples has a NaN trend.
    """
    summary = {}
    time_s = data.index.to_numpy(dtype=np.float64)
    for name in data.columns:
        values = data[name].to_numpy(dtype=np.float64)
        valid = np.isfinite(values)
        if not valid.any():
            summary[name] = {"max_c": float("nan"), "mean_c": float("nan"), "trend_c_per_h": float("nan")}
            continue
        trend = float("nan")
        if valid.sum() >= 2 and np.ptp(time_s[valid]) > 0:
            trend = float(np.polyfit(time_s[valid] / 3600.0, values[valid], 1)[0])
        summary[name] = {
            "max_c": float(values[valid].max()),
            "mean_c": float(values[valid].mean()),
            "trend_c_per_h": trend,
        }
    return summary
