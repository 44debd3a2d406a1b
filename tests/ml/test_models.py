"""The network, its training (with FedProx's proximal term) and the evaluation's known answers."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from exohub.exceptions import ValidationError  # noqa: E402
from exohub.ml.data import (  # noqa: E402
    INPUT_CHANNELS,
    MODES,
    RATE_CHANNELS,
    UNKNOWN_MODE,
    SubjectData,
    load_hipexo_subjects,
    make_windows,
    mirror_channels,
)
from exohub.ml.evaluation import evaluate, predict_recording  # noqa: E402
from exohub.ml.models import GaitPhaseNet, Normaliser, fold_normaliser  # noqa: E402
from exohub.ml.training import (  # noqa: E402
    TrainConfig,
    _mirrored,
    _rate_channels,
    _time_warped,
    get_weights,
    make_model,
    set_weights,
    train,
)
from tests.ml.test_data import synthetic_dir, write_synthetic_hipexo  # noqa: E402, F401

TINY = TrainConfig(window=64, epochs=1, batch_size=64, learning_rate=3e-3, weight_decay=0.0, seed=0, channels=8,
                   recent=4, hidden=16, step=4)  # fmt: skip


@pytest.fixture(autouse=True)
def one_thread() -> object:
    """One torch thread: the tiny models gain nothing from two, and two oversubscribe a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_windows(synthetic_dir: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # noqa: F811
    data = load_hipexo_subjects(synthetic_dir, subjects=["AB01", "AB02"])
    return make_windows(list(data.values()), window=TINY.window, step=TINY.step)


def test_forward_shapes() -> None:
    model = GaitPhaseNet(window=100, channels=8, recent=3, hidden=16)
    cos_sin, logits = model(torch.zeros(5, 100, 10))
    assert cos_sin.shape == (5, 4) and logits.shape == (5, len(MODES))


@pytest.mark.parametrize("window", [64, 100, 257])
def test_newest_sample_reaches_the_encoder(window: int) -> None:
    model = GaitPhaseNet(window=window, channels=8, recent=1, hidden=16)
    with torch.no_grad():  # positive weights and inputs: no ReLU can hide a change
        for layer in model.encoder:
            layer.conv.weight.fill_(0.1)
            layer.conv.bias.zero_()
    x = torch.rand(1, window, 10)
    features = model.encoder(x.transpose(1, 2))
    later = x.clone()
    later[0, -1] += 1.0
    assert not torch.allclose(model.encoder(later.transpose(1, 2)), features)


@pytest.mark.parametrize("window", [48, 50, 63, 256])
def test_folded_normaliser_gives_the_same_outputs_from_raw_inputs(window: int) -> None:
    # windows that are not a multiple of the first stride pad more, so the padding correction spans two columns
    torch.manual_seed(window)
    model = GaitPhaseNet(window=window, channels=8, recent=4, hidden=16).eval()
    scale = np.arange(1.0, 11.0)
    model.normaliser.fit(np.random.default_rng(0).normal(2.0, 3.0, (500, 10)) * scale)
    raw = torch.from_numpy((np.random.default_rng(1).normal(2.0, 3.0, (16, window, 10)) * scale).astype(np.float32))
    folded = fold_normaliser(model)
    with torch.no_grad():
        expected, got = model(raw), folded(raw)
        # a zero-padded raw input is not a zero-padded normalised one: the first columns carry the correction
        leading_zeros = raw.clone()
        leading_zeros[:, :6] = 0.0
        expected_zeros, got_zeros = model(leading_zeros), folded(leading_zeros)
    for want, have in zip((*expected, *expected_zeros), (*got, *got_zeros), strict=True):
        torch.testing.assert_close(have, want, atol=2e-5, rtol=1e-5)
    assert isinstance(folded.normaliser, torch.nn.Identity) and model.normaliser.is_fitted


def test_the_networks_defaults_are_the_default_models_shape() -> None:
    shapes = {name: tuple(value.shape) for name, value in GaitPhaseNet().state_dict().items()}
    assert shapes == {name: tuple(value.shape) for name, value in make_model(TrainConfig()).state_dict().items()}


def test_model_rejects_bad_shape() -> None:
    with pytest.raises(ValidationError, match="window"):
        GaitPhaseNet(window=4)


def test_normaliser_fits_mean_and_sd() -> None:
    samples = np.column_stack([np.arange(10.0), np.full(10, 3.0)])
    normaliser = Normaliser(2).fit(samples)
    assert normaliser.is_fitted
    np.testing.assert_allclose(normaliser.mean.numpy(), [4.5, 3.0])
    np.testing.assert_allclose(normaliser.sd.numpy(), [np.std(np.arange(10.0)), 1.0], rtol=1e-6)  # constant: SD 1
    out = normaliser(torch.tensor([[4.5, 5.0]]))
    np.testing.assert_allclose(out.numpy(), [[0.0, 2.0]], atol=1e-6)


def test_training_lowers_the_loss(tiny_windows: tuple) -> None:
    x, y, m = tiny_windows
    model = make_model(TINY)
    with torch.no_grad():
        before = torch.nn.functional.mse_loss(model(torch.zeros(1, 64, 10))[0], torch.zeros(1, 4))
    result = train(model, x, y, m, TrainConfig(**{**TINY.to_dict(), "epochs": 3}))
    assert model.normaliser.is_fitted and not model.training
    assert result["n_windows"] == len(x) and result["phase_loss"] < 0.5
    assert result["loss"] == pytest.approx(result["phase_loss"] + TINY.mode_weight * result["mode_loss"], rel=1e-6)
    assert np.isfinite(before.item())


def test_a_cycle_in_parts_follows_one_schedule(tiny_windows: tuple) -> None:
    """Part k of a cycle over n calls ends at the rate one cycle over n epochs has after k epochs."""
    x, y, m = tiny_windows
    steps = -(-len(x) // TINY.batch_size)
    optimiser = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=TINY.learning_rate)
    reference = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=TINY.learning_rate, total_steps=3 * steps, pct_start=0.15
    )
    expected = []
    for _ in range(3):
        for _ in range(steps):
            optimiser.step()
            rate = optimiser.param_groups[0]["lr"]
            reference.step()
        expected.append(rate)
    ends = [
        train(make_model(TINY), x, y, m, replace(TINY, cycle_rounds=3, cycle_round=k))["last_learning_rate"]
        for k in (1, 2, 3)
    ]
    assert ends == pytest.approx(expected, rel=1e-9)
    assert ends[0] > ends[1] > ends[2]  # past the warm-up, the rate only falls: no restart in a later part
    whole = train(make_model(TINY), x, y, m, TINY)["last_learning_rate"]
    assert whole == pytest.approx(ends[2], rel=1e-9)  # a one-part cycle (the default) ends annealed too


def test_train_rejects_a_part_outside_the_cycle(tiny_windows: tuple) -> None:
    x, y, m = tiny_windows
    for cycle_round in (0, 4):
        with pytest.raises(ValidationError, match="cycle_round"):
            train(make_model(TINY), x, y, m, replace(TINY, cycle_rounds=3, cycle_round=cycle_round))


def test_weights_round_trip() -> None:
    source, target = make_model(TINY), make_model(TrainConfig(**{**TINY.to_dict(), "seed": 1}))
    set_weights(target, get_weights(source))
    for a, b in zip(get_weights(source), get_weights(target), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValidationError, match="weight arrays"):
        set_weights(target, get_weights(source)[:-1])


def test_proximal_term_keeps_weights_near_the_global_model(tiny_windows: tuple) -> None:
    x, y, m = tiny_windows
    x, y, m = x[:400], y[:400], m[:400]
    global_weights = get_weights(make_model(TINY))
    names = list(make_model(TINY).state_dict())
    parameters = {name for name, _ in make_model(TINY).named_parameters()}

    def drift(mu: float) -> float:
        model = make_model(TINY)
        config = TrainConfig(**{**TINY.to_dict(), "proximal_mu": mu, "learning_rate": 1e-2})
        train(model, x, y, m, config, global_weights=global_weights)
        pairs = zip(names, get_weights(model), global_weights, strict=True)
        return sum(float(np.sum((a - b) ** 2)) for name, a, b in pairs if name in parameters)

    assert drift(100.0) < 0.5 * drift(0.0)


def test_train_rejects_mismatched_windows(tiny_windows: tuple) -> None:
    x, y, m = tiny_windows
    with pytest.raises(ValidationError, match="X must be"):
        train(make_model(TINY), x[:, :10], y, m, TINY)
    with pytest.raises(ValidationError, match="M holds"):
        train(make_model(TINY), x, y, m + 10, TINY)


def test_mirroring_swaps_half_the_windows_with_their_targets() -> None:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(200, 5, len(INPUT_CHANNELS))
    y = torch.randn(200, 4)
    index, sign = (torch.from_numpy(a) for a in mirror_channels())
    mirrored_x, mirrored_y = _mirrored(x, y, index, sign, generator)
    flipped = ~torch.all(mirrored_y == y, dim=1)
    assert 60 < int(flipped.sum()) < 140
    torch.testing.assert_close(mirrored_x[~flipped], x[~flipped])
    torch.testing.assert_close(mirrored_x[flipped], x[flipped][:, :, index] * sign)
    torch.testing.assert_close(mirrored_y[flipped], y[flipped][:, [2, 3, 0, 1]])


def test_time_warp_keeps_the_newest_sample_and_scales_the_cadence() -> None:
    """A ramp replayed at cadence r rises r per sample; rate channels are also multiplied by r; the end stays."""
    window = 50
    ramp = torch.arange(window, dtype=torch.float32)[None, :, None].repeat(64, 1, len(INPUT_CHANNELS))
    model = make_model(TrainConfig(**{**TINY.to_dict(), "window": window}))
    warped = _time_warped(ramp, 0.2, _rate_channels(model), torch.Generator().manual_seed(1))
    plain = INPUT_CHANNELS.index("left_hip_angle")
    rate = INPUT_CHANNELS.index(RATE_CHANNELS[0])
    cadence = warped[:, -1, plain] - warped[:, -2, plain]
    assert float(cadence.min()) >= 0.8 - 1e-5 and float(cadence.max()) <= 1.2 + 1e-5
    assert float(cadence.max() - cadence.min()) > 0.2  # cadences differ between windows
    torch.testing.assert_close(warped[:, -1, plain], torch.full((64,), window - 1.0))
    torch.testing.assert_close(warped[:, -1, rate], cadence * (window - 1.0), rtol=1e-5, atol=1e-3)
    recent = warped[:, -10:, plain]  # inside the recorded span for every cadence: linear with slope r
    torch.testing.assert_close(recent, (window - 1.0) - cadence[:, None] * torch.arange(9, -1, -1.0), atol=1e-4, rtol=0)


def test_predictions_only_use_past_samples() -> None:
    """Changing the recording after sample k leaves every estimate up to k unchanged (the causal path)."""
    model = make_model(TINY)
    rng = np.random.default_rng(4)
    model.normaliser.fit(rng.normal(size=(100, len(INPUT_CHANNELS))))
    inputs = rng.normal(size=(400, len(INPUT_CHANNELS))).astype(np.float32)
    later = inputs.copy()
    later[250:] += rng.normal(size=(150, len(INPUT_CHANNELS))).astype(np.float32)
    phase, mode = predict_recording(model, inputs, window=TINY.window)
    changed_phase, changed_mode = predict_recording(model, later, window=TINY.window)
    np.testing.assert_allclose(changed_phase[:250], phase[:250], atol=1e-6)
    np.testing.assert_array_equal(changed_mode[:250], mode[:250])
    assert np.all(np.isnan(phase[: TINY.window - 1])) and not np.allclose(changed_phase[250:], phase[250:])


class _Oracle:
    """Reads the answer from the inputs: channel 0 the phase (reported 0.01 late), channel 1 the mode."""

    def predict_windows(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        angle = 2 * np.pi * (x[:, -1, 0].astype(np.float64) + 0.01)
        cos_sin = np.stack([np.cos(angle), np.sin(angle), np.cos(angle), np.sin(angle)], axis=1)
        return cos_sin, np.eye(len(MODES))[x[:, -1, 1].astype(int)]


def test_evaluate_known_answers() -> None:
    n, window, lag = 2000, 50, 20
    phase = np.mod(np.arange(n) / 200.0, 1.0)
    mode = np.repeat([0, 3], n // 2)
    mode[:100] = UNKNOWN_MODE
    predicted_mode = np.concatenate([np.zeros(lag, dtype=np.int64), np.where(mode < 0, 0, mode)[:-lag]])
    inputs = np.zeros((n, 10), dtype=np.float32)
    inputs[:, 0], inputs[:, 1] = phase, predicted_mode
    data = SubjectData("S", [inputs], [np.column_stack([phase, phase])], [mode])
    scores = evaluate(_Oracle(), data, window=window)
    assert scores["n_samples"] == n - window + 1
    assert scores["phase_rmse_pct"] == pytest.approx(1.0, abs=1e-3)
    assert scores["phase_rmse_pct_left"] == pytest.approx(1.0, abs=1e-3)
    assert scores["mode_decision_delay_s"] == pytest.approx(lag / 200.0)
    assert scores["n_transitions"] == 1 and scores["mode_transitions_missed"] == 0
    assert scores["mode_accuracy_steady"] == 1.0
    assert scores["mode_accuracy_transition"] == pytest.approx(1 - lag / 200.0)  # ±0.5 s = 200 samples
    assert scores["mode_accuracy"] == pytest.approx(1 - lag / (n - 100))


def test_tiny_model_learns_the_synthetic_gait(tmp_path: Path) -> None:
    data = load_hipexo_subjects(write_synthetic_hipexo(tmp_path, seconds_per_mode=5.0))
    x, y, m = make_windows([data["AB01"], data["AB03"]], window=TINY.window, step=2)
    model = make_model(TINY)
    train(model, x, y, m, TrainConfig(**{**TINY.to_dict(), "epochs": 4}))
    scores = evaluate(model, data["AB02"], window=TINY.window)
    assert scores["phase_rmse_pct"] < 10.0  # chance is about 29 %
    assert scores["mode_accuracy_steady"] > 0.6
