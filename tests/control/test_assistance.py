"""Assistance: torque bumps over the gait cycle, mode scaling, soft start and fade-out, assist-as-needed adaptation."""

import math

import numpy as np
import pytest

from exohub.control.assistance import AssistancePolicy, AssistAsNeeded, TorqueBump, TorqueProfile
from exohub.exceptions import ValidationError


def test_a_bump_peaks_where_asked_and_is_zero_outside_its_width() -> None:
    bump = TorqueBump(peak_torque_nm=10.0, peak_phase=0.05, width=0.3)
    assert bump.torque_nm(0.05) == pytest.approx(10.0)
    assert bump.torque_nm(0.05 + 0.075) == pytest.approx(5.0)  # half-way down at a quarter of the width
    assert bump.torque_nm(0.95) == pytest.approx(10.0 * 0.5 * (1 + math.cos(math.pi * 0.1 / 0.15)))  # wraps over 0
    assert bump.torque_nm(0.2) == 0.0 and bump.torque_nm(0.5) == 0.0


def test_hip_profile_extends_at_heel_strike_and_flexes_into_swing() -> None:
    profile = TorqueProfile.hip("left_hip", flexion_nm=8.0, extension_nm=6.0)
    assert profile.torque_nm(0.6) == pytest.approx(8.0)
    assert profile.torque_nm(0.05) == pytest.approx(-6.0)
    assert profile.torque_nm(float("nan")) == 0.0 and profile.torque_nm(1.0) == 0.0
    with pytest.raises(ValidationError, match="unknown joint 'left_wrist'"):
        TorqueProfile.hip("left_wrist")
    with pytest.raises(ValidationError, match=r"width must be a number in \[0.01, 1.0\]"):
        TorqueBump(5.0, 0.5, width=0.0)


def test_assist_as_needed_forgets_without_deficit_and_rises_with_it_within_bounds() -> None:
    adaptation = AssistAsNeeded(forgetting=0.9, learning_rate=2.0, max_gain=1.5, initial_gain=1.0)
    gains = [adaptation.end_of_stride(0.0) for _ in range(5)]
    np.testing.assert_allclose(gains, 0.9 ** np.arange(1, 6))
    assert adaptation.end_of_stride(float("nan")) == pytest.approx(0.9**6)
    assert adaptation.end_of_stride(0.1) == pytest.approx(0.9**7 + 0.2)
    for _ in range(50):
        adaptation.end_of_stride(1.0)
    assert adaptation.gain == 1.5


def test_policy_soft_start_mode_scale_and_fade_out() -> None:
    policy = AssistancePolicy((TorqueProfile.hip("left_hip"),), soft_start_s=2.0, fade_out_s=1.0)
    phase, angle = np.array([0.6]), np.array([0.2])
    assert policy.step(0.0, phase, angle, "level_ground")[0] == 0.0  # not started
    policy.start(10.0)
    assert policy.step(11.0, phase, angle, "level_ground")[0] == pytest.approx(4.0)  # half-way up
    assert policy.step(13.0, phase, angle, "stair_ascent")[0] == pytest.approx(8.0 * 1.3)
    assert policy.step(13.0, phase, angle, "running")[0] == 0.0  # an unknown mode is not assisted
    assert policy.step(13.0, np.array([np.nan]), angle, "level_ground")[0] == 0.0
    policy.stop(20.0)
    assert policy.step(20.5, phase, angle, "level_ground")[0] == pytest.approx(4.0)
    assert policy.step(21.5, phase, angle, "level_ground")[0] == 0.0


def _walk(policy: AssistancePolicy, rom_rad: float, n_strides: int, start_s: float) -> float:
    t_s = start_s
    for _ in range(n_strides):
        for phase in np.arange(0.0, 1.0, 0.01):
            angle = 0.5 * rom_rad * math.cos(2 * math.pi * phase)
            policy.step(t_s, np.array([phase]), np.array([angle]), "level_ground")
            t_s += 0.01
    return t_s


def test_policy_raises_assistance_while_range_of_motion_is_short_and_lowers_it_after() -> None:
    adaptation = AssistAsNeeded(forgetting=0.8, learning_rate=2.0, max_gain=4.0, initial_gain=0.5)
    policy = AssistancePolicy(
        (TorqueProfile.hip("left_hip"),), adaptation=(adaptation,), target_rom_rad=(0.7,), soft_start_s=0.0
    )
    policy.start(0.0)
    t_s = _walk(policy, rom_rad=0.4, n_strides=30, start_s=0.0)  # 0.3 rad short every stride
    assert adaptation.gain == pytest.approx(2.0 * 0.3 / (1 - 0.8), rel=0.05)  # the fixed point f*g + 0.6 = g
    _walk(policy, rom_rad=0.8, n_strides=10, start_s=t_s)  # target reached: the gain decays
    assert adaptation.gain < 3.0 * 0.8**9


def test_adaptation_needs_targets() -> None:
    with pytest.raises(ValidationError, match="one AssistAsNeeded and one target_rom_rad per profile"):
        AssistancePolicy((TorqueProfile.hip("left_hip"),), adaptation=(AssistAsNeeded(),))


def test_policy_refuses_what_is_not_a_torque_profile_and_impossible_targets() -> None:
    for profiles in ((), ("left_hip",), (TorqueProfile.hip("left_hip"), None)):
        with pytest.raises(ValidationError, match="one TorqueProfile per joint"):
            AssistancePolicy(profiles)
    for target in (float("nan"), -0.1, 10.0):
        with pytest.raises(ValidationError, match=r"target_rom_rad\[0\] must be a number in \[0.0, 3.14"):
            AssistancePolicy((TorqueProfile.hip("left_hip"),), adaptation=(AssistAsNeeded(),), target_rom_rad=(target,))
