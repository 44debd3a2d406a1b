"""Assistance: joint torque from gait phase, scaled by locomotion mode and adapted to the patient as needed.

A :class:`TorqueProfile` is a sum of smooth bumps over the gait cycle (e.g. hip flexion assistance in late stance
and early swing, extension assistance around heel strike), each with a peak torque, a peak phase and a width.
:class:`AssistAsNeeded` adapts a per-joint gain once per stride in the manner of Emken et al. 2007 ("Motor adaptation
as a greedy optimization of error and effort", J Neurophysiol 97:3997): the gain decays by a forgetting factor and
rises with the stride's tracking error (range of motion short of its target) or effort deficit, so assistance is only
as large as the patient needs. :class:`AssistancePolicy` puts them together with a soft start and a fade-out; its
command then goes to the safety supervisor, which clamps it whatever the policy says.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from exohub.control.profiles import check_joint_name
from exohub.exceptions import ValidationError

#: Default scaling of assistance per locomotion mode (the hip-exoskeleton data set's modes). Stairs and ramps up need
#: more hip work than level walking, descents less (e.g. Kang et al. 2021 controller settings).
MODE_SCALES: dict[str, float] = {
    "level_ground": 1.0,
    "ramp_ascent": 1.2,
    "ramp_descent": 0.7,
    "stair_ascent": 1.3,
    "stair_descent": 0.5,
    "standing": 0.0,
}


def _check(where: str, value: float, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValidationError(f"{where} must be a number in [{low}, {high}], got {value!r}.")
    return float(value)


@dataclass(frozen=True)
class TorqueBump:
    """One raised-cosine bump of torque over the gait cycle.

    Attributes
    ----------
    peak_torque_nm
        Torque at the peak (positive assists flexion, negative extension; ISB signs).
    peak_phase
        Where in the cycle (0 = initial contact) the peak is.
    width
        Duration of the bump as a fraction of the cycle; the torque is zero outside it.
    """

    peak_torque_nm: float
    peak_phase: float
    width: float

    def __post_init__(self) -> None:
        _check("peak_torque_nm", self.peak_torque_nm, -500.0, 500.0)
        _check("peak_phase", self.peak_phase, 0.0, 1.0)
        _check("width", self.width, 0.01, 1.0)

    def torque_nm(self, phase: float) -> float:
        """The bump's torque at ``phase`` in [0, 1)."""
        distance = (phase - self.peak_phase + 0.5) % 1.0 - 0.5
        half = 0.5 * self.width
        if not -half < distance < half:
            return 0.0
        return self.peak_torque_nm * 0.5 * (1.0 + math.cos(math.pi * distance / half))


@dataclass(frozen=True)
class TorqueProfile:
    """A joint's assistance over the gait cycle: the sum of its bumps.

    Attributes
    ----------
    joint
        Sided joint name (``left_hip``).
    bumps
        The bumps, e.g. flexion assistance peaking at 60 % and extension assistance at 5 % of the cycle.
    """

    joint: str
    bumps: tuple[TorqueBump, ...]

    def __post_init__(self) -> None:
        check_joint_name("torque profile", self.joint)
        if not self.bumps or not all(isinstance(bump, TorqueBump) for bump in self.bumps):
            raise ValidationError(f"torque profile of {self.joint}: bumps must be a non-empty sequence of TorqueBump.")

    def torque_nm(self, phase: float) -> float:
        """The profile's torque at ``phase``; NaN phase (not walking) gives 0."""
        if not 0.0 <= phase < 1.0:
            return 0.0
        return sum(bump.torque_nm(phase) for bump in self.bumps)

    @classmethod
    def hip(cls, joint: str, *, flexion_nm: float = 8.0, extension_nm: float = 6.0) -> TorqueProfile:
        """A hip profile in the usual timing: extension around heel strike, flexion from late stance into swing."""
        return cls(
            joint,
            (
                TorqueBump(-abs(extension_nm), peak_phase=0.05, width=0.3),
                TorqueBump(abs(flexion_nm), peak_phase=0.6, width=0.35),
            ),
        )


@dataclass
class AssistAsNeeded:
    """Per-stride gain adaptation: ``gain <- forgetting * gain + learning_rate * deficit``, within bounds.

    Parameters
    ----------
    forgetting
        In (0, 1]: with no deficit the gain decays by this factor every stride (1 keeps it).
    learning_rate
        Gain added per unit of deficit (per radian of missing range of motion, or per unit of effort deficit).
    min_gain, max_gain
        Bounds of the gain (the patient's settings: never more than ``max_gain`` x the profile).
    initial_gain
        The gain at the start.
    """

    forgetting: float = 0.9
    learning_rate: float = 2.0
    min_gain: float = 0.0
    max_gain: float = 1.5
    initial_gain: float = 1.0
    gain: float = field(init=False)

    def __post_init__(self) -> None:
        _check("forgetting", self.forgetting, 1e-6, 1.0)
        _check("learning_rate", self.learning_rate, 0.0, 1e3)
        _check("min_gain", self.min_gain, 0.0, 10.0)
        _check("max_gain", self.max_gain, self.min_gain, 10.0)
        _check("initial_gain", self.initial_gain, self.min_gain, self.max_gain)
        self.gain = self.initial_gain

    def end_of_stride(self, deficit: float) -> float:
        """Update the gain with the stride's deficit (>= 0; a negative or NaN deficit counts as 0); return it."""
        deficit = deficit if deficit > 0.0 else 0.0  # NaN > 0 is False
        self.gain = min(max(self.forgetting * self.gain + self.learning_rate * deficit, self.min_gain), self.max_gain)
        return self.gain


class AssistancePolicy:
    """Torque per joint from each joint's gait phase, the locomotion mode and the adapted gains.

    Parameters
    ----------
    profiles
        One :class:`TorqueProfile` per actuated joint, in the command order.
    adaptation
        Optional :class:`AssistAsNeeded` per joint (same order); without it the gain stays 1.
    target_rom_rad
        Per joint, the range of motion the patient should reach per stride; the shortfall is the deficit fed to
        the adaptation. Needed with ``adaptation``.
    mode_scales
        Scale per locomotion mode (:data:`MODE_SCALES` by default); an unknown mode gives 0 (no assistance).
    soft_start_s, fade_out_s
        Assistance rises linearly from 0 over ``soft_start_s`` after :meth:`start`, and falls to 0 over
        ``fade_out_s`` after :meth:`stop`.
    """

    def __init__(
        self,
        profiles: tuple[TorqueProfile, ...],
        *,
        adaptation: tuple[AssistAsNeeded, ...] | None = None,
        target_rom_rad: tuple[float, ...] | None = None,
        mode_scales: Mapping[str, float] | None = None,
        soft_start_s: float = 2.0,
        fade_out_s: float = 1.0,
    ) -> None:
        self.profiles = tuple(profiles)
        n = len(self.profiles)
        if n == 0 or not all(isinstance(profile, TorqueProfile) for profile in self.profiles):
            raise ValidationError(f"profiles must be one TorqueProfile per joint, got {self.profiles!r}.")
        if adaptation is not None and (len(adaptation) != n or target_rom_rad is None or len(target_rom_rad) != n):
            raise ValidationError("adaptation needs one AssistAsNeeded and one target_rom_rad per profile.")
        if target_rom_rad is not None:
            target_rom_rad = tuple(
                _check(f"target_rom_rad[{j}]", value, 0.0, math.pi) for j, value in enumerate(target_rom_rad)
            )
        self.adaptation = adaptation
        self.target_rom_rad = target_rom_rad
        self.mode_scales = dict(MODE_SCALES if mode_scales is None else mode_scales)
        for mode, scale in self.mode_scales.items():
            _check(f"mode_scales[{mode!r}]", scale, 0.0, 2.0)
        self.soft_start_s = _check("soft_start_s", soft_start_s, 0.0, 60.0)
        self.fade_out_s = _check("fade_out_s", fade_out_s, 0.0, 60.0)
        self._command = np.zeros(n)
        self._previous_phase = [math.nan] * n
        self._angle_low = [math.inf] * n
        self._angle_high = [-math.inf] * n
        self._start_s = math.nan
        self._stop_s = math.nan

    def start(self, t_s: float) -> None:
        """Begin assistance (soft start from ``t_s``)."""
        self._start_s, self._stop_s = t_s, math.nan

    def stop(self, t_s: float) -> None:
        """Fade assistance out from ``t_s``."""
        self._stop_s = t_s

    def envelope(self, t_s: float) -> float:
        """The soft-start and fade-out factor in [0, 1] at ``t_s``."""
        if math.isnan(self._start_s) or t_s < self._start_s:
            return 0.0
        rising = 1.0 if self.soft_start_s == 0 else min(1.0, (t_s - self._start_s) / self.soft_start_s)
        if math.isnan(self._stop_s):
            return rising
        falling = 0.0 if self.fade_out_s == 0 else max(0.0, 1.0 - (t_s - self._stop_s) / self.fade_out_s)
        return min(rising, falling)

    def step(self, t_s: float, phase: np.ndarray, angle_rad: np.ndarray, mode: str) -> np.ndarray:
        """Return this tick's torque per joint (an array the policy owns).

        Parameters
        ----------
        t_s
            The loop clock.
        phase
            Each joint's gait phase in [0, 1) (NaN: not walking, no assistance).
        angle_rad
            Each joint's angle, for the range of motion the adaptation tracks.
        mode
            The locomotion mode now.
        """
        scale = self.envelope(t_s) * self.mode_scales.get(mode, 0.0)
        for j, profile in enumerate(self.profiles):
            now = float(phase[j])
            gain = 1.0 if self.adaptation is None else self._adapt(j, now, float(angle_rad[j]))
            self._command[j] = scale * gain * profile.torque_nm(now)
            self._previous_phase[j] = now
        return self._command

    def _adapt(self, j: int, phase: float, angle_rad: float) -> float:
        adaptation = self.adaptation[j]  # type: ignore[index]
        if phase < self._previous_phase[j] - 0.5:  # the phase wrapped: a stride has ended
            rom_rad = self._angle_high[j] - self._angle_low[j]
            adaptation.end_of_stride(self.target_rom_rad[j] - rom_rad)  # type: ignore[index]
            self._angle_low[j], self._angle_high[j] = math.inf, -math.inf
        if angle_rad == angle_rad:  # not NaN
            self._angle_low[j] = min(self._angle_low[j], angle_rad)
            self._angle_high[j] = max(self._angle_high[j], angle_rad)
        return adaptation.gain
