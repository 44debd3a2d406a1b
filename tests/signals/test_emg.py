"""EMG: known-answer synthetic signals (burst onset, median frequency, MVC) and gait-locked activity on real EMG."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import signal

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.emg import (
    EmgProcessing,
    compute_emg_envelope,
    compute_emg_frequencies,
    filter_emg,
    find_emg_onsets,
    normalize_emg,
    rectify_emg,
)

RATE_HZ = 1000.0
GAITALYTICS = Path(__file__).parents[3] / "shared" / "data" / "gaitalytics_c3d_emg"
needs_gaitalytics = pytest.mark.skipif(
    not (GAITALYTICS / "test_small_analog_1000Hz.csv").is_file(),
    reason=f"gaitalytics EMG sample not found in {GAITALYTICS} (shared data set absent)",
)


def _frame(values, rate_hz=RATE_HZ, names=None):
    values = np.asarray(values, dtype=float).reshape(len(values), -1)
    names = names or [f"channel_{k + 1}_emg" for k in range(values.shape[1])]
    return pd.DataFrame(values, index=pd.Index(np.arange(len(values)) / rate_hz, name="time_s"), columns=names)


def _band_noise(n, low_hz, high_hz, rate_hz=RATE_HZ, seed=0, channels=1):
    sos = signal.butter(6, (low_hz, high_hz), "bandpass", fs=rate_hz, output="sos")
    noise = signal.sosfiltfilt(sos, np.random.default_rng(seed).standard_normal((n + 2000, channels)), axis=0)
    noise = noise[1000:-1000]
    return noise / noise.std(axis=0)


@pytest.fixture
def burst_emg():
    """Two channels, 6 s at 1 kHz: 10 uV rest, then 300 uV bursts at 2.0-3.0 s (ch 1) and 3.5-4.2 s (ch 2)."""
    time_s = np.arange(6000) / RATE_HZ
    noise = _band_noise(6000, 20, 450, channels=2)
    amplitude_v = np.full((6000, 2), 10e-6)
    amplitude_v[(time_s >= 2.0) & (time_s < 3.0), 0] = 300e-6
    amplitude_v[(time_s >= 3.5) & (time_s < 4.2), 1] = 300e-6
    return _frame(noise * amplitude_v, names=["left_tibialis_anterior_emg", "left_soleus_emg"])


def test_burst_onset_and_offset_are_found_within_60_ms(burst_emg):
    # A zero-phase 6 Hz envelope spreads a step by about 50 ms each way; a 50 Hz envelope by a few ms.
    envelope = compute_emg_envelope(filter_emg(burst_emg, RATE_HZ), RATE_HZ)
    onsets = find_emg_onsets(envelope, RATE_HZ, baseline_s=(0.2, 1.5))
    assert onsets["channel"].tolist() == ["left_tibialis_anterior_emg", "left_soleus_emg"]
    np.testing.assert_allclose(onsets["onset_s"], [2.0, 3.5], atol=0.06)
    np.testing.assert_allclose(onsets["offset_s"], [3.0, 4.2], atol=0.06)
    sharp = compute_emg_envelope(filter_emg(burst_emg, RATE_HZ), RATE_HZ, cutoff_hz=50.0)
    onsets = find_emg_onsets(sharp, RATE_HZ, baseline_s=(0.2, 1.5))
    np.testing.assert_allclose(onsets["onset_s"], [2.0, 3.5], atol=0.015)
    np.testing.assert_allclose(onsets["offset_s"], [3.0, 4.2], atol=0.015)


def test_automatic_baseline_finds_the_same_bursts(burst_emg):
    envelope = compute_emg_envelope(filter_emg(burst_emg, RATE_HZ), RATE_HZ)
    onsets = find_emg_onsets(envelope, RATE_HZ)
    np.testing.assert_allclose(onsets["onset_s"], [2.0, 3.5], atol=0.06)


def test_short_excursions_are_not_activity(burst_emg):
    envelope = compute_emg_envelope(filter_emg(burst_emg, RATE_HZ), RATE_HZ)
    assert find_emg_onsets(envelope, RATE_HZ, min_duration_s=1.5).empty


def test_rms_envelope_of_a_sine_is_amplitude_over_root_two():
    time_s = np.arange(4000) / RATE_HZ
    data = _frame(1e-3 * np.sin(2 * np.pi * 100 * time_s))
    envelope = compute_emg_envelope(data, RATE_HZ, method="rms", window_ms=100.0)
    np.testing.assert_allclose(envelope.to_numpy()[200:-200], 1e-3 / np.sqrt(2), rtol=1e-6)


def test_causal_rms_window_trails_the_signal():
    step = np.r_[np.zeros(1000), np.ones(1000)] * 1e-3
    causal = compute_emg_envelope(_frame(step), RATE_HZ, method="rms", window_ms=50, causal=True).to_numpy()[:, 0]
    centred = compute_emg_envelope(_frame(step), RATE_HZ, method="rms", window_ms=50).to_numpy()[:, 0]
    assert np.flatnonzero(causal > 0)[0] == 1000  # nothing before the step: the window ends at each sample
    assert np.flatnonzero(centred > 0)[0] == 1000 - 24  # an even window reaches 24 samples ahead


def test_linear_envelope_of_a_constant_amplitude_sine():
    time_s = np.arange(4000) / RATE_HZ
    data = _frame(1e-3 * np.sin(2 * np.pi * 123.4 * time_s))  # not commensurate with the sampling
    envelope = compute_emg_envelope(data, RATE_HZ, cutoff_hz=6.0).to_numpy()[500:-500]
    np.testing.assert_allclose(envelope, 2e-3 / np.pi, rtol=0.01)  # mean of |sin|


def test_median_frequency_of_a_sine():
    time_s = np.arange(5000) / RATE_HZ
    data = _frame(np.c_[np.sin(2 * np.pi * 100 * time_s), np.sin(2 * np.pi * 180 * time_s)] * 1e-4)
    result = compute_emg_frequencies(data, RATE_HZ)
    assert result.index.name == "time_s"
    np.testing.assert_allclose(result.index, [0.4995, 1.4995, 2.4995, 3.4995, 4.4995])
    np.testing.assert_allclose(result["median_frequency_hz"].to_numpy(), [[100.0, 180.0]] * 5, atol=2.0)
    np.testing.assert_allclose(result["mean_frequency_hz"].to_numpy(), [[100.0, 180.0]] * 5, atol=2.0)


def test_median_frequency_of_band_limited_noise_is_its_centre():
    data = _frame(_band_noise(20000, 60, 140, seed=3) * 1e-4)
    result = compute_emg_frequencies(data, RATE_HZ, window_s=2.0, step_s=1.0)
    assert len(result) == 19
    assert result["median_frequency_hz"].median().iloc[0] == pytest.approx(100.0, abs=5.0)
    assert result["mean_frequency_hz"].median().iloc[0] == pytest.approx(100.0, abs=5.0)


def test_white_noise_median_frequency_is_the_middle_of_the_band():
    data = _frame(np.random.default_rng(4).standard_normal(20000) * 1e-4)
    result = compute_emg_frequencies(data, RATE_HZ, band_hz=(20.0, 450.0))
    assert result["median_frequency_hz"].median().iloc[0] == pytest.approx(235.0, abs=10.0)


def test_mvc_normalisation_and_peak_normalisation():
    data = _frame(np.c_[np.full(100, 2e-4), np.linspace(0, 5e-4, 100)])
    normalised = normalize_emg(data, {"channel_1_emg": 4e-4, "channel_2_emg": 1e-3})
    np.testing.assert_allclose(normalised["channel_1_emg"], 0.5)
    np.testing.assert_allclose(normalised["channel_2_emg"].iloc[-1], 0.5)
    np.testing.assert_allclose(normalize_emg(data).max(), [1.0, 1.0])
    with pytest.raises(ValidationError, match="no value for channel 'channel_2_emg'"):
        normalize_emg(data, {"channel_1_emg": 4e-4})
    with pytest.raises(ValidationError, match=r"mvc_v\['channel_2_emg'\]"):
        normalize_emg(data, {"channel_1_emg": 4e-4, "channel_2_emg": 0.0})


def test_rectify_is_absolute_value(burst_emg):
    pd.testing.assert_frame_equal(rectify_emg(burst_emg), burst_emg.abs())


def test_non_emg_columns_and_nan_are_refused(burst_emg):
    with pytest.raises(ValidationError, match="'left_shank_acc_x' is not an EMG channel"):
        rectify_emg(burst_emg.rename(columns={"left_soleus_emg": "left_shank_acc_x"}))
    broken = burst_emg.copy()
    broken.iloc[10, 0] = np.nan
    with pytest.raises(ValidationError, match="'left_tibialis_anterior_emg' holds 1 NaN"):
        filter_emg(broken, RATE_HZ)
    with pytest.raises(ValidationError, match="indexed by increasing time_s"):
        filter_emg(burst_emg.reset_index(drop=True), RATE_HZ)


def test_band_upper_edge_is_clipped_below_nyquist_with_a_warning(burst_emg):
    slow = burst_emg.iloc[::4]
    with pytest.warns(ExohubWarning, match="using 118.75 Hz"):
        filtered = filter_emg(slow, 250.0)
    assert np.isfinite(filtered.to_numpy()).all()


def test_pipeline_sets_every_result_and_follows_the_contract(burst_emg):
    algorithm = EmgProcessing(baseline_s=(0.2, 1.5))
    assert algorithm.process(burst_emg, RATE_HZ) is algorithm
    assert algorithm.clone().get_params() == algorithm.get_params()
    for result in ("filtered_data_", "envelope_", "normalized_envelope_", "median_frequency_hz_"):
        assert list(getattr(algorithm, result).columns) == list(burst_emg.columns)
    np.testing.assert_allclose(algorithm.normalized_envelope_.max(), 1.0)
    np.testing.assert_allclose(algorithm.onsets_["onset_s"], [2.0, 3.5], atol=0.015)
    np.testing.assert_allclose(algorithm.onsets_["offset_s"], [3.0, 4.2], atol=0.015)
    burst = algorithm.median_frequency_hz_.loc[2.0:3.0, "left_tibialis_anterior_emg"]
    assert ((burst > 100) & (burst < 300)).all()


def test_notch_removes_mains_hum(burst_emg):
    hum = 100e-6 * np.sin(2 * np.pi * 50 * burst_emg.index.to_numpy())
    algorithm = EmgProcessing(notch_hz=50.0)
    with_hum = algorithm.process(burst_emg.add(hum, axis=0), RATE_HZ).filtered_data_
    residual = (with_hum - algorithm.process(burst_emg, RATE_HZ).filtered_data_).to_numpy()[1000:-1000]
    assert np.abs(residual).max() < 0.05 * 100e-6


def test_causal_pipeline_detects_later_than_zero_phase(burst_emg):
    causal = EmgProcessing(causal=True, baseline_s=(0.2, 1.5)).process(burst_emg, RATE_HZ)
    offline = EmgProcessing(baseline_s=(0.2, 1.5)).process(burst_emg, RATE_HZ)
    delay_s = causal.onsets_["onset_s"].to_numpy() - offline.onsets_["onset_s"].to_numpy()
    assert ((delay_s > 0) & (delay_s < 0.1)).all()


@pytest.fixture(scope="module")
def gaitalytics_small():
    """Named lower-leg EMG of gaitalytics' overground sample and its labelled gait events."""
    analog = pd.read_csv(GAITALYTICS / "test_small_analog_1000Hz.csv", index_col=0)
    names = {
        "RTA": "right_tibialis_anterior_emg",
        "RGAS": "right_gastrocnemius_medialis_emg",
        "LTA": "left_tibialis_anterior_emg",
        "LGAS": "left_gastrocnemius_medialis_emg",
    }
    emg = analog[[f"Voltage.{key}" for key in names]].set_axis(list(names.values()), axis=1)
    emg.index = pd.Index(emg.index.to_numpy(dtype=float), name="time_s")
    events = pd.read_csv(GAITALYTICS / "test_small_events.csv")
    return emg, events


@needs_gaitalytics
def test_real_emg_is_active_at_physiological_gait_phases(gaitalytics_small):
    emg, events = gaitalytics_small
    envelope = EmgProcessing().process(emg, RATE_HZ).normalized_envelope_
    for side, name in (("Right", "right"), ("Left", "left")):  # noqa: B007 - side is used in query()
        strikes = events.query("side == @side and event == 'Foot Strike'")["time_s"].to_numpy()
        offs = events.query("side == @side and event == 'Foot Off'")["time_s"].to_numpy()
        complete = [(strike, offs[offs > strike][0]) for strike in strikes if (offs > strike).any()]
        assert len(complete) >= 2
        for strike, foot_off in complete:  # stances that end inside the recording
            tibialis = envelope[f"{name}_tibialis_anterior_emg"]
            # Tibialis anterior: peak around heel strike (loading response), above its mid-stance level.
            loading, mid_stance = tibialis.loc[strike - 0.1 : strike + 0.1], tibialis.loc[strike + 0.2 : strike + 0.3]
            assert loading.max() > 2 * mid_stance.mean()
            # Gastrocnemius: peak in the second half of stance (push-off), before foot off.
            gastrocnemius = envelope[f"{name}_gastrocnemius_medialis_emg"].loc[strike:foot_off]
            assert 0.3 < (gastrocnemius.idxmax() - strike) / (foot_off - strike) < 1.0


@needs_gaitalytics
def test_real_emg_median_frequency_is_physiological(gaitalytics_small):
    emg, _ = gaitalytics_small
    median = EmgProcessing(notch_hz=50.0).process(emg, RATE_HZ).median_frequency_hz_
    assert ((median > 40) & (median < 200)).all().all()


@pytest.mark.parametrize(
    ("parameters", "match"),
    [
        ({"frequency_segment_s": 2.0}, "segment_s"),
        ({"onset_threshold_sd": -1.0}, "threshold_sd"),
        ({"envelope_method": "hilbert"}, "'method' parameter"),
        ({"offset_threshold_sd": 4.0}, "offset_threshold_sd"),
        ({"onset_min_gap_s": -0.1}, "onset_min_gap_s"),
        ({"envelope_rate_hz": 0.0}, "envelope rate"),
        ({"onset_window_ms": 0.0}, "onset_window_ms"),
        ({"frequency_step_s": 0.0}, "step_s"),
    ],
)
def test_pipeline_rejects_bad_parameters(burst_emg, parameters, match):
    with pytest.raises(ValueError, match=match):
        EmgProcessing(**parameters).process(burst_emg, RATE_HZ)


@pytest.mark.parametrize(
    ("window", "step", "segment", "band_hz"),
    [(2000, 2000, 500, (20.0, 450.0)), (1999, 777, 333, (0.0, 1000.0)), (1000, 500, 250, (0.0, 450.0))],
)
def test_batched_frequencies_equal_scipy_welch_per_window(window, step, segment, band_hz):
    # The batch (one FFT of raw segments, Hann and detrend applied per bin) must equal Welch window by window.
    from exohub.signals.emg._frequency import spectral_frequencies

    rate_hz = 2000.0
    values = _band_noise(12000, 30, 400, rate_hz=rate_hz, seed=5, channels=3) * np.linspace(0.2, 2, 12000)[:, None]
    starts, median, mean = spectral_frequencies(
        values, rate_hz, window=window, step=step, segment=segment, band_hz=band_hz
    )
    assert starts.tolist() == list(range(0, 12000 - window + 1, step))
    for row, start in enumerate(starts):
        freqs_hz, psd = signal.welch(values[start : start + window], fs=rate_hz, nperseg=segment, axis=0)
        band = (freqs_hz >= band_hz[0]) & (freqs_hz <= band_hz[1])
        cumulative = np.cumsum(psd[band], axis=0)
        expected_median = freqs_hz[band][np.argmax(cumulative >= cumulative[-1] / 2, axis=0)]
        np.testing.assert_array_equal(median[row], expected_median)
        np.testing.assert_allclose(mean[row], freqs_hz[band] @ psd[band] / cumulative[-1], rtol=1e-12)


def _gait_like_emg(duration_s, rate_hz, n_channels=3, seed=0):
    """Band-limited noise whose amplitude follows a 1.1 s stride, one burst per muscle, over background noise."""
    time_s = np.arange(round(duration_s * rate_hz)) / rate_hz
    carrier = _band_noise(len(time_s), 20, 0.45 * rate_hz, rate_hz=rate_hz, seed=seed, channels=n_channels)
    phase = (time_s[:, None] / 1.1 - np.arange(n_channels)[None, :] / n_channels) % 1.0
    amplitude_v = 5e-6 + 200e-6 * np.exp(-(((phase - 0.3) / 0.08) ** 2))
    return _frame(carrier * amplitude_v, rate_hz=rate_hz)


def _envelope_error(filtered, rate_hz, **kwargs):
    """Reduced-rate envelope minus the full-rate one at the block times, as a fraction of each channel's peak."""
    exact = compute_emg_envelope(filtered, rate_hz, **kwargs)
    reduced = compute_emg_envelope(filtered, rate_hz, envelope_rate_hz=200.0, **kwargs)
    reference = np.column_stack([np.interp(reduced.index, exact.index, exact[name]) for name in exact])
    return np.abs(reduced.to_numpy() - reference)[100:-100] / np.abs(reference).max(axis=0), reduced


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
def test_reduced_rate_linear_envelope_is_within_1_percent_of_the_full_rate_one(rate_hz):
    filtered = filter_emg(_gait_like_emg(30.0, rate_hz), rate_hz)
    error, reduced = _envelope_error(filtered, rate_hz)
    block = round(rate_hz / 200.0)
    assert len(reduced) == len(filtered) // block
    # Block centres: the mean time of each block's samples.
    np.testing.assert_allclose(reduced.index[:2], [(block - 1) / 2 / rate_hz, (3 * block - 1) / 2 / rate_hz])
    assert error.max() < 0.01  # measured 0.55 % (2 kHz) and 0.62 % (1 kHz) of the peak
    assert error.mean() < 0.001  # measured 0.03 %


def test_reduced_rate_rms_envelope_keeps_the_sine_amplitude():
    time_s = np.arange(4000) / RATE_HZ
    data = _frame(1e-3 * np.sin(2 * np.pi * 100 * time_s))
    envelope = compute_emg_envelope(data, RATE_HZ, method="rms", window_ms=100.0, envelope_rate_hz=200.0)
    assert len(envelope) == 800
    np.testing.assert_allclose(envelope.to_numpy()[40:-40], 1e-3 / np.sqrt(2), rtol=1e-6)


@needs_gaitalytics
def test_reduced_rate_envelope_of_real_emg_is_within_1_percent(gaitalytics_small):
    emg, _ = gaitalytics_small
    error, _ = _envelope_error(filter_emg(emg, RATE_HZ), RATE_HZ)
    assert error.max() < 0.01
    assert error.mean() < 0.002


def test_block_sums_equal_reshaped_sums_across_chunks():
    from exohub.signals.emg._blocks import _CHUNK_SAMPLES, block_sums, merge_blocks

    values = np.random.default_rng(7).standard_normal((3, 2 * _CHUNK_SAMPLES + 37)).T  # channels-first, as pandas
    for k in (1, 3, 5, 10, 40):
        n = len(values) // k * k
        expected = np.abs(values[:n]).reshape(-1, k, 3).sum(axis=1)
        np.testing.assert_allclose(block_sums(values, k), expected, rtol=1e-12)
        np.testing.assert_allclose(block_sums(values, k, square=True), (values[:n] ** 2).reshape(-1, k, 3).sum(axis=1))
    five = block_sums(values, 5)
    np.testing.assert_allclose(merge_blocks(five, 2), block_sums(values, 10), rtol=1e-12)


def _bursts(duration_s, rate_hz, n_channels, seed):
    """Background noise (5 uV) and bursts 10x stronger for 0.3 s at known onsets, ~1 every 2 s per channel."""
    rng = np.random.default_rng(seed)
    time_s = np.arange(round(duration_s * rate_hz)) / rate_hz
    gaps = rng.uniform(1.0, 3.0, size=(n_channels, int(duration_s)))
    onsets = 1.0 + np.cumsum(gaps, axis=1)
    emg = rng.normal(0.0, 5e-6, size=(len(time_s), n_channels))
    for channel in range(n_channels):
        for onset in onsets[channel][onsets[channel] < duration_s - 1.0]:
            emg[(time_s >= onset) & (time_s < onset + 0.3), channel] *= 10.0
    return _frame(emg, rate_hz=rate_hz), [row[row < duration_s - 1.0] for row in onsets]


@pytest.mark.parametrize("rate_hz", [1000.0, 2000.0])
def test_onsets_of_synthetic_bursts_are_within_15_ms(rate_hz):
    data, truth = _bursts(40.0, rate_hz, n_channels=4, seed=int(rate_hz))
    onsets = EmgProcessing().process(data, rate_hz).onsets_
    errors, n_found = [], len(onsets)
    for name, true_s in zip(data.columns, truth, strict=True):
        found = onsets.loc[onsets["channel"] == name, "onset_s"].to_numpy()
        distance = np.abs(found[None, :] - true_s[:, None])
        hit = distance.min(axis=1) <= 0.1
        errors.extend((found[distance.argmin(axis=1)] - true_s)[hit])
    n_true = sum(len(row) for row in truth)
    f1 = 2 * len(errors) / (n_true + n_found)
    assert f1 >= 0.95
    assert np.mean(np.abs(errors)) <= 0.015  # measured 5-7 ms: a 5 ms window straddling the onset crosses first
    assert -0.015 <= np.mean(errors) <= 0.0


def test_a_burst_with_a_brief_dip_is_one_activation_and_blips_are_none():
    rate_hz = 2000.0
    time_s = np.arange(round(6 * rate_hz)) / rate_hz
    amplitude = np.full_like(time_s, 5e-6)
    amplitude[(time_s >= 2.0) & (time_s < 2.4)] = 100e-6
    amplitude[(time_s >= 2.43) & (time_s < 2.8)] = 100e-6  # a 30 ms dip inside the burst
    amplitude[(time_s >= 4.0) & (time_s < 4.01)] = 100e-6  # a 10 ms blip
    data = _frame(_band_noise(len(time_s), 20, 450, rate_hz=rate_hz, seed=9)[:, 0] * amplitude, rate_hz=rate_hz)
    onsets = EmgProcessing(baseline_s=(0.2, 1.5)).process(data, rate_hz).onsets_
    assert len(onsets) == 1
    np.testing.assert_allclose(onsets[["onset_s", "offset_s"]].to_numpy(), [[2.0, 2.8]], atol=0.015)


def test_pipeline_frequencies_are_exact_windows_every_5_s():
    data = _gait_like_emg(30.0, RATE_HZ, n_channels=2)
    algorithm = EmgProcessing().process(data, RATE_HZ)
    expected = compute_emg_frequencies(algorithm.filtered_data_, RATE_HZ, window_s=1.0, step_s=5.0)
    np.testing.assert_allclose(np.diff(algorithm.median_frequency_hz_.index), 5.0)
    pd.testing.assert_frame_equal(algorithm.median_frequency_hz_, expected["median_frequency_hz"], check_names=False)
    pd.testing.assert_frame_equal(algorithm.mean_frequency_hz_, expected["mean_frequency_hz"], check_names=False)


def test_reduced_rate_envelope_resamples_to_gait_cycles_like_the_full_rate_one():
    from exohub.signals.metrics._cycles import normalise_cycles

    data = _gait_like_emg(30.0, RATE_HZ, n_channels=2)
    reduced = EmgProcessing().process(data, RATE_HZ).envelope_
    full = EmgProcessing(envelope_rate_hz=None).process(data, RATE_HZ).envelope_
    assert len(full) == len(data)
    starts = np.arange(1.1, 27.0, 1.1)
    strides = pd.DataFrame({"ic_s": starts, "end_s": starts + 1.1})
    cycles, exact = normalise_cycles(reduced, strides), normalise_cycles(full, strides)
    assert np.isfinite(cycles).all()
    assert np.abs(cycles - exact).max() < 0.01 * np.abs(exact).max()
