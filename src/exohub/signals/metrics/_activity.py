"""Activity in the device: time up (standing or walking) versus sitting, and the assistance delivered over time."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from exohub._utils._checks import check_finite_number, check_positive
from exohub.signals.channels import parse_channel
from exohub.signals.consts import SIDES
from exohub.signals.recording import Recording

#: Columns of :func:`compute_assistance_over_time`, per torque channel.
ASSISTANCE_METRICS = ("covered_s", "mean_abs_torque_nm", "peak_abs_torque_nm", "mean_abs_power_w", "positive_work_j")
#: Body parts whose sagittal angle tells sitting from standing, in the order they are trusted.
POSTURE_BODY_PARTS = ("hip", "thigh")


@dataclass(frozen=True)
class UpTime:
    """Time the patient spent up (standing or walking) and sitting in the device.

    Attributes
    ----------
    up_time_s
        Time up, or None when the recording cannot tell (see ``source``).
    sitting_time_s
        Time sitting, or None.
    unknown_time_s
        Time with a missing (NaN) angle on either side: neither up nor sitting. None when the recording cannot tell.
    n_sit_to_stand
        Changes from sitting to up, or None.
    source
        The channels the posture came from (``"hip angles: left_hip_angle, right_hip_angle"``), or why there is no
        up time (``"no hip or thigh angles of both sides"``).
    """

    up_time_s: float | None
    sitting_time_s: float | None
    unknown_time_s: float | None
    n_sit_to_stand: int | None
    source: str

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a dict (JSON-compatible)."""
        return asdict(self)


def compute_up_time(
    recording: Recording, *, sitting_hip_flexion_deg: float = 60.0, min_posture_s: float = 2.0
) -> UpTime:
    """Return the time the patient was up (standing or walking) and sitting, from the hip or thigh angles.

    Parameters
    ----------
    recording
        The session. It needs a sagittal hip angle of both sides (``left_hip_angle``, ``right_hip_angle``; rad,
        flexion positive) or, failing that, a thigh angle of both sides (``<side>_thigh_angle``, the thigh's
        inclination, flexion positive). With anatomical axes (``<side>_hip_angle_x/y/z``) the axis that varies most
        is taken as the sagittal one.
    sitting_hip_flexion_deg
        A sample is sitting when both hips (or thighs) are flexed this much or more (sitting is about 80-100
        degrees; walking stays under about 50, stair ascent briefly reaches 60-70 on one side).
    min_posture_s
        A posture must last this long to count as a change: shorter runs (a deep step, a stair, a squat) keep the
        posture before them.

    Returns
    -------
    UpTime
        With every time None and ``source`` saying why when the recording has no hip or thigh angle of both sides.

    Notes
    -----
    A sample is *sitting* when both sides are flexed at least ``sitting_hip_flexion_deg``, *up* otherwise, and
    *unknown* when either side is NaN; unknown samples count to neither and do not split a posture. Requiring both
    hips (rather than either) keeps standing exercises with one hip held flexed, and stair ascent, as up. Each
    sample counts for one nominal sample period. Lying supine (hips extended) cannot be told from standing with
    hip angles alone and counts as up; a pelvis or trunk IMU alone does not tell sitting from standing reliably
    (the pelvis tilts only 10-20 degrees), so it is not used.
    """
    flexion_deg = _check_angle_deg("sitting_hip_flexion_deg", sitting_hip_flexion_deg)
    min_posture_s = check_finite_number("min_posture_s", min_posture_s, minimum=0)
    found = _posture_angles(recording)
    if isinstance(found, str):
        return UpTime(None, None, None, None, source=found)
    angles, rate_hz, source = found
    valid = np.isfinite(angles).all(axis=1)
    sitting = np.all(angles[valid] >= np.radians(flexion_deg), axis=1)
    sitting = _debounce(sitting, min_samples=math.ceil(min_posture_s * rate_hz - 1e-9))
    period_s = 1.0 / rate_hz
    n_sitting = int(sitting.sum())
    return UpTime(
        up_time_s=(sitting.size - n_sitting) * period_s,
        sitting_time_s=n_sitting * period_s,
        unknown_time_s=int((~valid).sum()) * period_s,
        n_sit_to_stand=int(np.count_nonzero(sitting[:-1] & ~sitting[1:])),
        source=source,
    )


def _posture_angles(recording: Recording) -> tuple[np.ndarray, float, str] | str:
    """The sagittal angles (n, 2) of both sides on one clock, its rate and a source text; or why there are none."""
    for body_part in POSTURE_BODY_PARTS:
        names = [_sagittal_channel(recording, side, body_part) for side in SIDES]
        if None in names:
            continue
        picked = [name for name in names if name is not None]
        streams = {recording.stream_index(name) for name in picked}
        rate_hz = max(recording.sampling_rate_hz(name) for name in picked)
        data = recording.get(picked) if len(streams) == 1 else recording.align(rate_hz, picked)
        return data.to_numpy(dtype=np.float64), rate_hz, f"{body_part} angles: {', '.join(picked)}"
    one_sided = [
        name for name in recording.pick(quantity="angle") if parse_channel(name).body_part in POSTURE_BODY_PARTS
    ]
    if one_sided:
        return f"hip or thigh angle of one side only ({', '.join(one_sided)}); up time needs both sides"
    return "no hip or thigh angles of both sides"


def _sagittal_channel(recording: Recording, side: str, body_part: str) -> str | None:
    names = recording.pick(quantity="angle", side=side, body_part=body_part)
    if not names:
        return None
    plain = [name for name in names if parse_channel(name).axis is None]
    if plain:
        return plain[0]
    # Anatomical axes (motion capture): flexion/extension is the angle that moves most.
    variances = [float(np.nanvar(recording.get([name]).to_numpy())) for name in names]
    return names[int(np.nanargmax(variances))] if np.isfinite(variances).any() else names[0]


def _debounce(state: np.ndarray, *, min_samples: int) -> np.ndarray:
    """Return ``state`` with runs shorter than ``min_samples`` set to the state of the last long run.

    Before the first long run, its state; with no long run at all, ``state`` as it is.
    """
    if state.size == 0:
        return state
    starts = np.r_[0, np.flatnonzero(state[1:] != state[:-1]) + 1]
    ends = np.r_[starts[1:], state.size]
    long = (ends - starts) >= min_samples
    if not long.any():
        return state.copy()
    out = np.empty_like(state)
    current = state[starts[int(np.argmax(long))]]
    for start, end, is_long in zip(starts.tolist(), ends.tolist(), long.tolist(), strict=True):
        if is_long:
            current = state[start]
        out[start:end] = current
    return out


def compute_assistance_over_time(recording: Recording, *, bin_s: float = 60.0) -> pd.DataFrame:
    """Return the torque delivered per time bin, for every torque channel of ``recording``.

    Parameters
    ----------
    recording
        The session; its ``<joint>_torque`` channels (N*m, applied) and, where present, the matching
        ``<joint>_velocity`` (rad/s, same sign convention) give the power.
    bin_s
        Length of each time bin (s). Bins start at the recording's first sample; the last one may be partial.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bin_start_s``; columns a MultiIndex (channel, metric) with the metrics of
        :data:`ASSISTANCE_METRICS`: ``covered_s`` (time with a torque sample that is not NaN),
        ``mean_abs_torque_nm`` and ``peak_abs_torque_nm`` (of the absolute torque), ``mean_abs_power_w`` (mean of
        |torque x velocity|, W = N*m*rad/s) and ``positive_work_j`` (the time integral of the positive power: work
        the device did on the joint in the direction of its motion, J). The power columns are NaN without a
        velocity channel, every column is NaN in a bin without a valid sample. No columns when the recording has no
        torque channel.
    """
    bin_s = check_positive("bin_s", bin_s)
    start_s = recording.start_s
    n_bins = int(np.floor(recording.duration_s / bin_s + 1e-9)) + 1
    index = pd.Index(start_s + bin_s * np.arange(n_bins), name="bin_start_s")
    frames = {}
    for name in recording.pick(quantity="torque"):
        frames[name] = _assistance_of(recording, name, start_s=start_s, bin_s=bin_s, n_bins=n_bins)
    if not frames:
        return pd.DataFrame(index=index, columns=pd.MultiIndex.from_tuples([], names=["channel", "metric"]))
    frame = pd.concat(frames, axis=1, names=["channel", "metric"])
    frame.index = index
    return frame


def _assistance_of(recording: Recording, name: str, *, start_s: float, bin_s: float, n_bins: int) -> pd.DataFrame:
    torque = recording.get([name]).iloc[:, 0]
    time_s = torque.index.to_numpy(dtype=np.float64)
    torque_nm = torque.to_numpy(dtype=np.float64)
    period_s = 1.0 / recording.sampling_rate_hz(name)
    bins = np.minimum(np.floor((time_s - start_s) / bin_s + 1e-9).astype(np.int64), n_bins - 1)
    valid = np.isfinite(torque_nm)
    out = pd.DataFrame(np.nan, index=np.arange(n_bins), columns=list(ASSISTANCE_METRICS))
    counts = np.bincount(bins[valid], minlength=n_bins)
    has = counts > 0
    magnitude = np.abs(torque_nm[valid])
    out["covered_s"] = counts * period_s
    out.loc[has, "mean_abs_torque_nm"] = np.bincount(bins[valid], magnitude, minlength=n_bins)[has] / counts[has]
    peak = np.full(n_bins, -np.inf)
    np.maximum.at(peak, bins[valid], magnitude)
    out.loc[has, "peak_abs_torque_nm"] = peak[has]
    velocity_rad_s = _matching_velocity(recording, name, time_s)
    if velocity_rad_s is not None:
        power_w = torque_nm * velocity_rad_s
        ok = np.isfinite(power_w)
        n_power = np.bincount(bins[ok], minlength=n_bins)
        with_power = n_power > 0
        out.loc[with_power, "mean_abs_power_w"] = (
            np.bincount(bins[ok], np.abs(power_w[ok]), minlength=n_bins)[with_power] / n_power[with_power]
        )
        positive = np.bincount(bins[ok], np.maximum(power_w[ok], 0.0), minlength=n_bins) * period_s
        out.loc[with_power, "positive_work_j"] = positive[with_power]
    return out


def _matching_velocity(recording: Recording, name: str, time_s: np.ndarray) -> np.ndarray | None:
    """The velocity of the torque channel's joint (and axis) on the torque's clock, or None."""
    channel = parse_channel(name)
    velocity = f"{channel.location}_velocity" + (f"_{channel.axis}" if channel.axis else "")
    if velocity not in recording.channels:
        return None
    data = recording.get([velocity]).iloc[:, 0]
    if recording.stream_index(velocity) == recording.stream_index(name):
        return data.to_numpy(dtype=np.float64)
    source_s = data.index.to_numpy(dtype=np.float64)
    values = np.interp(time_s, source_s, data.to_numpy(dtype=np.float64))
    values[(time_s < source_s[0]) | (time_s > source_s[-1])] = np.nan  # no velocity outside its own span
    return values


def _check_angle_deg(parameter: str, value: Any) -> float:
    number = check_positive(parameter, value)
    if number >= 180.0:
        raise ValueError(f"{parameter} must be an angle in (0, 180) degrees, got {value!r}.")
    return number
