"""Filters: design checks, zero-phase vs causal, DataFrame round trip, NaN refusal, streaming parity with sosfilt."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.preprocessing import (
    ButterworthFilter,
    NotchFilter,
    StreamingFilter,
    design_butterworth_sos,
    design_notch_sos,
)

RATE_HZ = 1000.0


@pytest.fixture
def two_tones():
    """5 Hz + 100 Hz on two channels, 2 s at 1 kHz."""
    time_s = np.arange(2000) / RATE_HZ
    slow, fast = np.sin(2 * np.pi * 5 * time_s), np.sin(2 * np.pi * 100 * time_s)
    return pd.DataFrame({"left_shank_gyr_x": slow + fast, "left_shank_gyr_y": 2 * slow + fast}, index=time_s), slow


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"cutoff_hz": 500.0}, "not below the Nyquist"),
        ({"cutoff_hz": -1.0}, "positive frequency"),
        ({"cutoff_hz": (10.0, 5.0), "btype": "bandpass"}, "low < high"),
        ({"cutoff_hz": 10.0, "btype": "bandpass"}, r"\(low, high\)"),
        ({"cutoff_hz": 10.0, "btype": "sideways"}, "'btype' parameter"),
        ({"cutoff_hz": 10.0, "order": 0}, "positive integer"),
        ({"cutoff_hz": 10.0, "sampling_rate_hz": 0.0}, "finite positive"),
    ],
)
def test_butterworth_design_rejects_bad_arguments(kwargs, match):
    arguments = {"order": 4, "sampling_rate_hz": RATE_HZ, "btype": "lowpass"} | kwargs
    with pytest.raises(ValueError, match=match):
        design_butterworth_sos(**arguments)


def test_notch_drops_harmonics_above_nyquist_with_a_warning():
    with pytest.warns(ExohubWarning, match="left out"):
        sos = design_notch_sos(50.0, 30.0, 250.0, harmonics=4)
    assert sos.shape == (2, 6)  # 50 and 100 Hz; 150 and 200 Hz are above 125 Hz


def test_zero_phase_lowpass_keeps_the_slow_tone_without_lag(two_tones):
    data, slow = two_tones
    result = ButterworthFilter(order=4, cutoff_hz=20.0).filter(data, RATE_HZ).filtered_data_
    pd.testing.assert_index_equal(result.index, data.index)
    pd.testing.assert_index_equal(result.columns, data.columns)
    inner = slice(200, -200)  # away from the edges
    np.testing.assert_allclose(result["left_shank_gyr_x"].to_numpy()[inner], slow[inner], atol=2e-3)
    np.testing.assert_allclose(result["left_shank_gyr_y"].to_numpy()[inner], 2 * slow[inner], atol=4e-3)


def test_causal_filter_matches_sosfilt_and_lags(two_tones):
    data, slow = two_tones
    fitted = ButterworthFilter(order=2, cutoff_hz=20.0, causal=True).filter(data.to_numpy(), RATE_HZ)
    np.testing.assert_allclose(fitted.filtered_data_, signal.sosfilt(fitted.sos_, data.to_numpy(), axis=0))
    lag = np.argmax(np.correlate(fitted.filtered_data_[1000:, 0], slow[1000:], "full")) - (len(slow) - 1000 - 1)
    assert lag > 0  # a causal low-pass delays


def test_bandstop_and_highpass_and_notch_remove_their_band(two_tones):
    data, slow = two_tones
    inner = slice(300, -300)
    for algorithm in (
        ButterworthFilter(order=4, cutoff_hz=(80.0, 120.0), btype="bandstop"),
        NotchFilter(freq_hz=100.0, quality=10.0),
    ):
        kept = algorithm.filter(data, RATE_HZ).filtered_data_["left_shank_gyr_x"].to_numpy()
        np.testing.assert_allclose(kept[inner], slow[inner], atol=0.02)
    high = ButterworthFilter(order=4, cutoff_hz=50.0, btype="highpass").filter(data, RATE_HZ).filtered_data_
    assert np.abs(high["left_shank_gyr_x"].to_numpy()[inner] - (data["left_shank_gyr_x"] - slow)[inner]).max() < 0.02


def test_one_dimensional_array_keeps_its_shape():
    values = np.random.default_rng(0).standard_normal(500)
    filtered = ButterworthFilter(cutoff_hz=10.0).filter(values, RATE_HZ).filtered_data_
    assert filtered.shape == values.shape
    np.testing.assert_allclose(filtered, signal.sosfiltfilt(design_butterworth_sos(4, 10.0, RATE_HZ), values))


def test_nan_is_refused_naming_the_column(two_tones):
    data, _ = two_tones
    data.iloc[100, 1] = np.nan
    with pytest.raises(ValidationError, match=r"'left_shank_gyr_y' holds 1 NaN.*time 0\.1"):
        ButterworthFilter(cutoff_hz=10.0).filter(data, RATE_HZ)


def test_too_short_for_zero_phase_says_so():
    with pytest.raises(ValidationError, match="causal=True"):
        ButterworthFilter(cutoff_hz=10.0).filter(np.ones(10), RATE_HZ)


def test_non_numeric_column_is_refused():
    data = pd.DataFrame({"left_shank_gyr_x": ["a"] * 50}, index=np.arange(50) / RATE_HZ)
    with pytest.raises(ValidationError, match="'left_shank_gyr_x' is not numeric"):
        NotchFilter().filter(data, RATE_HZ)


def test_filters_follow_the_algorithm_contract():
    algorithm = ButterworthFilter(order=3, cutoff_hz=(1.0, 5.0), btype="bandpass")
    clone = algorithm.clone()
    assert clone.get_params() == algorithm.get_params()
    assert clone is not algorithm
    assert algorithm.filter(np.zeros(100), 100.0) is algorithm
    assert NotchFilter().set_params(freq_hz=60.0).freq_hz == 60.0


@settings(max_examples=20, deadline=None)
@given(
    order=st.integers(1, 6),
    cutoff_fraction=st.floats(0.01, 0.9),
    n_channels=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_streaming_step_by_step_equals_sosfilt(order, cutoff_fraction, n_channels, seed):
    sos = design_butterworth_sos(order, cutoff_fraction * RATE_HZ / 2, RATE_HZ)
    values = np.random.default_rng(seed).standard_normal((300, n_channels))
    stream = StreamingFilter(sos, n_channels)
    stepped = np.array([stream.step(sample) for sample in values])
    np.testing.assert_allclose(stepped, signal.sosfilt(sos, values, axis=0), rtol=0, atol=1e-12)


def test_streaming_blocks_continue_the_state_and_reset_clears_it():
    sos = np.vstack([design_butterworth_sos(4, (20.0, 450.0), RATE_HZ, "bandpass"), design_notch_sos(50, 30, RATE_HZ)])
    values = np.random.default_rng(1).standard_normal((1000, 3))
    stream = StreamingFilter(sos, 3)
    blocks = np.vstack([stream.process(values[:123]), stream.step(values[123])[None], stream.process(values[124:])])
    np.testing.assert_allclose(blocks, signal.sosfilt(sos, values, axis=0), rtol=0, atol=1e-12)
    stream.reset()
    np.testing.assert_allclose(stream.process(values), signal.sosfilt(sos, values, axis=0), rtol=0, atol=1e-12)


def test_streaming_reset_to_a_sample_starts_in_steady_state():
    stream = StreamingFilter(design_butterworth_sos(2, 5.0, RATE_HZ), 2)
    stream.reset(np.array([1.5, -2.0]))
    np.testing.assert_allclose(stream.step([1.5, -2.0]), [1.5, -2.0], atol=1e-12)


def test_streaming_rejects_wrong_shapes():
    with pytest.raises(ValueError, match=r"\(n_sections, 6\)"):
        StreamingFilter(np.ones((2, 5)), 1)
    with pytest.raises(ValueError, match="positive integer"):
        StreamingFilter(design_butterworth_sos(2, 5.0, RATE_HZ), 0)
    stream = StreamingFilter(design_butterworth_sos(2, 5.0, RATE_HZ), 2)
    with pytest.raises(ValueError, match="2 channel"):
        stream.reset(np.ones(3))
    with pytest.raises(ValueError, match="2 channel"):
        stream.process(np.ones((10, 3)))


@pytest.mark.parametrize("n_channels", [1, 2, 3, 8])
@pytest.mark.parametrize("rectify", [False, True])
def test_fast_paths_equal_scipy_sosfiltfilt_and_sosfilt(n_channels, rectify):
    # apply_sos pairs channels as complex rows and runs the backward pass in blocks; the arithmetic is scipy's.
    from exohub.signals.preprocessing._apply_sos import _BACKWARD_BLOCK, apply_sos

    rng = np.random.default_rng(n_channels)
    values = rng.standard_normal((n_channels, 2 * _BACKWARD_BLOCK + 123)).T * 1e-4  # pandas' channels-first layout
    source = np.abs(values) if rectify else values
    names = [f"channel_{k}_emg" for k in range(n_channels)]
    for sos in (signal.butter(2, (20, 450), "bandpass", fs=2000, output="sos"), design_notch_sos(50.0, 30.0, 2000)):
        zero_phase = apply_sos(sos, values, causal=False, names=names, rectify=rectify)
        causal = apply_sos(sos, values, causal=True, names=names, rectify=rectify)
        np.testing.assert_allclose(zero_phase, signal.sosfiltfilt(sos, source, axis=0), rtol=1e-12, atol=1e-18)
        np.testing.assert_allclose(causal, signal.sosfilt(sos, source, axis=0), rtol=1e-12, atol=1e-18)
