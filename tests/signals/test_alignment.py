"""find_sagittal_frame and check_imu_data: axes and sign found from data, whatever the mounting."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from exohub.exceptions import ValidationError
from exohub.signals.datasets import load_gaitmap_imu
from exohub.signals.preprocessing import SagittalFrame, check_imu_data, find_sagittal_frame
from exohub.signals.preprocessing._alignment import block_mean

GAITMAP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gaitmap_example"
FILES = [
    "imu_sample.csv",
    "imu_sample_healthy_stair_up.csv",
    "imu_sample_healthy_stair_down.csv",
    "imu_sample_ms_left.csv",
    "imu_sample_ic_stride.csv",
]


def shank(rate_hz=200.0, seed=0):
    """Segment frame (forward, lateral-right, up): swing lobes +5 rad/s about the lateral axis, smaller negatives."""
    rng = np.random.default_rng(seed)
    time_s = np.arange(0, 12, 1 / rate_hz)
    phase = (time_s % 1.1) / 1.1
    omega = 5 * np.exp(-0.5 * ((phase - 0.6) / 0.08) ** 2) - 2 * np.exp(-0.5 * ((phase - 0.4) / 0.04) ** 2)
    gyr = np.column_stack([rng.normal(0, 0.3, time_s.size), omega, 0.5 * np.sin(2 * np.pi * time_s / 1.1)])
    acc = rng.normal(0, 1, (time_s.size, 3)) + np.array([0.0, 0.0, 9.81])
    return acc, gyr


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_shank_axes_and_sign_from_any_mounting(seed):
    acc, gyr = shank()
    rotation = Rotation.random(random_state=seed).as_matrix()
    frame = find_sagittal_frame(acc @ rotation.T, gyr @ rotation.T, 200.0, location="shank")
    np.testing.assert_allclose(rotation.T @ frame.gravity, [0, 0, 1], atol=0.02)
    np.testing.assert_allclose(rotation.T @ frame.mediolateral, [0, 1, 0], atol=0.05)
    np.testing.assert_allclose(frame.rotation_matrix @ frame.rotation_matrix.T, np.eye(3), atol=1e-9)
    assert frame.sign_rule == "swing_peak"
    assert frame.planarity > 0.8


def test_sagittal_rate_is_toes_up_positive():
    acc, gyr = shank()
    frame = find_sagittal_frame(acc, -gyr, 200.0, location="shank")
    assert isinstance(frame, SagittalFrame)
    rate = frame.sagittal_rate(-gyr)
    assert rate.max() > 4.5 > -rate.min()


@pytest.mark.skipif(not GAITMAP.is_dir(), reason=f"gaitmap example data not found at {GAITMAP}")
@pytest.mark.parametrize("name", FILES)
def test_foot_axis_and_sign_on_real_walks(name):
    """gaitmap's sensor frame has gyr_ml = -gyr_y for both feet; the travel rule must find it, rotated or not."""
    recording = load_gaitmap_imu(GAITMAP / name)
    frame = recording.to_frame()
    side = "left" if "left_foot_acc_x" in frame else "right"
    acc, gyr = check_imu_data(frame, f"{side}_foot")
    rate_hz = recording.sampling_rate_hz(f"{side}_foot_acc_x")
    found = find_sagittal_frame(acc, gyr, rate_hz)
    assert found.sign_rule == "travel"
    assert found.mediolateral @ [0, -1, 0] > 0.9
    rotation = Rotation.random(random_state=len(name)).as_matrix()
    rotated = find_sagittal_frame(acc @ rotation.T, gyr @ rotation.T, rate_hz)
    np.testing.assert_allclose(rotation.T @ rotated.mediolateral, found.mediolateral, atol=1e-9)


def test_check_imu_data_names_missing_and_nan_channels():
    values = np.ones((100, 6))
    data = pd.DataFrame(values, columns=[f"left_foot_{q}_{a}" for q in ("acc", "gyr") for a in "xyz"])
    acc, gyr = check_imu_data(data, "left_foot")
    assert acc.shape == gyr.shape == (100, 3)
    with pytest.raises(ValidationError, match=r"lacks the columns \['right_foot_acc_x'"):
        check_imu_data(data, "right_foot")
    data.iloc[40:45, 4] = np.nan
    with pytest.raises(ValidationError, match=r"'left_foot_gyr_y' is not finite .* sample 40 .* for 5 sample"):
        check_imu_data(data, "left_foot")
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        check_imu_data(values)


def test_rejects_wrong_shapes_and_location():
    acc, gyr = shank()
    with pytest.raises(ValidationError, match=r"shape \(n, 3\)"):
        find_sagittal_frame(acc[:, :2], gyr, 200.0)
    with pytest.raises(ValueError, match="'location' parameter"):
        find_sagittal_frame(acc, gyr, 200.0, location="hand")
    with pytest.raises(ValidationError, match="Cannot find a direction"):
        find_sagittal_frame(np.zeros_like(acc), gyr, 200.0)


@pytest.mark.parametrize("factor", [2, 3, 4, 7, 8, 10])
@pytest.mark.parametrize("shape", [(10_003,), (10_003, 3)])
def test_block_mean_is_numpy_mean_bit_for_bit(factor: int, shape: tuple[int, ...]) -> None:
    values = np.random.default_rng(factor).standard_normal(shape) * 1e3
    for data in (values, np.asfortranarray(values), values > 0):
        n = len(data) // factor * factor
        expected = data[:n].reshape(n // factor, factor, *data.shape[1:]).mean(axis=1)
        np.testing.assert_array_equal(block_mean(data, factor), expected)
