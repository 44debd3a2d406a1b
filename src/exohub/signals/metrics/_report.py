"""The gait report: every metric a therapist reads, from a recording and its gait events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from exohub.signals.channels import parse_channel
from exohub.signals.consts import SIDES
from exohub.signals.metrics._cycles import CYCLE_POINTS, normalise_cycles, range_of_motion
from exohub.signals.metrics._spatiotemporal import add_step_and_support, symmetry_index_pct
from exohub.signals.metrics._strides import find_bouts, find_strides
from exohub.signals.metrics._temperature import temperature_summary
from exohub.signals.recording import Recording

#: Per-stride columns summarised per side as mean and SD.
STRIDE_PARAMETERS = (
    "stride_time_s",
    "stance_time_s",
    "swing_time_s",
    "step_time_s",
    "stance_pct",
    "swing_pct",
    "double_support_pct",
)
#: Parameters compared between the sides (symmetry index).
SYMMETRY_PARAMETERS = ("stride_time_s", "step_time_s", "stance_pct", "swing_time_s")


@dataclass
class GaitReport:
    """Gait metrics of one recording.

    Attributes
    ----------
    strides
        One row per stride: times, stance/swing, step time, double support.
    bouts
        Walking bouts (``start_s``, ``end_s``, ``duration_s``, ``n_strides``).
    summary
        Scalars: ``step_count``, ``walking_time_s``, ``cadence_steps_per_min``, per side the mean and SD of
        :data:`STRIDE_PARAMETERS`, ``symmetry_index_pct`` per parameter, ``rom_deg`` per angle channel.
    emg_profiles
        Mean EMG envelope per channel over the gait cycle (index ``cycle_pct`` 0-100), or None without EMG.
    skin_temperature
        Per skin-temperature channel: ``max_c``, ``mean_c``, ``trend_c_per_h``.
    """

    strides: pd.DataFrame
    bouts: pd.DataFrame
    summary: dict[str, Any]
    emg_profiles: pd.DataFrame | None = None
    skin_temperature: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-compatible values (NaN becomes None)."""
        report: dict[str, Any] = {
            "summary": to_json_values(self.summary),
            "bouts": to_json_values(self.bouts.to_dict(orient="records")),
            "skin_temperature": to_json_values(self.skin_temperature),
        }
        if self.emg_profiles is not None:
            report["emg_profiles"] = to_json_values(self.emg_profiles.reset_index().to_dict(orient="list"))
        return report


def compute_gait_report(
    recording: Recording, events: pd.DataFrame, *, emg_envelope: pd.DataFrame | None = None
) -> GaitReport:
    """Compute the gait metrics of ``recording`` from its gait ``events``.

    Parameters
    ----------
    recording
        The session; its angle channels give the range of motion, skin-temperature channels the temperature summary.
    events
        ``side``, ``event`` (initial_contact | final_contact), ``time_s``, e.g. from
        :func:`exohub.signals.gait.detect_gait_events`.
    emg_envelope
        EMG linear envelopes indexed by ``time_s`` (one column per muscle): averaged per gait cycle of the muscle's
        side (unsided muscles use the left strides, else the right).

    Returns
    -------
    GaitReport
    """
    strides = add_step_and_support(find_strides(events), events)
    bouts = find_bouts(strides)
    summary: dict[str, Any] = {
        "n_strides": len(strides),
        "step_count": int(strides["step_time_s"].notna().sum() + len(bouts)),
        "walking_time_s": float(bouts["duration_s"].sum()) if len(bouts) else 0.0,
        "cadence_steps_per_min": float(120.0 / strides["stride_time_s"].mean()) if len(strides) else float("nan"),
    }
    for side in SIDES:
        mine = strides[strides["side"] == side]
        summary[side] = {"n_strides": len(mine)} | {
            f"{name}_{stat}": float(getattr(mine[name], stat)()) if len(mine) > (stat == "std") else float("nan")
            for name in STRIDE_PARAMETERS
            for stat in ("mean", "std")
        }
    summary["symmetry_index_pct"] = {
        name: symmetry_index_pct(summary["left"][f"{name}_mean"], summary["right"][f"{name}_mean"])
        for name in SYMMETRY_PARAMETERS
    }
    summary["rom_deg"] = _range_of_motion_deg(recording, strides)
    profiles = None if emg_envelope is None else _emg_profiles(emg_envelope, strides)
    temperature_channels = recording.pick(quantity="skin_temp")
    temperature = {}
    for stream in recording.streams:
        names = [name for name in stream.columns if name in temperature_channels]
        if names:
            temperature |= temperature_summary(stream.loc[:, names])
    return GaitReport(
        strides=strides, bouts=bouts, summary=summary, emg_profiles=profiles, skin_temperature=temperature
    )


def _strides_for(strides: pd.DataFrame, side: str | None) -> pd.DataFrame:
    if side is not None:
        return strides[strides["side"] == side]
    for fallback in SIDES:
        if (strides["side"] == fallback).any():
            return strides[strides["side"] == fallback]
    return strides.iloc[:0]


def _range_of_motion_deg(recording: Recording, strides: pd.DataFrame) -> dict[str, float]:
    rom = {}
    for name in recording.pick(quantity="angle"):
        channel = recording.channel(name)
        mine = _strides_for(strides, channel.side)
        if mine.empty:
            continue
        values = range_of_motion(recording.get([name]), mine)[:, 0]
        rom[name] = float(np.degrees(np.nanmedian(values))) if np.isfinite(values).any() else float("nan")
    return rom


def _emg_profiles(envelope: pd.DataFrame, strides: pd.DataFrame) -> pd.DataFrame:
    profiles = {}
    for name in envelope.columns:
        mine = _strides_for(strides, parse_channel(name).side)
        cycles = normalise_cycles(envelope.loc[:, [name]], mine)[:, :, 0]
        valid = np.isfinite(cycles).all(axis=1)
        profiles[name] = cycles[valid].mean(axis=0) if valid.any() else np.full(CYCLE_POINTS, np.nan)
    index = pd.Index(np.linspace(0.0, 100.0, CYCLE_POINTS), name="cycle_pct")
    return pd.DataFrame(profiles, index=index)


def to_json_values(value: Any) -> Any:
    """Return ``value`` with numpy scalars as Python numbers and NaN/infinity as None, recursively (JSON-ready)."""
    if isinstance(value, dict):
        return {str(key): to_json_values(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_values(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
