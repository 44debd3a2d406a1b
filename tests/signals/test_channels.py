import pytest
from hypothesis import given
from hypothesis import strategies as st

from exohub.exceptions import ValidationError
from exohub.signals.channels import channel_name, parse_channel
from exohub.signals.consts import AXES, JOINTS, MUSCLES, QUANTITY_UNITS, SIDED_SEGMENTS, SIDES, UNSIDED_SEGMENTS


@pytest.mark.parametrize(
    ("name", "location", "side", "quantity", "axis", "unit"),
    [
        ("left_shank_gyr_x", "left_shank", "left", "gyr", "x", "rad/s"),
        ("right_tibialis_anterior_emg", "right_tibialis_anterior", "right", "emg", None, "V"),
        ("pelvis_acc_z", "pelvis", None, "acc", "z", "m/s^2"),
        ("left_hip_angle", "left_hip", "left", "angle", None, "rad"),
        ("right_knee_torque", "right_knee", "right", "torque", None, "N*m"),
        ("left_shank_skin_temp", "left_shank", "left", "skin_temp", None, "degC"),
        ("right_foot_switch", "right_foot", "right", "switch", None, "1"),
        ("channel_12_emg", "channel_12", None, "emg", None, "V"),
    ],
)
def test_parses_the_convention(name, location, side, quantity, axis, unit):
    channel = parse_channel(name)
    assert (channel.location, channel.side, channel.quantity, channel.axis, channel.unit) == (
        location,
        side,
        quantity,
        axis,
        unit,
    )


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("left_foo_acc_x", "unknown location 'foo'"),
        ("left_shank_gyr", "needs an axis suffix"),
        ("hip_angle", "needs a side"),
        ("left_pelvis_acc_x", "has no side"),
        ("left_hip_emg_x", "takes no axis"),
        ("left_biceps_emg", "not a known muscle"),
        ("left_hip_speed", "no known quantity"),
        ("left_hip_gyr_x", "a hip has no 'gyr'"),
        ("", "non-empty string"),
    ],
)
def test_rejects_names_outside_the_convention(name, match):
    with pytest.raises(ValidationError, match=match):
        parse_channel(name)


def _valid_names():
    sided = st.builds(
        lambda side, part, quantity, axis: f"{side}_{part}_{quantity}_{axis}",
        st.sampled_from(SIDES),
        st.sampled_from(SIDED_SEGMENTS),
        st.sampled_from(["acc", "gyr"]),
        st.sampled_from(AXES),
    )
    joints = st.builds(
        lambda side, part, quantity: f"{side}_{part}_{quantity}",
        st.sampled_from(SIDES),
        st.sampled_from(JOINTS),
        st.sampled_from(["angle", "velocity", "torque", "current"]),
    )
    trunk = st.builds(lambda part, axis: f"{part}_gyr_{axis}", st.sampled_from(UNSIDED_SEGMENTS), st.sampled_from(AXES))
    emg = st.builds(lambda side, m: f"{side}_{m}_emg", st.sampled_from(SIDES), st.sampled_from(MUSCLES))
    return st.one_of(sided, joints, trunk, emg)


@given(_valid_names())
def test_every_valid_name_round_trips(name):
    channel = parse_channel(name)
    assert channel_name(channel.location, channel.quantity, channel.axis) == name
    assert channel.unit == QUANTITY_UNITS[channel.quantity]


@given(st.text(max_size=40))
def test_arbitrary_text_is_either_a_channel_or_a_validation_error(text):
    try:
        channel = parse_channel(text)
    except ValidationError:
        return
    assert channel.name == text
