"""Training of :class:`~exohub.ml.models.GaitPhaseNet`: phase MSE on cos/sin plus mode cross-entropy, FedProx-ready."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.nn import functional

from exohub.exceptions import ValidationError
from exohub.ml.data import INPUT_CHANNELS, RATE_CHANNELS, UNKNOWN_MODE, SubjectData, make_windows, mirror_channels
from exohub.ml.models import GaitPhaseNet


@dataclass
class TrainConfig:
    """Hyper-parameters of one training run (also the model's shape, so a config rebuilds the model).

    Parameters
    ----------
    window
        Samples per input window (1.28 s at 200 Hz by default).
    epochs
        Passes over the windows.
    batch_size
        Windows per optimiser step.
    learning_rate
        AdamW's peak learning rate (one-cycle schedule over the run).
    weight_decay
        AdamW's decoupled weight decay.
    seed
        Seeds the initial weights and the shuffling.
    proximal_mu
        FedProx's μ: adds ``μ/2 · ||w - w_global||²`` when ``train`` is given the global weights.
    mode_weight
        Weight of the mode cross-entropy against the phase MSE.
    channels, recent, hidden
        Model size, see :class:`~exohub.ml.models.GaitPhaseNet`.
    step
        Samples between training windows (windows 1 sample apart are nearly identical).
    augment
        Per window and channel, scale the raw inputs by a random gain (±15 %) and shift them by a random offset
        (SD a quarter of the channel's SD): subjects differ in sensor placement, so offsets and gains are what a
        model for unseen subjects must ignore.
    mirror
        Swap left and right in half of the windows (inputs by :func:`~exohub.ml.data.mirror_channels`, phase
        targets with them): a mirrored subject is another plausible subject, and clockwise circuits become
        counter-clockwise ones.
    time_warp
        Per window, replay the inputs at a random cadence between ``1 - time_warp`` and ``1 + time_warp`` times the
        recorded one (linear interpolation anchored at the newest sample, rate channels scaled with the cadence;
        the phase at the newest sample is unchanged by a uniform change of time scale). 0 turns it off.
    cycle_rounds, cycle_round
        The one-cycle learning-rate schedule spans ``cycle_rounds`` calls of :func:`train` of ``epochs`` each, and
        this call runs its ``cycle_round``-th part (1-based). 1 and 1: the whole cycle in one call. A federated
        round is one part, so the sites follow one schedule over the whole federation, as the centralised model
        does over its epochs, instead of warming up to the peak rate and annealing again in every round.
    """

    window: int = 256
    epochs: int = 10
    batch_size: int = 256
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    proximal_mu: float = 0.0
    mode_weight: float = 0.2
    channels: int = 48
    recent: int = 8
    hidden: int = 96
    step: int = 3
    augment: bool = True
    mirror: bool = True
    time_warp: float = 0.15
    cycle_rounds: int = 1
    cycle_round: int = 1

    def to_dict(self) -> dict[str, float | int]:
        """The configuration as plain values (stored in the ONNX file's metadata)."""
        return asdict(self)


def make_model(config: TrainConfig) -> GaitPhaseNet:
    """Return a fresh model of the configuration's shape, initialised from ``config.seed``."""
    torch.manual_seed(config.seed)
    return GaitPhaseNet(window=config.window, channels=config.channels, recent=config.recent, hidden=config.hidden)


def get_weights(model: torch.nn.Module) -> list[np.ndarray]:
    """Return every entry of the model's state (parameters and normaliser statistics) as numpy copies, in order."""
    return [value.detach().cpu().numpy().copy() for value in model.state_dict().values()]


def set_weights(model: torch.nn.Module, weights: list[np.ndarray]) -> None:
    """Load weights in the order of :func:`get_weights` into ``model``."""
    state = model.state_dict()
    if len(weights) != len(state):
        raise ValidationError(f"expected {len(state)} weight arrays, got {len(weights)}.")
    for (name, value), new in zip(state.items(), weights, strict=True):
        if tuple(np.shape(new)) != tuple(value.shape):
            raise ValidationError(f"weight {name} has shape {tuple(value.shape)}, got {tuple(np.shape(new))}.")
    model.load_state_dict({name: torch.as_tensor(np.asarray(new)) for name, new in zip(state, weights, strict=True)})


def train(
    model: GaitPhaseNet,
    X: np.ndarray,  # noqa: N803 (the design's names: windows, targets, modes as in scikit-learn's X, y)
    Y: np.ndarray,  # noqa: N803
    M: np.ndarray,  # noqa: N803
    config: TrainConfig,
    *,
    global_weights: list[np.ndarray] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> dict[str, float]:
    """Train ``model`` in place on windows from :func:`~exohub.ml.data.make_windows`.

    The normaliser is fitted on the windows' last samples unless the model already carries statistics (a model
    received from a federated server keeps the global ones).

    Parameters
    ----------
    model
        The network, changed in place.
    X, Y, M
        Windows ``(N, window, C)``, cos/sin targets ``(N, 4)`` and mode indices ``(N,)`` (``UNKNOWN_MODE`` ignored).
    config
        Epochs, batch size, optimiser settings, ``proximal_mu`` and ``mode_weight``.
    global_weights
        The global model of a federated round (:func:`get_weights` order); with ``proximal_mu > 0`` the loss adds
        FedProx's proximal term towards them.
    on_epoch
        Called after each epoch with its number (from 1) and the epoch's mean losses (for progress output).

    Returns
    -------
    dict of str to float
        ``loss``, ``phase_loss``, ``mode_loss`` (means over the last epoch), ``n_windows``,
        ``last_learning_rate`` (the rate of this call's last step) and ``seconds``.
    """
    _check_training_data(model, X, Y, M, config)
    if not model.normaliser.is_fitted:
        model.normaliser.fit(X[:, -1, :])
    anchors = _proximal_anchors(model, global_weights) if config.proximal_mu > 0 and global_weights else []
    inputs, targets, modes = torch.from_numpy(X), torch.from_numpy(Y), torch.from_numpy(M)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    steps = config.epochs * -(-len(X) // config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=config.learning_rate, total_steps=steps * config.cycle_rounds, pct_start=0.15
    )
    with warnings.catch_warnings():  # stepping the schedule before the optimiser is the point here
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(steps * (config.cycle_round - 1)):
            schedule.step()
    generator = torch.Generator().manual_seed(config.seed)
    mirror = _mirror_map(model) if config.mirror else None
    rate_gain = _rate_channels(model) if config.time_warp > 0 else None
    start = time.perf_counter()
    model.train()
    for epoch in range(1, config.epochs + 1):
        totals = np.zeros(3)
        for batch in torch.randperm(len(X), generator=generator).split(config.batch_size):
            x, y = inputs[batch], targets[batch]
            if mirror is not None:
                x, y = _mirrored(x, y, *mirror, generator)
            if rate_gain is not None:
                x = _time_warped(x, config.time_warp, rate_gain, generator)
            if config.augment:
                x = _augmented(x, model, generator)
            phase_loss, mode_loss = _losses(model, x, y, modes[batch])
            loss = phase_loss + config.mode_weight * mode_loss
            for parameter, anchor in anchors:
                loss = loss + 0.5 * config.proximal_mu * (parameter - anchor).square().sum()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            last_rate = optimiser.param_groups[0]["lr"]
            schedule.step()
            totals += len(batch) * np.array([loss.item(), phase_loss.item(), mode_loss.item()])
        if on_epoch is not None:
            on_epoch(epoch, dict(zip(("loss", "phase_loss", "mode_loss"), (totals / len(X)).tolist(), strict=True)))
    model.eval()
    loss, phase, mode = totals / len(X)
    return {
        "loss": float(loss),
        "phase_loss": float(phase),
        "mode_loss": float(mode),
        "n_windows": float(len(X)),
        "last_learning_rate": float(last_rate),
        "seconds": time.perf_counter() - start,
    }


def _mirror_map(model: GaitPhaseNet) -> tuple[torch.Tensor, torch.Tensor]:
    if model.n_inputs != len(INPUT_CHANNELS):
        raise ValidationError(
            f"mirror needs the {len(INPUT_CHANNELS)} channels of INPUT_CHANNELS, the model has {model.n_inputs}; "
            "train with mirror=False."
        )
    index, sign = mirror_channels(INPUT_CHANNELS)
    return torch.from_numpy(index), torch.from_numpy(sign)


def _rate_channels(model: GaitPhaseNet) -> torch.Tensor:
    """1 for channels that scale with the cadence (velocities, angular rates), 0 for the others."""
    if model.n_inputs != len(INPUT_CHANNELS):
        raise ValidationError(
            f"time_warp needs the {len(INPUT_CHANNELS)} channels of INPUT_CHANNELS, the model has {model.n_inputs}; "
            "train with time_warp=0."
        )
    return torch.tensor([float(name in RATE_CHANNELS) for name in INPUT_CHANNELS])


def _mirrored(
    x: torch.Tensor, y: torch.Tensor, index: torch.Tensor, sign: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Swap left and right in a random half of the windows ``(B, W, C)`` and of their targets ``(B, 4)``."""
    flip = torch.rand(len(x), generator=generator) < 0.5
    mirrored_x = torch.where(flip[:, None, None], x[:, :, index] * sign, x)
    return mirrored_x, torch.where(flip[:, None], y[:, [2, 3, 0, 1]], y)


def _time_warped(
    x: torch.Tensor, max_change: float, rate_channels: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """Resample each window at a random cadence, keeping its newest sample; the oldest samples repeat if needed."""
    n, window, _ = x.shape
    rate = 1.0 + max_change * (2.0 * torch.rand(n, 1, generator=generator) - 1.0)  # recorded samples per new one
    position = (window - 1 - (window - 1 - torch.arange(window)) * rate).clamp(min=0.0)  # (n, window)
    lower = position.floor().long()
    upper = (lower + 1).clamp(max=window - 1)
    fraction = (position - lower)[:, :, None]
    before = torch.gather(x, 1, lower[:, :, None].expand_as(x))
    after = torch.gather(x, 1, upper[:, :, None].expand_as(x))
    warped = before + fraction * (after - before)
    return warped * (1.0 + (rate[:, :, None] - 1.0) * rate_channels)


def _augmented(x: torch.Tensor, model: GaitPhaseNet, generator: torch.Generator) -> torch.Tensor:
    shape = (x.shape[0], 1, x.shape[2])
    gain = 1.0 + 0.3 * (torch.rand(shape, generator=generator) - 0.5)
    offset = 0.25 * model.normaliser.sd * torch.randn(shape, generator=generator)
    return x * gain + offset


def _losses(
    model: GaitPhaseNet, x: torch.Tensor, y: torch.Tensor, m: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    phase, logits = model(x)
    phase_loss = functional.mse_loss(phase, y)
    known = m != UNKNOWN_MODE
    mode_loss = functional.cross_entropy(logits[known], m[known]) if bool(known.any()) else logits.sum() * 0.0
    return phase_loss, mode_loss


def _proximal_anchors(
    model: GaitPhaseNet, global_weights: list[np.ndarray]
) -> list[tuple[torch.nn.Parameter, torch.Tensor]]:
    names = list(model.state_dict())
    if len(global_weights) != len(names):
        raise ValidationError(f"global_weights has {len(global_weights)} arrays, the model {len(names)}.")
    by_name = dict(zip(names, global_weights, strict=True))
    return [(p, torch.as_tensor(np.asarray(by_name[name]), dtype=p.dtype)) for name, p in model.named_parameters()]


def _check_training_data(
    model: GaitPhaseNet, windows: np.ndarray, targets: np.ndarray, modes: np.ndarray, config: TrainConfig
) -> None:
    X, Y, M = windows, targets, modes  # noqa: N806 (the names the error messages use)
    expected = (model.window, model.n_inputs)
    if X.ndim != 3 or X.shape[1:] != expected or X.dtype != np.float32:
        raise ValidationError(f"X must be float32 of shape (N, {expected[0]}, {expected[1]}), got {X.dtype} {X.shape}.")
    if Y.shape != (len(X), 4) or Y.dtype != np.float32:
        raise ValidationError(f"Y must be float32 of shape ({len(X)}, 4), got {Y.dtype} {Y.shape}.")
    if M.shape != (len(X),) or M.dtype != np.int64:
        raise ValidationError(f"M must be int64 of shape ({len(X)},), got {M.dtype} {M.shape}.")
    if len(X) == 0:
        raise ValidationError("no training windows.")
    if not 1 <= config.cycle_round <= config.cycle_rounds:
        raise ValidationError(
            f"cycle_round must be in 1..cycle_rounds, got {config.cycle_round} of {config.cycle_rounds}."
        )
    if config.epochs < 1 or config.batch_size < 1 or config.learning_rate <= 0 or config.proximal_mu < 0:
        raise ValidationError(
            "epochs and batch_size must be at least 1, learning_rate positive and proximal_mu >= 0; got "
            f"epochs={config.epochs}, batch_size={config.batch_size}, learning_rate={config.learning_rate}, "
            f"proximal_mu={config.proximal_mu}."
        )
    if M.size and (M.max() >= model.n_modes or M.min() < UNKNOWN_MODE):
        raise ValidationError(f"M holds mode indices outside {UNKNOWN_MODE}..{model.n_modes - 1}.")


def fit_model(
    subjects: Sequence[SubjectData],
    config: TrainConfig,
    *,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
) -> tuple[GaitPhaseNet, dict[str, float]]:
    """Cut windows from ``subjects`` (every ``config.step`` samples), build a model and train it.

    Parameters
    ----------
    subjects
        Training subjects.
    config
        The run's configuration.
    on_epoch
        See :func:`train`.

    Returns
    -------
    model : GaitPhaseNet
        The trained model, in eval mode.
    metrics : dict of str to float
        :func:`train`'s metrics.
    """
    windows, targets, modes = make_windows(subjects, window=config.window, step=config.step)
    model = make_model(config)
    return model, train(model, windows, targets, modes, config, on_epoch=on_epoch)
