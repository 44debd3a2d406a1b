"""The gait report: every metric a therapist reads, from a recording and its gait events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from exohub.signals.channels import parse_channel
from exohub.signals.consts import SIDES
from exohub.signals.metrics._activity import UpTime, compute_assistance_over_time, compute_up_time
from exohub.signals.metrics._cycles import CYCLE_POINTS, cycle_mean_sd, normalise_cycles, range_of_motion
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
        :data:`STRIDE_PARAMETERS`, ``symmetry_index_pct`` per parameter, ``rom_deg`` per angle channel,
        ``up_time_s`` (None when the recording cannot tell) and ``up_time_source``.
    emg_profiles, emg_profiles_sd
        Mean and SD (over strides) of the EMG envelope per channel over the gait cycle (index ``cycle_pct``
        0-100, envelope units V), or None without EMG.
    skin_temperature
        Per skin-temperature channel: ``max_c``, ``mean_c``, ``trend_c_per_h``.
    angle_profiles_deg, angle_profiles_sd_deg
        Mean and SD (over strides of the channel's side) of each angle channel over the gait cycle, in degrees
        (index ``cycle_pct`` 0-100); channels of a side without strides are left out, None without any.
    up_time
        Time up (standing or walking) and sitting (:func:`~exohub.signals.metrics.compute_up_time`).
    assistance
        Torque delivered per time bin (:func:`~exohub.signals.metrics.compute_assistance_over_time`), or None
        without a torque channel.
    """

    strides: pd.DataFrame
    bouts: pd.DataFrame
    summary: dict[str, Any]
    emg_profiles: pd.DataFrame | None = None
    skin_temperature: dict[str, dict[str, float]] = field(default_factory=dict)
    emg_profiles_sd: pd.DataFrame | None = None
    angle_profiles_deg: pd.DataFrame | None = None
    angle_profiles_sd_deg: pd.DataFrame | None = None
    up_time: UpTime | None = None
    assistance: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-compatible values (NaN becomes None)."""
        report: dict[str, Any] = {
            "summary": to_json_values(self.summary),
            "bouts": to_json_values(self.bouts.to_dict(orient="records")),
            "skin_temperature": to_json_values(self.skin_temperature),
        }
        profiles = {
            "emg_profiles": self.emg_profiles,
            "emg_profiles_sd": self.emg_profiles_sd,
            "angle_profiles_deg": self.angle_profiles_deg,
            "angle_profiles_sd_deg": self.angle_profiles_sd_deg,
        }
        for key, frame in profiles.items():
            if frame is not None:
                report[key] = to_json_values(frame.reset_index().to_dict(orient="list"))
        if self.up_time is not None:
            report["up_time"] = to_json_values(self.up_time.to_dict())
        if self.assistance is not None:
            report["assistance"] = {
                str(channel): to_json_values(
                    {"bin_start_s": self.assistance.index.tolist()} | self.assistance[channel].to_dict(orient="list")
                )
                for channel in self.assistance.columns.unique(level="channel")
            }
        return report


def compute_gait_report(
    recording: Recording,
    events: pd.DataFrame,
    *,
    emg_envelope: pd.DataFrame | None = None,
    assistance_bin_s: float = 60.0,
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
    assistance_bin_s
        Time bin of the assistance delivered over time (s).

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
    up_time = compute_up_time(recording)
    summary["up_time_s"] = up_time.up_time_s
    summary["up_time_source"] = up_time.source
    emg_mean, emg_sd = (None, None) if emg_envelope is None else _emg_profiles(emg_envelope, strides)
    angle_mean, angle_sd = _angle_profiles_deg(recording, strides)
    assistance = (
        compute_assistance_over_time(recording, bin_s=assistance_bin_s) if recording.pick(quantity="torque") else None
    )
    temperature_channels = recording.pick(quantity="skin_temp")
    temperature = {}
    for stream in recording.streams:
        names = [name for name in stream.columns if name in temperature_channels]
        if names:
            temperature |= temperature_summary(stream.loc[:, names])
    return GaitReport(
        strides=strides,
        bouts=bouts,
        summary=summary,
        emg_profiles=emg_mean,
        skin_temperature=temperature,
        emg_profiles_sd=emg_sd,
        angle_profiles_deg=angle_mean,
        angle_profiles_sd_deg=angle_sd,
        up_time=up_time,
        assistance=assistance,
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


def _emg_profiles(envelope: pd.DataFrame, strides: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean and SD of each envelope over its side's gait cycles (every channel, NaN where no stride is whole)."""
    means, sds = {}, {}
    for name in envelope.columns:
        mine = _strides_for(strides, parse_channel(name).side)
        mean, sd = cycle_mean_sd(normalise_cycles(envelope.loc[:, [name]], mine))
        means[name], sds[name] = mean[:, 0], sd[:, 0]
    return _cycle_frame(means), _cycle_frame(sds)


def _angle_profiles_deg(recording: Recording, strides: pd.DataFrame) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Mean and SD in degrees of each angle channel (stored in rad) over its side's gait cycles."""
    means, sds = {}, {}
    for name in recording.pick(quantity="angle"):
        mine = _strides_for(strides, recording.channel(name).side)
        if mine.empty:
            continue
        mean, sd = cycle_mean_sd(normalise_cycles(recording.get([name]), mine))
        means[name], sds[name] = np.degrees(mean[:, 0]), np.degrees(sd[:, 0])
    if not means:
        return None, None
    return _cycle_frame(means), _cycle_frame(sds)


def _cycle_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    index = pd.Index(np.linspace(0.0, 100.0, CYCLE_POINTS), name="cycle_pct")
    return pd.DataFrame(columns, index=index)


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
