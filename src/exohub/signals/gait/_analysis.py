"""The whole gait analysis of one recording: events, metrics, EMG per gait cycle, signal quality, in one call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from exohub.signals.consts import SIDES
from exohub.signals.emg import compute_emg_envelope, filter_emg
from exohub.signals.gait._events import GaitEvents, detect_gait_events
from exohub.signals.kinematics import compute_joint_angles, find_imu_joint_pairs
from exohub.signals.metrics import GaitReport, compute_gait_report, to_json_values
from exohub.signals.quality import SignalQualityAssessment
from exohub.signals.recording import Recording

#: The EMG envelope's rate in the report: a 6 Hz envelope needs no more, and gait cycles are averaged on 101 points.
REPORT_ENVELOPE_RATE_HZ = 200.0

#: Rows of the text report's left/right table: (label, stride parameter).
_TEXT_ROWS = (
    ("stride time (s)", "stride_time_s"),
    ("step time (s)", "step_time_s"),
    ("stance (% cycle)", "stance_pct"),
    ("swing (% cycle)", "swing_pct"),
    ("double support (% cycle)", "double_support_pct"),
)


@dataclass(frozen=True)
class GaitAnalysis:
    """Events, metrics and signal quality of one recording.

    Attributes
    ----------
    gait_events
        The detected events and the sensor each side's came from.
    report
        The gait metrics (:class:`~exohub.signals.metrics.GaitReport`).
    quality
        Per channel: signal-quality summary (usable fraction, defect counts).
    quality_flags
        Every defect found: ``channel``, ``flag``, ``start_s``, ``end_s``, ``detail``.
    duration_s
        Length of the recording.
    """

    gait_events: GaitEvents
    report: GaitReport
    quality: pd.DataFrame
    quality_flags: pd.DataFrame
    duration_s: float

    def to_dict(self) -> dict[str, Any]:
        """Return everything as JSON-compatible values (NaN becomes None)."""
        events = self.gait_events.events
        counts = events.groupby(["side", "event"]).size()
        return {
            "duration_s": self.duration_s,
            "event_sources": {
                side: {"kind": source.kind, "channels": list(source.channels)}
                for side, source in self.gait_events.sources.items()
            },
            "event_counts": {f"{side}_{event}": int(n) for (side, event), n in counts.items()},
            **self.report.to_dict(),
            "quality": to_json_values(self.quality.reset_index().to_dict(orient="records")),
            "quality_flags": to_json_values(self.quality_flags.to_dict(orient="records")),
        }

    def to_text(self) -> str:
        """Return the report as a therapist reads it: totals, a left/right table, ROM, EMG, skin, quality."""
        summary = self.report.summary
        sources = ", ".join(f"{side} from {source.kind}" for side, source in self.gait_events.sources.items())
        lines = [
            f"Recording: {self.duration_s:.1f} s; events {sources}",
            f"Steps {summary['step_count']}, walking time {summary['walking_time_s']:.1f} s, "
            f"cadence {summary['cadence_steps_per_min']:.1f} steps/min, "
            f"{summary['n_strides']} strides in {len(self.report.bouts)} walking bouts",
            _up_time_line(summary),
            "",
            f"{'':<26}{'left':>16}{'right':>16}{'symmetry %':>12}",
        ]
        for label, name in _TEXT_ROWS:
            cells = [_mean_sd(summary[side], name) for side in SIDES]
            symmetry = summary["symmetry_index_pct"].get(name, float("nan"))
            lines.append(f"{label:<26}{cells[0]:>16}{cells[1]:>16}{_number(symmetry):>12}")
        if summary["rom_deg"]:
            lines += ["", "Range of motion per stride (median, deg):"]
            lines += [f"  {name:<40}{_number(value)}" for name, value in summary["rom_deg"].items()]
        if self.report.emg_profiles is not None:
            lines += ["", "EMG over the gait cycle (peak of the cycle-averaged envelope):"]
            for name, profile in self.report.emg_profiles.items():
                peak = "-" if profile.isna().all() else f"at {profile.idxmax():.0f} % of the cycle"
                lines.append(f"  {name:<40}{peak}")
        if self.report.assistance is not None:
            lines += ["", "Assistance delivered (whole recording):", *_assistance_lines(self.report.assistance)]
        if self.report.skin_temperature:
            lines += ["", "Skin temperature:"]
            for name, values in self.report.skin_temperature.items():
                lines.append(
                    f"  {name:<40}max {_number(values['max_c'])} °C, trend {_number(values['trend_c_per_h'])} °C/h"
                )
        if self.quality_flags.empty:
            lines += ["", "Signal quality: no defects found."]
        else:
            lines += ["", "Signal quality, defects found:"]
            counts = self.quality_flags.groupby(["channel", "flag"]).size()
            lines += [f"  {channel:<40}{n} x {flag}" for (channel, flag), n in counts.items()]
        return "\n".join(lines)


def analyse_gait(recording: Recording) -> GaitAnalysis:
    """Detect events, compute the gait report (with EMG per gait cycle) and assess the quality of every channel.

    Knee and ankle angles are computed from IMU pairs (:func:`~exohub.signals.kinematics.compute_joint_angles`) where
    both segments carry an IMU and the recording has no angle channel for that joint, so their range of motion is
    reported too.
    """
    recording = with_imu_joint_angles(recording)
    gait_events = detect_gait_events(recording)
    summaries, flags = [], []
    envelopes: list[pd.DataFrame] = []
    for stream in recording.streams:
        rate_hz = recording.sampling_rate_hz(stream.columns[0])
        quality = SignalQualityAssessment().assess(stream, sampling_rate_hz=rate_hz)
        summaries.append(quality.summary_)
        flags.append(quality.flags_)
        emg = [name for name in stream.columns if name in set(recording.pick(quantity="emg"))]
        if emg:
            # The report averages the linear envelope per gait cycle; onsets and fatigue are EmgProcessing's extras.
            filtered = filter_emg(stream.loc[:, emg], sampling_rate_hz=rate_hz)
            envelopes.append(
                compute_emg_envelope(filtered, sampling_rate_hz=rate_hz, envelope_rate_hz=REPORT_ENVELOPE_RATE_HZ)
            )
    envelope = _on_first_clock(envelopes)
    report = compute_gait_report(recording, gait_events.events, emg_envelope=envelope)
    return GaitAnalysis(
        gait_events=gait_events,
        report=report,
        quality=pd.concat(summaries),
        quality_flags=pd.concat(flags, ignore_index=True),
        duration_s=recording.duration_s,
    )


def with_imu_joint_angles(recording: Recording) -> Recording:
    """Return ``recording`` with the joint angles its IMU pairs give, for joints that have no angle channel yet."""
    joints = sorted(
        {joint for side, joint in find_imu_joint_pairs(recording) if not recording.pick(side=side, body_part=joint)}
    )
    if not joints:
        return recording
    angles = compute_joint_angles(recording, joints=joints)
    return recording.add_channels(angles.loc[:, [name for name in angles if name not in recording.channels]])


def _on_first_clock(envelopes: list[pd.DataFrame]) -> pd.DataFrame | None:
    """EMG from several amplifiers (clocks) on the first one's clock, so one report holds every muscle."""
    if len(envelopes) <= 1:
        return envelopes[0] if envelopes else None
    clock = envelopes[0].index.to_numpy()
    columns = {
        name: np.interp(clock, frame.index.to_numpy(), frame[name].to_numpy()) for frame in envelopes for name in frame
    }
    return pd.DataFrame(columns, index=envelopes[0].index)


def _mean_sd(values: dict[str, float], name: str) -> str:
    mean, sd = values[f"{name}_mean"], values[f"{name}_std"]
    return "-" if not np.isfinite(mean) else f"{mean:.2f} ± {sd:.2f}" if np.isfinite(sd) else f"{mean:.2f}"


def _assistance_lines(assistance: pd.DataFrame) -> list[str]:
    lines = []
    for channel in assistance.columns.unique(level="channel"):
        bins = assistance[channel]
        covered_s = bins["covered_s"].sum()
        mean_nm = (bins["mean_abs_torque_nm"] * bins["covered_s"]).sum() / covered_s if covered_s else np.nan
        peak_nm = bins["peak_abs_torque_nm"].max()
        work_j = bins["positive_work_j"].sum() if bins["positive_work_j"].notna().any() else np.nan
        lines.append(
            f"  {channel:<40}mean |torque| {_number(mean_nm)} N m, peak {_number(peak_nm)} N m, "
            f"positive work {_number(work_j)} J"
        )
    return lines


def _up_time_line(summary: dict[str, Any]) -> str:
    if summary["up_time_s"] is None:
        return f"Up time unknown ({summary['up_time_source']})"
    return f"Up time {summary['up_time_s']:.1f} s ({summary['up_time_source']})"


def _number(value: float) -> str:
    return f"{value:.1f}" if np.isfinite(value) else "-"
