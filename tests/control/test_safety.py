"""The safety supervisor: every limit trips, latches and resets; no command ever leaves the limits, whatever comes."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from exohub.control.profiles import DeviceProfile, JointLimits, PatientJointSettings, PatientSettings
from exohub.control.safety import COLDEST_READING_C, FaultKind, SafetySupervisor, SensorFrame
from exohub.exceptions import SafetyViolation, ValidationError

PERIOD_S = 0.001
MAX_TORQUE_NM = 20.0


def _profile(**changes) -> DeviceProfile:
    joints = tuple(
        JointLimits(
            joint=f"{side}_hip",
            max_torque_nm=MAX_TORQUE_NM,
            max_velocity_rad_s=6.0,
            min_angle_rad=-0.5,
            max_angle_rad=1.8,
        )
        for side in ("left", "right")
    )
    return DeviceProfile(**({"name": "test hip exo", "joints": joints, "safe_ramp_s": 0.0} | changes))


class Bench:
    """A supervisor at 1 kHz with healthy, slowly moving readings."""

    def __init__(self, **changes) -> None:
        self.supervisor = SafetySupervisor(_profile(**changes), tick_period_s=PERIOD_S)
        self.sensors = SensorFrame(2)
        self.t_s = 0.0

    def tick(self, command_nm=(5.0, -5.0), **kwargs) -> np.ndarray:
        self.t_s += PERIOD_S
        self.sensors.angle_rad[:] = 0.3 * math.sin(self.t_s), 0.3 * math.cos(self.t_s)
        self.sensors.velocity_rad_s[:] = 0.3 * math.cos(self.t_s), -0.3 * math.sin(self.t_s)
        self.sensors.sample_time_s = self.sensors.link_time_s = self.t_s
        self.sensors.motor_temp_c[:], self.sensors.skin_temp_c[:], self.sensors.battery_temp_c = 30.0, 33.0, 25.0
        for name, value in kwargs.items():
            _set(self.sensors, name, value)
        return self.supervisor.step(self.t_s, self.sensors, np.asarray(command_nm, dtype=float)).copy()


def _set(sensors: SensorFrame, name: str, value) -> None:
    if isinstance(getattr(sensors, name), np.ndarray):
        getattr(sensors, name)[0] = value
    else:
        setattr(sensors, name, value)


# --- profiles ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_torque_nm": -3.0}, r"joints\['left_hip'\].max_torque_nm must be above 0"),
        ({"min_angle_rad": 2.0}, "min_angle_rad .* must be below max_angle_rad"),
        ({"joint": "left_elbow"}, "unknown joint 'left_elbow'"),
        ({"max_velocity_rad_s": float("nan")}, "max_velocity_rad_s must be finite"),
    ],
)
def test_malformed_joint_limits_are_refused_by_name(changes, message) -> None:
    values = {"joint": "left_hip", "max_torque_nm": 20.0, "max_velocity_rad_s": 6.0, "min_angle_rad": -0.5}
    with pytest.raises(ValidationError, match=message):
        JointLimits(**({"max_angle_rad": 1.8} | values | changes))


def test_profile_from_mapping_refuses_unknown_keys_and_bad_values() -> None:
    joint = {
        "joint": "left_hip",
        "max_torque_nm": 20,
        "max_velocity_rad_s": 6,
        "min_angle_rad": -0.5,
        "max_angle_rad": 2,
    }
    profile = DeviceProfile.from_dict({"name": "exo", "joints": [joint], "safe_state": "damping"})
    assert profile.joint_names == ("left_hip",) and profile.joints[0].max_torque_nm == 20.0
    with pytest.raises(ValidationError, match=r"unknown setting\(s\) \['max_torque'\]"):
        DeviceProfile.from_dict({"name": "exo", "joints": [joint], "max_torque": 5})
    with pytest.raises(ValidationError, match="safe_state must be one of zero_torque, damping, hold"):
        DeviceProfile.from_dict({"name": "exo", "joints": [joint], "safe_state": "coast"})
    with pytest.raises(ValidationError, match=r"skin_warning_c .* must not be above skin_limit_c"):
        DeviceProfile.from_dict({"name": "exo", "joints": [joint], "skin_warning_c": 45.0})
    with pytest.raises(ValidationError, match="each joint may appear once"):
        DeviceProfile.from_dict({"name": "exo", "joints": [joint, joint]})


def test_patient_settings_only_narrow_the_device() -> None:
    profile = _profile()
    narrowed = PatientSettings(joints=(PatientJointSettings("left_hip", max_torque_nm=8.0, max_angle_rad=1.2),))
    limits = profile.with_patient(narrowed).joints[0]
    assert (limits.max_torque_nm, limits.max_angle_rad, limits.min_angle_rad) == (8.0, 1.2, -0.5)
    with pytest.raises(ValidationError, match=r"max_torque_nm \(30.0\) is above the device's 20.0"):
        profile.with_patient(PatientSettings(joints=(PatientJointSettings("left_hip", max_torque_nm=30.0),)))
    with pytest.raises(ValidationError, match="outside the device's range of motion"):
        profile.with_patient(PatientSettings(joints=(PatientJointSettings("left_hip", min_angle_rad=-1.0),)))
    with pytest.raises(ValidationError, match="has no joint 'left_knee'"):
        profile.with_patient(PatientSettings(joints=(PatientJointSettings("left_knee", max_torque_nm=5.0),)))


# --- clamping and faults ----------------------------------------------------------------------------------------
def test_commands_pass_within_limits_and_are_clamped_beyond() -> None:
    bench = Bench()
    np.testing.assert_array_equal(bench.tick((5.0, -7.5)), [5.0, -7.5])
    np.testing.assert_array_equal(bench.tick((80.0, -1e9)), [MAX_TORQUE_NM, -MAX_TORQUE_NM])
    assert not bench.supervisor.latched


FAULTS = [
    (FaultKind.RANGE_OF_MOTION, {"angle_rad": 2.0}),
    (FaultKind.VELOCITY, {"velocity_rad_s": -9.0}),
    (FaultKind.MOTOR_TEMPERATURE, {"motor_temp_c": 95.0}),
    (FaultKind.SKIN_TEMPERATURE, {"skin_temp_c": 43.5}),
    (FaultKind.BATTERY_TEMPERATURE, {"battery_temp_c": 70.0}),
    (FaultKind.SENSOR_INVALID, {"angle_rad": float("nan")}),
    (FaultKind.SENSOR_INVALID, {"skin_temp_c": float("inf")}),
    (FaultKind.SENSOR_INVALID, {"motor_temp_c": -float("inf")}),
    (FaultKind.SENSOR_INVALID, {"skin_temp_c": -300.0}),
    (FaultKind.SENSOR_INVALID, {"battery_temp_c": -float("inf")}),
    (FaultKind.SENSOR_INVALID, {"battery_temp_c": float("nan")}),
]


@pytest.mark.parametrize(("kind", "reading"), FAULTS, ids=[f"{k}-{next(iter(r))}" for k, r in FAULTS])
def test_each_limit_trips_in_the_same_tick_latches_and_resets(kind, reading) -> None:
    bench = Bench()
    for _ in range(20):
        bench.tick()
    out = bench.tick(**reading)
    assert bench.supervisor.fault is not None and bench.supervisor.fault.kind == kind
    np.testing.assert_array_equal(out, [0.0, 0.0])  # the safe state, in this very tick
    np.testing.assert_array_equal(bench.tick(), [0.0, 0.0])  # latched although the reading is healthy again
    _set(bench.sensors, *next(iter(reading.items())))
    with pytest.raises(SafetyViolation, match=f"cannot reset: {kind}"):
        bench.supervisor.reset(bench.t_s, bench.sensors, authorised_by="therapist.jp")
    bench.tick()
    bench.supervisor.reset(bench.t_s, bench.sensors, authorised_by="therapist.jp")
    np.testing.assert_array_equal(bench.tick(), [5.0, -5.0])
    assert [event.kind for event in bench.supervisor.events] == [kind, "reset"]
    assert "therapist.jp" in bench.supervisor.events[-1].detail


def test_stale_sensors_lost_link_overruns_and_a_bad_command_are_faults() -> None:
    bench = Bench()
    bench.tick()
    bench.t_s += 0.1  # the device went quiet for 100 ms
    bench.supervisor.step(bench.t_s, bench.sensors, np.array([5.0, 5.0]))
    assert bench.supervisor.fault.kind == FaultKind.COMMUNICATION_LOSS

    bench = Bench()
    bench.tick(sample_time_s=-1.0)
    assert bench.supervisor.fault.kind == FaultKind.SENSOR_STALE

    bench = Bench()
    bench.tick((float("nan"), 0.0))
    assert bench.supervisor.fault.kind == FaultKind.COMMAND_INVALID

    bench = Bench()
    for _ in range(2):
        bench.t_s += PERIOD_S
        bench.sensors.sample_time_s = bench.sensors.link_time_s = bench.t_s
        bench.supervisor.step(bench.t_s, bench.sensors, np.array([1.0, 1.0]), overrun=True)
    assert not bench.supervisor.latched  # two late ticks are recorded by the loop, not a fault
    bench.t_s += PERIOD_S
    bench.sensors.sample_time_s = bench.sensors.link_time_s = bench.t_s
    bench.supervisor.step(bench.t_s, bench.sensors, np.array([1.0, 1.0]), overrun=True)
    assert bench.supervisor.fault.kind == FaultKind.LOOP_OVERRUN


@pytest.mark.parametrize(
    ("stamp", "lead_s", "kind", "detail"),
    [
        ("sample_time_s", 1.0, FaultKind.SENSOR_STALE, "ahead of the loop clock"),
        ("sample_time_s", math.inf, FaultKind.SENSOR_STALE, "ahead of the loop clock"),
        ("sample_time_s", math.nan, FaultKind.SENSOR_STALE, "no valid time stamp"),
        ("link_time_s", 100.0, FaultKind.COMMUNICATION_LOSS, "ahead of the loop clock"),
        ("link_time_s", -math.inf, FaultKind.COMMUNICATION_LOSS, "inf s old"),
    ],
)
def test_time_stamps_ahead_of_the_loop_clock_or_not_finite_are_faults(stamp, lead_s, kind, detail) -> None:
    bench = Bench()
    bench.tick()
    setattr(bench.sensors, stamp, bench.t_s + lead_s)  # a device clock running ahead would defeat the age checks
    bench.t_s += PERIOD_S
    out = bench.supervisor.step(bench.t_s, bench.sensors, np.array([5.0, 5.0]))
    assert bench.supervisor.fault.kind == kind and detail in bench.supervisor.fault.detail
    np.testing.assert_array_equal(out, [0.0, 0.0])


def test_a_stamp_less_than_a_tick_ahead_is_accepted() -> None:
    bench = Bench()
    bench.tick()
    bench.tick(sample_time_s=bench.t_s + 1.5 * PERIOD_S)  # Bench.tick advances t_s by one period first
    assert not bench.supervisor.latched


def test_a_command_of_the_wrong_shape_is_a_fault_and_a_frame_of_the_wrong_shape_is_refused() -> None:
    for command in (np.array([12.0]), np.zeros((2, 1)), [5.0, 5.0]):
        bench = Bench()
        bench.tick()
        bench.t_s += PERIOD_S
        bench.sensors.sample_time_s = bench.sensors.link_time_s = bench.t_s
        out = bench.supervisor.step(bench.t_s, bench.sensors, command)
        assert bench.supervisor.fault.kind == FaultKind.COMMAND_INVALID, command
        np.testing.assert_array_equal(out, [0.0, 0.0])
    bench = Bench()
    with pytest.raises(ValidationError, match=r"the sensor frame has 3 angles.*test hip exo has 2 joints"):
        bench.supervisor.step(0.001, SensorFrame(3), np.zeros(2))


def test_a_reset_ramps_the_command_up_from_the_safe_state() -> None:
    bench = Bench(safe_ramp_s=0.01)
    bench.tick((10.0, -10.0))
    bench.tick(angle_rad=2.0)
    for _ in range(20):
        bench.tick()
    # the session resets inside a tick, just before that tick's step: the ramp's first tick is the reset's
    bench.supervisor.reset(bench.t_s + PERIOD_S, bench.sensors, authorised_by="therapist.jp")
    outputs = [bench.tick((10.0, -10.0))[0] for _ in range(12)]
    np.testing.assert_allclose(outputs[:10], 10.0 * np.arange(1, 11) / 10, atol=1e-9)
    assert outputs[-1] == 10.0


def test_the_safe_ramp_never_exceeds_its_start_when_the_clock_goes_back() -> None:
    bench = Bench(safe_ramp_s=0.05)
    bench.tick((5.0, -5.0))
    bench.tick(angle_rad=2.0)
    out = bench.supervisor.step(-1.0, bench.sensors, np.array([5.0, -5.0]))
    assert np.all(np.abs(out) <= 5.0)


def test_a_reset_must_name_a_person() -> None:
    bench = Bench()
    bench.tick(angle_rad=2.0)
    for who in (None, "", "  ", 3):
        with pytest.raises(ValidationError, match="must name who authorises it"):
            bench.supervisor.reset(bench.t_s, bench.sensors, authorised_by=who)
    assert bench.supervisor.latched


def test_a_controller_error_latches_the_safe_state() -> None:
    bench = Bench(safe_ramp_s=0.01)
    bench.tick((10.0, -10.0))
    bench.supervisor.fail(bench.t_s, bench.sensors, "the policy raised ZeroDivisionError()")
    outputs = [bench.tick((10.0, -10.0))[0] for _ in range(12)]
    assert bench.supervisor.fault.kind == FaultKind.CONTROLLER_ERROR
    assert outputs[0] < 10.0 and outputs[-1] == 0.0
    bench.supervisor.fail(bench.t_s, bench.sensors, "again")  # the first fault stays the one recorded
    assert [event.kind for event in bench.supervisor.events] == [FaultKind.CONTROLLER_ERROR]


def test_a_frozen_sensor_on_a_driven_joint_is_a_fault() -> None:
    bench = Bench()
    bench.tick()
    frozen = bench.sensors.angle_rad.copy(), bench.sensors.velocity_rad_s.copy()
    for _ in range(int(0.25 / PERIOD_S) + 1):
        bench.t_s += PERIOD_S
        bench.sensors.angle_rad[:], bench.sensors.velocity_rad_s[:] = frozen
        bench.sensors.sample_time_s = bench.sensors.link_time_s = bench.t_s
        bench.supervisor.step(bench.t_s, bench.sensors, np.array([5.0, 5.0]))
    assert bench.supervisor.fault.kind == FaultKind.SENSOR_STUCK


def test_skin_warning_is_recorded_once_per_crossing_without_a_fault() -> None:
    bench = Bench()
    for _ in range(5):
        bench.tick(skin_temp_c=41.5)
    bench.tick(skin_temp_c=40.0)
    bench.tick(skin_temp_c=41.5)
    assert [event.kind for event in bench.supervisor.events] == ["skin_temperature_warning"] * 2
    assert not bench.supervisor.latched


def test_safe_state_ramps_from_the_last_command() -> None:
    bench = Bench(safe_ramp_s=0.01)
    bench.tick((10.0, -10.0))
    outputs = [bench.tick(angle_rad=2.0)[0]] + [bench.tick()[0] for _ in range(12)]
    np.testing.assert_allclose(outputs[:10], 10.0 * (1 - np.arange(1, 11) / 10), atol=1e-9)
    assert outputs[-1] == 0.0


def test_damping_and_hold_safe_states_oppose_motion() -> None:
    bench = Bench(safe_state="damping", damping_nm_s_per_rad=2.0)
    bench.tick()
    out = bench.tick(angle_rad=2.0)
    np.testing.assert_allclose(out, -2.0 * bench.sensors.velocity_rad_s)
    bench = Bench(safe_state="hold", hold_stiffness_nm_per_rad=30.0, damping_nm_s_per_rad=0.0 + 1e-9)
    bench.tick()
    bench.tick(motor_temp_c=95.0)
    held = bench.sensors.angle_rad.copy()
    bench.sensors.angle_rad[:] = held + 0.1
    out = bench.supervisor.step(bench.t_s + PERIOD_S, bench.sensors, np.zeros(2))
    np.testing.assert_allclose(out, -3.0, atol=1e-6)


# --- the property: nothing ever leaves the limits ---------------------------------------------------------------
floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
readings = arrays(np.float64, 2, elements=floats)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(readings, readings, readings, arrays(np.float64, 1, elements=floats), readings, st.booleans()),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["zero_torque", "damping", "hold"]),
    st.floats(0.0, 0.05),
)
def test_no_command_ever_leaves_the_limits(ticks, safe_state, ramp_s) -> None:
    supervisor = SafetySupervisor(_profile(safe_state=safe_state, safe_ramp_s=ramp_s), tick_period_s=PERIOD_S)
    sensors = SensorFrame(2)
    latched_since = None
    for k, (angle, velocity, motor, skin, command, overrun) in enumerate(ticks):
        t_s = (k + 1) * PERIOD_S
        sensors.angle_rad[:], sensors.velocity_rad_s[:], sensors.motor_temp_c[:] = angle, velocity, motor
        sensors.skin_temp_c[:] = skin
        sensors.sample_time_s = sensors.link_time_s = t_s
        out = supervisor.step(t_s, sensors, command, overrun=overrun)
        assert np.all(np.isfinite(out)) and np.all(np.abs(out) <= MAX_TORQUE_NM)
        readings = np.concatenate([angle, velocity, motor, skin])
        temperatures = np.concatenate([motor, skin])
        if not np.isfinite(readings).all() or (temperatures < COLDEST_READING_C).any():
            assert supervisor.latched  # an impossible reading is a fault, whatever else this tick holds
        if supervisor.latched and latched_since is None:
            latched_since = k
        if latched_since is not None:
            assert supervisor.latched  # never unlatches by itself
