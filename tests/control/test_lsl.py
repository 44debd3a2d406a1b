"""The LSL adapter: sensor stream in, command stream out, over loopback only (skipped where liblsl cannot start)."""

import math
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from exohub.control import SimulatedClock
from exohub.control.devices import default_hip_profile
from exohub.control.lsl import LslCommandOutlet, LslDevice, LslSensorInlet, configure_lsl, resolve_stream
from exohub.control.safety import SensorFrame
from exohub.control.session import run_session
from exohub.exceptions import ExohubWarning, ValidationError

JOINTS = ("left_hip", "right_hip")
# Deliberately not in the frame's order, with a channel the inlet does not use: columns are found by label.
LABELS = (
    "right_hip_angle",
    "trigger_switch",
    "left_hip_angle",
    "left_hip_velocity",
    "right_hip_velocity",
    "left_thigh_skin_temp",
    "right_thigh_skin_temp",
    "left_hip_motor_temp_c",
    "right_hip_motor_temp_c",
    "battery_temp_c",
)
CHANNELS = tuple(label for label in LABELS if label != "trigger_switch")


@pytest.fixture(scope="module")
def pylsl():
    try:
        configure_lsl()
    except ValidationError as err:
        pytest.skip(f"liblsl cannot start here: {err}")
    import pylsl  # configured above, before any LSL object

    return pylsl


def _name() -> str:
    return f"exohub-test-{uuid.uuid4().hex[:10]}"


def _sensor_outlet(pylsl, name, labels=LABELS, units=None):
    info = pylsl.StreamInfo(name, "Kinematics", len(labels), 0.0, pylsl.cf_double64, name)
    channels = info.desc().append_child("channels")
    for label in labels:
        channel = channels.append_child("channel")
        channel.append_child_value("label", label)
        if units and label in units:
            channel.append_child_value("unit", units[label])
    return pylsl.StreamOutlet(info)


def _sample(angle_left, angle_right, k=0.0):
    values = {
        "right_hip_angle": angle_right,
        "trigger_switch": 1.0,
        "left_hip_angle": angle_left,
        "left_hip_velocity": 0.5 + k,
        "right_hip_velocity": -0.5 - k,
        "left_thigh_skin_temp": 33.0 + k,
        "right_thigh_skin_temp": 34.0 + k,
        "left_hip_motor_temp_c": 40.0 + k,
        "right_hip_motor_temp_c": 41.0 + k,
        "battery_temp_c": 30.0 + k,
    }
    return [values[label] for label in LABELS]


def _wait(predicate, timeout_s=2.0):
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.002)
    return predicate()


def test_inlet_fills_frame_with_newest_sample_and_loop_clock_times(pylsl) -> None:
    name = _name()
    outlet = _sensor_outlet(pylsl, name)
    inlet = LslSensorInlet(name, CHANNELS, joints=JOINTS)
    try:
        assert inlet.labels == LABELS
        frame = SensorFrame(2, n_skin_sensors=2)
        inlet.read(5.0, frame)  # nothing received yet: both times say "never"
        assert frame.sample_time_s == -math.inf and frame.link_time_s == -math.inf
        now = pylsl.local_clock()
        for k in range(5):  # the newest is 10 ms old when read
            outlet.push_sample(_sample(0.1 * k, -0.1 * k, k), now - 0.050 + 0.010 * k)
        assert inlet.wait_for_samples(5)
        inlet.read(100.0, frame)
        np.testing.assert_array_equal(frame.angle_rad, [0.4, -0.4])
        np.testing.assert_array_equal(frame.velocity_rad_s, [4.5, -4.5])
        np.testing.assert_array_equal(frame.skin_temp_c, [37.0, 38.0])
        np.testing.assert_array_equal(frame.motor_temp_c, [44.0, 45.0])
        assert frame.battery_temp_c == 34.0
        assert 100.0 - 1.0 < frame.sample_time_s <= 100.0 - 0.010
        assert frame.link_time_s == 100.0
        inlet.read(100.5, frame)  # nothing new: the sample and the link age on the loop clock
        assert frame.link_time_s == 100.0 and 100.0 - 1.0 < frame.sample_time_s <= 100.0 - 0.010
        np.testing.assert_array_equal(frame.angle_rad, [0.4, -0.4])
    finally:
        inlet.close()


def test_inlet_derives_velocity_from_stamps_without_velocity_channels(pylsl) -> None:
    name = _name()
    labels = ("left_hip_angle", "right_hip_angle")
    outlet = _sensor_outlet(pylsl, name, labels)
    with pytest.warns(ExohubWarning, match="no skin, motor, battery temperature channel"):
        inlet = LslSensorInlet(name, labels, joints=JOINTS)
    try:
        now = pylsl.local_clock()
        outlet.push_sample([0.10, 0.30], now - 0.004)
        outlet.push_sample([0.12, 0.27], now - 0.002)
        assert inlet.wait_for_samples(2)
        frame = SensorFrame(2, n_skin_sensors=2)
        inlet.read(1.0, frame)
        np.testing.assert_allclose(frame.velocity_rad_s, [10.0, -15.0], rtol=1e-6)
    finally:
        inlet.close()


def test_command_outlet_samples_reach_an_inlet(pylsl) -> None:
    name = _name()
    outlet = LslCommandOutlet(name, JOINTS)
    receiver = pylsl.StreamInlet(resolve_stream(name, timeout_s=2.0))
    try:
        receiver.open_stream(2.0)
        assert outlet.wait_for_consumers(2.0)
        info = receiver.info(2.0)
        channel = info.desc().child("channels").child("channel")
        assert (channel.child_value("label"), channel.child_value("unit")) == ("left_hip_torque", "N*m")
        commands = np.array([[1.0, -2.0], [3.5, 0.0], [-15.0, 15.0]])
        for k, command in enumerate(commands):
            outlet.write(k * 0.001, command)
        received, stamps = [], []
        deadline = time.monotonic() + 2.0
        while len(received) < 3 and time.monotonic() < deadline:
            samples, times = receiver.pull_chunk(timeout=0.05)
            received += samples
            stamps += times
        np.testing.assert_array_equal(received, commands)
        assert outlet.n_pushed == 3 and outlet.n_errors == 0
        assert all(abs(stamp - pylsl.local_clock()) < 2.0 for stamp in stamps)
    finally:
        receiver.close_stream()


def test_missing_stream_is_a_clear_error_within_its_timeout(pylsl) -> None:
    name = _name()
    start = time.monotonic()
    with pytest.raises(ValidationError, match=f"no LSL stream named '{name}' on this machine.*is the device streaming"):
        LslSensorInlet(name, CHANNELS, joints=JOINTS, timeout_s=0.3)
    assert time.monotonic() - start < 2.0


def test_stream_without_the_needed_channels_names_them(pylsl) -> None:
    name = _name()
    outlet = _sensor_outlet(pylsl, name, ("left_hip_angle", "left_hip_velocity"))
    needed = ("left_hip_angle", "right_hip_angle", "left_hip_velocity", "right_hip_velocity")
    with (
        pytest.warns(ExohubWarning, match="temperature"),
        pytest.raises(ValidationError, match="has no channel right_hip_angle, right_hip_velocity") as err,
    ):
        LslSensorInlet(name, needed, joints=JOINTS)
    assert "left_hip_angle, left_hip_velocity" in str(err.value)
    del outlet


def test_channels_declaring_another_unit_are_refused_and_the_expected_ones_accepted(pylsl) -> None:
    name = _name()
    outlet = _sensor_outlet(pylsl, name, units={"left_hip_angle": "degrees", "left_hip_velocity": "rad/s"})
    with pytest.raises(ValidationError, match="channel 'left_hip_angle' is in 'degrees'; exohub reads it as angle_rad"):
        LslSensorInlet(name, CHANNELS, joints=JOINTS)
    del outlet
    name = _name()
    units = {"left_hip_angle": "rad", "left_hip_velocity": "rad/s", "left_hip_motor_temp_c": "degC"}
    outlet = _sensor_outlet(pylsl, name, units=units)
    LslSensorInlet(name, CHANNELS, joints=JOINTS).close()
    del outlet


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        (("left_hip_angle",), "must include right_hip_angle"),
        (("left_hip_angle", "right_hip_angel"), "right_hip_angel"),
        (("left_hip_angle", "right_hip_angle", "left_knee_angle"), "'left_knee_angle' fills no sensor reading"),
        (("left_hip_angle", "right_hip_angle", "left_hip_angle"), "lists a channel twice"),
    ],
)
def test_bad_channel_lists_are_refused_before_looking_for_a_stream(channels, message) -> None:
    with pytest.raises(ValidationError, match=message):
        LslSensorInlet("never-looked-up", channels, joints=JOINTS)


def _own_sockets() -> dict[str, list[tuple[str, int]]]:
    """Local (address, port) of this process's sockets per /proc/net table."""
    inodes = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found: dict[str, list[tuple[str, int]]] = {}
    for table in ("udp", "tcp", "udp6", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                address, port = fields[1].split(":")
                found.setdefault(table, []).append((address, int(port, 16)))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the socket tables of /proc (Linux)")
def test_configuration_keeps_discovery_on_loopback(pylsl) -> None:
    name = _name()
    outlet = LslCommandOutlet(name, JOINTS)
    assert resolve_stream(name, timeout_s=1.0).name() == name  # found through 127.0.0.1
    sockets = _own_sockets()
    # the discovery responder on the multicast port listens on 127.0.0.1 (0100007F) only; no IPv6 socket at all
    assert ("0100007F", 16571) in sockets["udp"]
    assert ("00000000", 16571) not in sockets["udp"]
    assert "udp6" not in sockets and "tcp6" not in sockets
    outlet.close()


def test_session_on_a_stream_that_stops_reaches_the_safe_state(pylsl) -> None:
    """run_session drives the LSL device; the stream sends one sample, so the sample goes stale and faults."""
    profile = default_hip_profile()
    name, command_name = _name(), _name()
    outlet = _sensor_outlet(pylsl, name)
    inlet = LslSensorInlet(name, CHANNELS, joints=profile.joint_names)
    commands = LslCommandOutlet(command_name, profile.joint_names)
    receiver = pylsl.StreamInlet(resolve_stream(command_name, timeout_s=2.0))
    try:
        receiver.open_stream(2.0)
        outlet.push_sample(_sample(0.2, -0.1))
        assert inlet.wait_for_samples(1)
        device = LslDevice(profile, inlet, commands, rate_hz=500.0)
        result = run_session(device, duration_s=0.2, clock=SimulatedClock())
        n_ticks = result.data.shape[0]
        assert n_ticks == 100 and commands.n_pushed == n_ticks + 1  # every tick, then zero torque at the end
        np.testing.assert_array_equal(result.column("left_hip_angle_rad"), 0.2)
        assert [event.kind for event in result.faults] == ["sensor_stale"]
        assert result.faults[0].time_s <= 0.02 + 0.002  # real age of the one sample is added
        assert np.all(result.column("left_hip_command_torque_nm")[-10:] == 0)
        assert _wait(lambda: receiver.samples_available() > 0)
    finally:
        receiver.close_stream()
        inlet.close()
