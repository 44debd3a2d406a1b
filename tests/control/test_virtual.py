"""The virtual patient: replay at loop rate, actuator lag, bounded interaction, thermal models, fault injection."""

import math
from pathlib import Path

import numpy as np
import pytest

from exohub.control.devices import default_hip_profile, load_profile
from exohub.control.safety import SensorFrame
from exohub.control.virtual import FaultInjection, PatientModel, VirtualPatient, synthetic_hip_gait
from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals import read_recording

FIXTURE = Path(__file__).parents[1] / "data" / "synthetic_hip_walk.csv"
RATE_HZ = 1000.0
QUIET = PatientModel(angle_noise_rad=0.0, velocity_noise_rad_s=0.0)


@pytest.fixture(scope="module")
def profile():
    return default_hip_profile()


@pytest.fixture(scope="module")
def gait():
    return read_recording(FIXTURE)


def _patient(gait, profile, faults=(), model=QUIET, rate_hz=RATE_HZ) -> VirtualPatient:
    return VirtualPatient(gait, profile, rate_hz=rate_hz, faults=faults, model=model)


def _read(patient: VirtualPatient, k: int) -> SensorFrame:
    frame = SensorFrame(2, n_skin_sensors=2)
    patient.read(k / patient.rate_hz, frame)
    return frame


def test_default_profile_is_shipped_and_valid(profile) -> None:
    assert profile.joint_names == ("left_hip", "right_hip")
    assert profile.safe_state == "zero_torque"
    assert profile.skin_limit_c == 43.0


def test_profile_file_refused_by_field(tmp_path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"name": "x", "joints": [{"joint": "left_hip", "max_torque_nm": -1, "max_velocity_rad_s": 1,'
        ' "min_angle_rad": 0, "max_angle_rad": 1}]}'
    )
    with pytest.raises(ValidationError, match=r"max_torque_nm must be above 0"):
        load_profile(bad)
    with pytest.raises(ValidationError, match="no such device profile"):
        load_profile(tmp_path / "absent.json")


def test_replay_follows_the_recording_at_loop_rate(gait, profile) -> None:
    patient = _patient(gait, profile)
    stream = gait.streams[0]
    for k in (0, 1, 2, 3, 1234, 5001):
        frame = _read(patient, k)
        expected = np.interp(k / RATE_HZ, stream.index, stream["left_hip_angle"])
        assert frame.angle_rad[0] == pytest.approx(expected, abs=1e-12)
        assert frame.sample_time_s == frame.link_time_s == k / RATE_HZ
    # longer sessions loop over the recording
    n = round(patient.duration_s * RATE_HZ)
    assert _read(patient, n + 7).angle_rad[1] == _read(patient, 7).angle_rad[1]


def test_sensor_noise_is_seeded(gait, profile) -> None:
    first = VirtualPatient(gait, profile, seed=3)
    again = VirtualPatient(gait, profile, seed=3)
    other = VirtualPatient(gait, profile, seed=4)
    assert _read(first, 10).angle_rad[0] == _read(again, 10).angle_rad[0] != _read(other, 10).angle_rad[0]


def test_applied_torque_follows_the_command_with_a_first_order_lag(gait, profile) -> None:
    patient = _patient(gait, profile)
    command = np.array([10.0, -10.0])
    for k in range(10):  # 10 ticks of 1 ms = one time constant
        patient.write(k / RATE_HZ, command)
    expected = 10.0 * (1.0 - math.exp(-1.0))
    np.testing.assert_allclose(patient.applied_torque_nm, [expected, -expected], rtol=1e-9)


def test_interaction_moves_the_joint_but_stays_bounded(gait, profile) -> None:
    patient = _patient(gait, profile)
    baseline = _read(patient, 500).angle_rad.copy()
    for k in range(2000):
        patient.write(k / RATE_HZ, np.array([1e6, -1e6]))  # a torque no supervisor would pass
    moved = _read(patient, 500).angle_rad - baseline
    np.testing.assert_allclose(moved, [QUIET.max_deviation_rad, -QUIET.max_deviation_rad], rtol=1e-6)
    patient.write(2.0, np.array([np.nan, np.inf]))  # a broken command applies no torque
    assert np.isfinite(patient.applied_torque_nm).all()


def test_skin_warms_towards_its_equilibrium_and_relaxes(gait, profile) -> None:
    patient = _patient(gait, profile, rate_hz=100.0)
    model = patient.model
    for k in range(100 * 1200):  # 20 min at 100 Hz with 5 N*m: 10 skin time constants
        patient.write(k / 100.0, np.array([5.0, 0.0]))
    frame = _read(patient, 0)
    equilibrium = model.skin_baseline_c + model.skin_heating_c_per_nm_s * model.skin_tau_s * 5.0
    assert frame.skin_temp_c[0] == pytest.approx(equilibrium, abs=1e-3)
    assert frame.skin_temp_c[1] == pytest.approx(model.skin_baseline_c)
    assert frame.motor_temp_c[0] > frame.motor_temp_c[1] == model.ambient_c
    assert frame.battery_temp_c > model.ambient_c
    for k in range(100 * 1200, 100 * 2400):
        patient.write(k / 100.0, np.zeros(2))
    assert _read(patient, 0).skin_temp_c[0] == pytest.approx(model.skin_baseline_c, abs=1e-3)


def test_dropout_freezes_sample_time_and_values(gait, profile) -> None:
    patient = _patient(gait, profile, faults=(FaultInjection("dropout", 1.0, duration_s=0.1),))
    before = _read(patient, 999)
    held = before.angle_rad.copy()
    during = _read(patient, 1050)
    assert during.sample_time_s == pytest.approx(0.999) and during.link_time_s == pytest.approx(1.05)
    np.testing.assert_array_equal(during.angle_rad, held)
    after = _read(patient, 1100)
    assert after.sample_time_s == pytest.approx(1.1)


def test_stuck_spike_and_rom_breach_act_on_their_joint(gait, profile) -> None:
    faults = (
        FaultInjection("stuck", 1.0, joint="right_hip"),
        FaultInjection("spike", 2.0, joint="left_hip", magnitude=0.5),
        FaultInjection("rom_breach", 3.0, duration_s=0.01, joint="left_hip"),
    )
    patient = _patient(gait, profile, faults=faults)
    clean = _patient(gait, profile)
    held = _read(patient, 999).angle_rad[1]
    assert _read(patient, 1500).angle_rad[1] == held != _read(clean, 1500).angle_rad[1]
    assert _read(patient, 2000).angle_rad[0] == pytest.approx(_read(clean, 2000).angle_rad[0] + 0.5)
    assert _read(patient, 2001).angle_rad[0] == _read(clean, 2001).angle_rad[0]  # one sample only
    assert _read(patient, 3005).angle_rad[0] == pytest.approx(profile.joints[0].max_angle_rad + 0.1)
    assert _read(patient, 3010).angle_rad[0] == _read(clean, 3010).angle_rad[0]


def test_communication_loss_stops_the_link_time(gait, profile) -> None:
    patient = _patient(gait, profile, faults=(FaultInjection("communication_loss", 0.5),))
    _read(patient, 499)
    frame = _read(patient, 900)
    assert frame.link_time_s == pytest.approx(0.499) and frame.sample_time_s == pytest.approx(0.9)


def test_over_temperature_heats_the_skin_above_the_limit(gait, profile) -> None:
    patient = _patient(gait, profile, faults=(FaultInjection("over_temperature", 0.0, joint="left_hip"),))
    frame = SensorFrame(2, n_skin_sensors=2)
    for k in range(300):
        patient.read(k / RATE_HZ, frame)
        patient.write(k / RATE_HZ, np.zeros(2))
    assert frame.skin_temp_c[0] > profile.skin_limit_c > frame.skin_temp_c[1]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"kind": "meltdown"}, "fault kind must be one of"),
        ({"kind": "dropout", "joint": "left_hip"}, "joint must be None"),
        ({"kind": "stuck", "joint": "left_elbow"}, "unknown joint 'left_elbow'"),
        ({"kind": "overrun", "magnitude": 2.5}, "whole number of ticks"),
        ({"kind": "rom_breach", "magnitude": -1.0}, "above 0"),
        ({"kind": "stuck", "magnitude": 1.0}, "takes no magnitude"),
        ({"kind": "spike", "start_s": -1.0}, "start_s must be a finite time"),
        ({"kind": "spike", "duration_s": 0.0}, "duration_s must be above 0"),
    ],
)
def test_malformed_fault_injection_is_refused_by_field(values, message) -> None:
    with pytest.raises(ValidationError, match=message):
        FaultInjection(**({"start_s": 1.0} | values))


def test_fault_windows_in_ticks() -> None:
    assert FaultInjection("spike", 0.5).ticks(1000.0) == (500, 501)
    assert FaultInjection("overrun", 0.5).ticks(1000.0) == (500, 505)
    assert FaultInjection("stuck", 0.5, duration_s=0.02).ticks(500.0) == (250, 260)


def test_gait_without_a_joint_channel_is_refused_by_name(gait, profile) -> None:
    with pytest.raises(ValidationError, match="right_hip_angle"):
        VirtualPatient(gait.drop(["right_hip_angle"]), profile)
    with pytest.raises(ValidationError, match="missing"):
        VirtualPatient({"time_s": [0.0, 0.1]}, profile)


def test_gaps_in_the_replay_are_bridged_with_a_warning(profile) -> None:
    time_s = np.arange(400) / 200.0
    angle = 0.3 * np.sin(2 * np.pi * time_s)
    angle[100:110] = np.nan
    gait = {"time_s": time_s, "left_hip_angle": angle, "right_hip_angle": -angle}
    with pytest.warns(ExohubWarning, match="20 missing samples"):
        patient = VirtualPatient(gait, profile, model=QUIET)
    assert np.isfinite(_read(patient, 525).angle_rad).all()
    assert _read(patient, 525).velocity_rad_s[1] == pytest.approx(
        -0.3 * 2 * np.pi * np.cos(2 * np.pi * 0.525), rel=0.02
    )


def test_synthetic_gait_looks_like_walking() -> None:
    recording = synthetic_hip_gait(11.0, stride_time_s=1.1)
    angle = np.rad2deg(recording.streams[0]["left_hip_angle"].to_numpy())
    assert -12 < angle.min() < -8 and 30 < angle.max() < 34
    wraps = np.flatnonzero(np.diff(recording.labels["left_phase"].to_numpy()) < -0.5)
    assert 8 <= wraps.size <= 11
