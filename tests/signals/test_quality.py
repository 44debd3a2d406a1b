"""Signal quality: each defect injected into a clean signal is found at the right time; clean signals raise none."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from exohub.exceptions import ValidationError
from exohub.signals.quality import FLAGS, SignalQualityAssessment

RATE_HZ = 1000.0
GAITALYTICS = Path(__file__).parents[3] / "shared" / "data" / "gaitalytics_c3d_emg"


def _clean(n=10000, cutoff_hz=20.0, rate_hz=RATE_HZ, seed=1, names=("left_shank_gyr_x", "left_shank_gyr_y")):
    sos = signal.butter(4, cutoff_hz, fs=rate_hz, output="sos")
    values = signal.sosfiltfilt(sos, np.random.default_rng(seed).standard_normal((n, len(names))), axis=0)
    return pd.DataFrame(values, index=pd.Index(np.arange(n) / rate_hz, name="time_s"), columns=list(names))


def _flags(data, flag):
    found = SignalQualityAssessment().assess(data, RATE_HZ).flags_
    return found[found["flag"] == flag]


def test_clean_signal_has_no_flags_and_full_usability():
    quality = SignalQualityAssessment().assess(_clean(), RATE_HZ)
    assert quality.flags_.empty
    assert list(quality.flags_.columns) == ["channel", "flag", "start_s", "end_s", "detail"]
    np.testing.assert_allclose(quality.summary_["usable_fraction"], 1.0)


def test_spike_is_found_at_its_time():
    data = _clean()
    data.iloc[2000, 0] += 20 * data.iloc[:, 0].std()
    spikes = _flags(data, "spike")
    assert spikes["channel"].tolist() == ["left_shank_gyr_x"]
    assert spikes["start_s"].iloc[0] <= 2.0 <= spikes["end_s"].iloc[0]
    assert spikes["end_s"].iloc[0] - spikes["start_s"].iloc[0] <= 0.0025


def test_flat_line_is_found():
    data = _clean()
    data.iloc[3000:3400, 1] = data.iloc[3000, 1]
    flat = _flags(data, "flat_line")
    assert flat[["channel", "start_s", "end_s"]].values.tolist() == [["left_shank_gyr_y", 3.0, 3.399]]
    assert _flags(data, "spike").empty  # the steps into and out of the flat line are part of it


def test_short_repeats_are_not_a_flat_line():
    data = _clean()
    data.iloc[3000:3100, 1] = data.iloc[3000, 1]  # 0.1 s < 0.25 s
    assert _flags(data, "flat_line").empty


def test_saturation_is_found_at_the_clipped_samples():
    data = _clean()
    top = data.iloc[:, 1].max()
    clipped = data.iloc[:, 1].clip(upper=0.5 * top)
    data.iloc[:, 1] = clipped
    runs = _flags(data, "saturation")
    expected = clipped[clipped == 0.5 * top].index
    assert set(runs["channel"]) == {"left_shank_gyr_y"}
    assert runs["start_s"].min() == expected.min()
    assert runs["end_s"].max() == expected.max()


def test_nan_run_and_dropout_are_found():
    data = _clean()
    data.iloc[5000:5100, 0] = np.nan
    data = data.drop(data.index[7000:7050])
    quality = SignalQualityAssessment().assess(data, RATE_HZ)
    flags = quality.flags_.set_index(["channel", "flag"])
    assert flags.loc[("left_shank_gyr_x", "nan_run"), ["start_s", "end_s"]].tolist() == [5.0, 5.099]
    assert flags.loc[("left_shank_gyr_y", "dropout"), ["start_s", "end_s"]].tolist() == [6.999, 7.05]
    assert "50 samples missing" in flags.loc[("left_shank_gyr_y", "dropout"), "detail"]
    assert set(quality.flags_["flag"]) == {"nan_run", "dropout"}
    np.testing.assert_allclose(quality.summary_["usable_fraction"], [(9950 - 100) / 10000, 9950 / 10000])
    assert quality.summary_.loc["left_shank_gyr_x", "n_nan_run"] == 1


def test_emg_without_activity_has_low_snr_and_with_bursts_does_not():
    noise = _clean(cutoff_hz=450.0, names=("left_soleus_emg", "right_soleus_emg")) * 1e-5
    bursts = np.where((noise.index % 1.0) < 0.3, 20.0, 1.0)
    noise["right_soleus_emg"] *= bursts
    quality = SignalQualityAssessment().assess(noise, RATE_HZ)
    assert quality.flags_["flag"].tolist() == ["low_snr"]
    assert quality.flags_["channel"].tolist() == ["left_soleus_emg"]
    assert quality.summary_.loc["right_soleus_emg", "snr_db"] > 20


@pytest.mark.skipif(
    not (GAITALYTICS / "treadmill_events_analog_1000Hz.csv").is_file(),
    reason=f"gaitalytics EMG sample not found in {GAITALYTICS} (shared data set absent)",
)
def test_real_emg_with_bursts_passes_and_hum_only_emg_has_low_snr():
    """gaitalytics: the overground tibialis shows gait bursts; the treadmill 'EMG' is 70-85 % mains hum and noise."""
    small = pd.read_csv(GAITALYTICS / "test_small_analog_1000Hz.csv", index_col=0)
    tibialis = small[["Voltage.RTA"]].set_axis(["right_tibialis_anterior_emg"], axis=1)
    flags = SignalQualityAssessment().assess(tibialis, RATE_HZ).flags_
    assert "low_snr" not in set(flags["flag"])
    treadmill = pd.read_csv(GAITALYTICS / "treadmill_events_analog_1000Hz.csv", index_col=0).filter(like="Voltage.")
    treadmill.columns = [f"channel_{name.split('.')[1]}_emg" for name in treadmill.columns]
    summary = SignalQualityAssessment().assess(treadmill, RATE_HZ).summary_
    assert (summary["n_low_snr"] == 1).mean() >= 0.75


def test_index_inconsistent_with_the_rate_is_refused():
    data = _clean().reset_index(drop=True)
    with pytest.raises(ValidationError, match="index steps by 1 s"):
        SignalQualityAssessment().assess(data, RATE_HZ)
    with pytest.raises(ValueError, match="saturation_min_samples"):
        SignalQualityAssessment(saturation_min_samples=1).assess(_clean(), RATE_HZ)


def test_contract():
    algorithm = SignalQualityAssessment(spike_threshold=8.0)
    assert algorithm.clone().get_params() == algorithm.get_params()
    assert algorithm.assess(_clean(n=500), RATE_HZ) is algorithm
    assert set(algorithm.summary_.columns) == {"usable_fraction", "snr_db"} | {f"n_{flag}" for flag in FLAGS}


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rate_hz=st.sampled_from([100.0, 250.0, 1000.0]),
    cutoff_fraction=st.floats(0.02, 0.5),
    duration_s=st.floats(2.0, 10.0),
    scale=st.floats(1e-6, 1e3),
)
def test_clean_band_limited_signals_raise_no_defect_flags(seed, rate_hz, cutoff_fraction, duration_s, scale):
    n = round(duration_s * rate_hz)
    data = _clean(n=n, cutoff_hz=cutoff_fraction * rate_hz / 2, rate_hz=rate_hz, seed=seed) * scale
    flags = SignalQualityAssessment().assess(data, rate_hz).flags_
    assert flags.empty, flags.to_string()


HIPEXO = Path(__file__).parents[3] / "shared" / "data" / "hipexo_gait_phase"
needs_hipexo = pytest.mark.skipif(
    not any(HIPEXO.glob("AB0*/*.txt.gz")),
    reason=f"hip-exoskeleton recordings not found in {HIPEXO} (shared data absent)",
)


def _hipexo_streams():
    from exohub.signals.datasets import load_hipexo

    for subject in ("AB01", "AB02", "AB05"):
        yield load_hipexo(sorted((HIPEXO / subject).glob("*.txt.gz"))[0]).streams[0]


@needs_hipexo
def test_clean_real_gait_has_no_spikes_and_injected_glitches_are_found():
    """Heel-strike impacts and held samples (timing stalls) are not glitches; a 10x one-sample jump is."""
    for stream in _hipexo_streams():
        assert _flags_at(stream, 200.0, "spike").empty
        assert _flags_at(stream, 200.0, "saturation").empty  # quantised turning points, held samples
        data = stream.copy()
        values = data["pelvis_acc_x"].to_numpy()
        scale = 1.4826 * np.median(np.abs(np.diff(values, 2) - np.median(np.diff(values, 2))))
        data.iloc[1000, data.columns.get_loc("pelvis_acc_x")] += 10 * scale
        data.iloc[2500, data.columns.get_loc("pelvis_gyr_z")] -= 10 * scale * data["pelvis_gyr_z"].std() / values.std()
        spikes = _flags_at(data, 200.0, "spike")
        assert set(spikes["channel"]) <= {"pelvis_acc_x", "pelvis_gyr_z"}
        found = spikes.set_index("channel")["start_s"]
        assert found.loc["pelvis_acc_x"] == data.index[1000]


@pytest.mark.skipif(not (GAITALYTICS / "test_small.c3d").is_file(), reason=f"test_small.c3d not found in {GAITALYTICS}")
def test_real_joint_angles_have_no_spikes():
    from exohub.signals.datasets import load_gaitalytics

    for stream in load_gaitalytics(GAITALYTICS / "test_small.c3d").streams:
        rate_hz = 1 / float(np.median(np.diff(stream.index.to_numpy())))
        if rate_hz < 500:  # joint angles at 100 Hz
            assert _flags_at(stream, rate_hz, "spike").empty


def _flags_at(data, rate_hz, flag):
    found = SignalQualityAssessment().assess(data, rate_hz).flags_
    return found[found["flag"] == flag]


def _imu(n=10000, seed=3):
    """One foot IMU (acc and gyr, 3 axes each) of smooth random motion at RATE_HZ."""
    names = [f"left_foot_{quantity}_{axis}" for quantity in ("acc", "gyr") for axis in "xyz"]
    return _clean(n=n, seed=seed, names=names)


def test_impact_on_every_axis_is_not_a_spike_but_a_glitch_on_one_axis_is():
    data = _imu()
    bump = 20 * data.std()
    data.iloc[3000, :3] += bump.iloc[:3].to_numpy()  # heel strike: the whole accelerometer jumps
    data.iloc[3001, 3] -= bump.iloc[3]  # ... and the gyroscope one sample later
    data.iloc[6000, 1] += bump.iloc[1]  # a glitch on acc_y alone
    spikes = _flags(data, "spike")
    assert spikes[["channel", "start_s"]].values.tolist() == [["left_foot_acc_y", 6.0]]


#: A motor-unit potential of gaitalytics' right vastus lateralis at 1 kHz (mV, 3.0 s into test_small.c3d).
MOTOR_UNIT_MV = np.array([-95.4, -107.8, -116.5, -91.3, 7.3, 217.9, 324.6, 169.8, 89.3, 63.4, 52.9, 31.9, 10.0])


def test_a_sharp_wave_is_not_a_spike():
    """A real motor-unit potential peaks in one sample but its neighbours share the peak; a glitch's do not."""
    data = _clean()
    height = 30 * data.iloc[:, 0].std()
    data.iloc[1994:2007, 0] += height * MOTOR_UNIT_MV / MOTOR_UNIT_MV.max()
    data.iloc[6000, 0] += height / 3
    spikes = _flags(data, "spike")
    assert spikes[["channel", "start_s"]].values.tolist() == [["left_shank_gyr_x", 6.0]]


def _held_quantised_sine(n=4000, period_s=1.3):
    """A sine sampled at RATE_HZ, updated every second sample and quantised (as the hip-exoskeleton IMU)."""
    time_s = np.arange(n) / RATE_HZ
    values = np.round(np.sin(2 * np.pi * time_s / period_s) * 400) / 400
    values[1::2] = values[::2][: len(values[1::2])]
    return pd.DataFrame({"pelvis_gyr_z": values}, index=pd.Index(time_s, name="time_s"))


def test_quantised_held_peaks_are_not_saturation_but_clipping_is():
    data = _held_quantised_sine()
    assert _flags(data, "saturation").empty
    clipped = data.clip(upper=0.8)
    runs = _flags(clipped, "saturation")
    assert len(runs) == 3  # one per peak
    assert (runs["end_s"] - runs["start_s"]).min() > 0.1


GAITMAP = Path(__file__).parents[3] / "shared" / "data" / "gaitmap_example"


@pytest.mark.skipif(not (GAITMAP / "imu_sample.csv").is_file(), reason=f"imu_sample.csv not found in {GAITMAP}")
def test_foot_imu_impacts_are_not_spikes_and_one_axis_glitches_are():
    """gaitmap's healthy walk: heel strikes shake every axis of the foot IMU at once; a glitch hits one axis."""
    from exohub.signals.datasets import load_gaitmap_imu

    stream = load_gaitmap_imu(GAITMAP / "imu_sample.csv").streams[0]
    rate_hz = 204.8
    assert _flags_at(stream, rate_hz, "spike").empty
    for side in ("left", "right"):
        gyr_norm = np.linalg.norm(stream.filter(like=f"{side}_foot_gyr").to_numpy(), axis=1)
        for start in (3000, 6000):
            at = start + int(np.argmin(gyr_norm[start : start + 1000]))  # mid-stance: the foot at rest
            for column in (f"{side}_foot_acc_x", f"{side}_foot_gyr_y"):
                data = stream.copy()
                second = np.diff(data[column].to_numpy(), 2)
                scale = 1.4826 * np.median(np.abs(second - np.median(second)))
                data.iloc[at, data.columns.get_loc(column)] += 10 * scale
                spikes = _flags_at(data, rate_hz, "spike")
                assert spikes[["channel", "start_s"]].values.tolist() == [[column, data.index[at]]]


@pytest.mark.skipif(not (GAITALYTICS / "test_small.c3d").is_file(), reason=f"test_small.c3d not found in {GAITALYTICS}")
def test_real_emg_of_active_muscles_passes():
    """gaitalytics' overground walk: every muscle is active (no low_snr); motor-unit peaks are not spikes.

    The two spikes left are both on the left tibialis anterior: a sample 240 mV off a smooth trend and a
    +680/-1090 mV swing within two samples, artefacts rather than muscle.
    """
    from exohub.signals.datasets import load_gaitalytics

    emg = next(s for s in load_gaitalytics(GAITALYTICS / "test_small.c3d").streams if s.columns[0].endswith("_emg"))
    quality = SignalQualityAssessment().assess(emg, 1000.0)
    assert "low_snr" not in set(quality.flags_["flag"])
    assert (quality.summary_["snr_db"] > 8).all()
    spikes = quality.flags_[quality.flags_["flag"] == "spike"]
    assert set(spikes["channel"]) == {"left_tibialis_anterior_emg"}
    assert len(spikes) == 2
