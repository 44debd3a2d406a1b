"""A therapy session's analysis: what the signals module finds in its recording, kept as one JSON document.

:func:`analyse_session_recording` runs :func:`exohub.signals.gait.analyse_gait` (events from the best sensor per
side, strides, cadence, symmetry, range of motion, gait-cycle curves of joints and EMG, up time, assistance
delivered, skin temperature, signal quality) and, for the real-time loop's session logs,
:func:`exohub.control.session.find_safety_events`. :func:`headline` reads the numbers a therapist scans first back out
of the stored document.
"""

import threading
from dataclasses import dataclass
from typing import Any

from exohub.control.profiles import SKIN_LIMIT_C, SKIN_WARNING_C
from exohub.control.session import find_safety_events
from exohub.exceptions import ExohubError
from exohub.signals import Recording
from exohub.signals.channels import parse_channel
from exohub.signals.gait import analyse_gait
from exohub.signals.metrics import to_json_values
from exohub.web.errors import InvalidInputError
from exohub.web.uploads import FILE_FIELD

MAX_QUALITY_FLAGS = 200
"""Signal-quality defects kept in the document (the total is kept too; the recording holds the rest)."""


ANALYSIS_SLOT = threading.BoundedSemaphore(1)
"""One analysis at a time per worker process: an hour-long session needs about 2 GB while it is analysed, so
uploads arriving together wait for each other instead of adding up (run more workers to analyse in parallel)."""


def analyse_session_recording(recording: Recording) -> dict[str, Any]:
    """Analyse a session's recording into a JSON document; refuse one the gait analysis cannot use."""
    try:
        with ANALYSIS_SLOT:
            analysis = analyse_gait(recording)
    except ExohubError as err:
        raise InvalidInputError(f"The recording cannot be analysed: {err}", field=f"body.{FILE_FIELD}") from err
    document = analysis.to_dict()
    flags = document.pop("quality_flags")
    document["quality_flags"] = flags[:MAX_QUALITY_FLAGS]
    document["quality_flags_total"] = len(flags)
    document["safety_events"] = to_json_values(find_safety_events(recording).to_dict(orient="records"))
    document["implausible"] = implausible_values(document)
    document["channels"] = list(recording.channels)
    document["sampling_rates_hz"] = to_json_values(dict(recording.info["sampling_rates_hz"]))
    document["device"] = recording.info["device"]
    return document


#: Range of motion beyond which an angle channel was almost surely recorded in degrees, not the convention's radians.
MAX_PLAUSIBLE_ROM_DEG = 200.0


def implausible_values(document: dict[str, Any]) -> list[str]:
    """Findings a therapist must see beside the numbers.

    Skin temperatures past the IEC 60601-1 limits, and angles whose range of motion only makes sense in degrees
    (the convention stores radians).
    """
    findings = []
    for name, values in (document.get("skin_temperature") or {}).items():
        hottest = values.get("max_c")
        if hottest is not None and hottest >= SKIN_WARNING_C:
            limit = SKIN_LIMIT_C if hottest >= SKIN_LIMIT_C else SKIN_WARNING_C
            findings.append(
                f"{name.replace('_', ' ')} reached {hottest:.1f} °C, at or above the {limit:g} °C "
                f"{'limit' if limit == SKIN_LIMIT_C else 'warning level'} for skin under an applied part (IEC 60601-1)."
            )
    for name, rom in (document.get("summary", {}).get("rom_deg") or {}).items():
        if rom is not None and rom > MAX_PLAUSIBLE_ROM_DEG:
            findings.append(
                f"{name.replace('_', ' ')} moves through {rom:.0f}° per stride: the recording probably gives this "
                "angle in degrees, where exohub's CSV convention expects radians; its angle figures are wrong."
            )
    return findings


@dataclass(frozen=True)
class Headline:
    """The numbers of one session a therapist reads first (None where the recording could not tell)."""

    steps: int | None
    walking_time_s: float | None
    up_time_s: float | None
    cadence_steps_per_min: float | None
    stride_time_left_s: float | None
    stride_time_right_s: float | None
    stride_time_symmetry_pct: float | None
    skin_temperature_max_c: float | None
    mean_assistance_torque_nm: float | None
    safety_events: int
    rom_deg: dict[str, float]
    assistance: dict[str, dict[str, float | None]]
    """Per torque channel: ``mean_abs_torque_nm``, ``peak_abs_torque_nm`` and ``positive_work_j`` of the session."""


def headline(document: dict[str, Any] | None) -> Headline | None:
    """The headline numbers of a stored analysis document, or None for a session without a recording."""
    if document is None:
        return None
    summary = document.get("summary", {})
    temperatures = [
        values["max_c"] for values in document.get("skin_temperature", {}).values() if values.get("max_c") is not None
    ]
    return Headline(
        steps=summary.get("step_count"),
        walking_time_s=summary.get("walking_time_s"),
        up_time_s=summary.get("up_time_s"),
        cadence_steps_per_min=summary.get("cadence_steps_per_min"),
        stride_time_left_s=summary.get("left", {}).get("stride_time_s_mean"),
        stride_time_right_s=summary.get("right", {}).get("stride_time_s_mean"),
        stride_time_symmetry_pct=summary.get("symmetry_index_pct", {}).get("stride_time_s"),
        skin_temperature_max_c=max(temperatures) if temperatures else None,
        mean_assistance_torque_nm=_mean_assistance(document.get("assistance")),
        safety_events=sum(event.get("kind") != "reset" for event in document.get("safety_events", [])),
        rom_deg={name: value for name, value in summary.get("rom_deg", {}).items() if value is not None},
        assistance={
            name: _session_assistance(bins)
            for name, bins in (document.get("assistance") or {}).items()
            if _is_actuator(name)
        },
    )


def _session_assistance(bins: dict[str, list[float | None]]) -> dict[str, float | None]:
    """One channel's assistance over the session, from its time bins (weighted by the time each bin covers)."""
    covered = [value or 0.0 for value in bins.get("covered_s", [])]
    means = bins.get("mean_abs_torque_nm", [])
    weighted = [(c, m) for c, m in zip(covered, means, strict=False) if m is not None and c > 0]
    total_s = sum(c for c, _ in weighted)
    peaks = [value for value in bins.get("peak_abs_torque_nm", []) if value is not None]
    work = [value for value in bins.get("positive_work_j", []) if value is not None]
    return {
        "mean_abs_torque_nm": sum(c * m for c, m in weighted) / total_s if total_s else None,
        "peak_abs_torque_nm": max(peaks) if peaks else None,
        "positive_work_j": sum(work) if work else None,
    }


def _mean_assistance(assistance: dict[str, dict[str, list[float | None]]] | None) -> float | None:
    """The session's mean absolute torque over every actuated joint and time bin."""
    if not assistance:
        return None
    values = [
        value
        for name, channel in assistance.items()
        if _is_actuator(name)
        for value in channel.get("mean_abs_torque_nm", [])
        if value is not None
    ]
    return sum(values) / len(values) if values else None


def _is_actuator(channel: str) -> bool:
    """Whether a torque channel is a device's: one value per actuated joint.

    Three axes (``_x/_y/_z``) are a motion lab's joint moments, computed from motion capture and force plates:
    the body's own, not assistance the device delivered.
    """
    return parse_channel(channel).axis is None
