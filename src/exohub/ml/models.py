"""The causal gait-phase and locomotion-mode network, with its input normalisation built in."""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from exohub.exceptions import ValidationError
from exohub.ml.data import INPUT_CHANNELS, MODES


class Normaliser(nn.Module):
    """Per-channel ``(x - mean) / sd`` with the statistics stored as buffers (so they travel in the ONNX file).

    Parameters
    ----------
    n_inputs
        Number of input channels.
    """

    def __init__(self, n_inputs: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_inputs))
        self.register_buffer("sd", torch.ones(n_inputs))
        self.register_buffer("fitted", torch.zeros(()))

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` (or loaded weights) set the statistics."""
        return bool(self.fitted.item() > 0)

    def fit(self, samples: np.ndarray) -> Normaliser:
        """Set mean and SD per channel from ``(n, C)`` raw samples; a constant channel keeps SD 1."""
        samples = np.asarray(samples, dtype=np.float64)
        if samples.ndim != 2 or samples.shape[1] != self.mean.numel() or len(samples) < 2:
            raise ValidationError(f"the normaliser needs (n >= 2, {self.mean.numel()}) samples, got {samples.shape}.")
        mean = samples.mean(axis=0)
        sd = samples.std(axis=0)
        sd[~(sd > 1e-8)] = 1.0
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.sd.copy_(torch.as_tensor(sd, dtype=torch.float32))
        self.fitted.fill_(1.0)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise ``(..., C)`` raw inputs."""
        return (x - self.mean) / self.sd


class _CausalDownsample(nn.Module):
    """Strided causal convolution whose last output ends on the last input sample.

    Kernel ``2 * stride``, padded on the left only, so the most recent sample always reaches the output.
    """

    def __init__(self, n_in: int, n_out: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv1d(n_in, n_out, kernel_size=2 * stride, stride=stride)

    def output_length(self, length: int) -> int:
        return (length + self._left_pad(length)) // self.stride - 1

    def _left_pad(self, length: int) -> int:
        return (-length) % self.stride + self.stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional.relu(self.conv(functional.pad(x, (self._left_pad(x.shape[-1]), 0))))


class GaitPhaseNet(nn.Module):
    """Causal CNN: left/right phase (as cos/sin) and locomotion mode at the last sample of a window of raw inputs.

    A pyramid of strided causal convolutions summarises the whole window (about 1.3 s at 200 Hz by default) and
    the last ``recent`` normalised samples go straight to the head, so the newest sample is seen at full
    resolution. Only the window's last sample is predicted, which keeps one inference at a few hundred thousand
    multiply-adds (tens of microseconds in onnxruntime).

    Parameters
    ----------
    n_inputs
        Input channels (default: :data:`~exohub.ml.data.INPUT_CHANNELS`).
    n_modes
        Locomotion modes (default: :data:`~exohub.ml.data.MODES`).
    window
        Samples per input window. The defaults here are :class:`~exohub.ml.training.TrainConfig`'s, the
        default model's shape.
    channels
        Feature maps per convolution.
    recent
        Newest samples fed directly to the head.
    hidden
        Units of the head's hidden layer.
    """

    def __init__(
        self,
        n_inputs: int = len(INPUT_CHANNELS),
        n_modes: int = len(MODES),
        window: int = 256,
        channels: int = 48,
        recent: int = 8,
        hidden: int = 96,
    ) -> None:
        super().__init__()
        if window < 8 or not 1 <= recent <= window or min(n_inputs, n_modes, channels, hidden) < 1:
            raise ValidationError(
                f"GaitPhaseNet needs window >= 8, 1 <= recent <= window and positive sizes; got window={window}, "
                f"recent={recent}, n_inputs={n_inputs}, n_modes={n_modes}, channels={channels}, hidden={hidden}."
            )
        self.window, self.recent, self.n_inputs, self.n_modes = window, recent, n_inputs, n_modes
        self.normaliser = Normaliser(n_inputs)
        layers, length, n_in = [], window, n_inputs
        for stride in [4] + [2] * 16:
            if length <= 2:
                break
            layers.append(_CausalDownsample(n_in, channels, stride))
            length, n_in = layers[-1].output_length(length), channels
        self.encoder = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Linear(channels * length + recent * n_inputs, hidden), nn.ReLU(), nn.Linear(hidden, 4 + n_modes)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Map ``(B, window, C)`` raw inputs to ``(B, 4)`` cos/sin (left, right) and ``(B, n_modes)`` mode logits."""
        z = self.normaliser(x)
        features = self.encoder(z.transpose(1, 2)).flatten(1)
        newest = z[:, -self.recent :, :].flatten(1)
        out = self.head(torch.cat([features, newest], dim=1))
        return out[:, :4], out[:, 4:]


class _RawInputDownsample(nn.Module):
    """A first :class:`_CausalDownsample` taking raw inputs, with the normaliser folded into its weights.

    ``conv((x - m) / sd)`` is ``conv'(x)`` with the weights divided by ``sd`` and ``sum(w' * m)`` taken from the
    bias, except where the kernel covers the left padding: there the original saw normalised zeros (raw ``m``)
    and the folded layer sees raw zeros, so a constant correction, non-zero only on those first output columns,
    is added back.
    """

    def __init__(self, layer: _CausalDownsample, mean: torch.Tensor, sd: torch.Tensor, length: int) -> None:
        super().__init__()
        self.conv = copy.deepcopy(layer.conv)
        weight = layer.conv.weight.detach() / sd[None, :, None]
        shifted = weight * mean[None, :, None]
        self.conv.weight.data.copy_(weight)
        self.conv.bias.data.copy_(layer.conv.bias.detach() - shifted.sum(dim=(1, 2)))
        self._pad = layer._left_pad(length)
        correction = torch.zeros(weight.shape[0], layer.output_length(length))
        for column in range(correction.shape[1]):
            in_padding = layer.stride * column + torch.arange(weight.shape[2]) < self._pad
            correction[:, column] = shifted[:, :, in_padding].sum(dim=(1, 2))
        self.register_buffer("correction", correction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return functional.relu(self.conv(functional.pad(x, (self._pad, 0))) + self.correction)


def fold_normaliser(model: GaitPhaseNet) -> GaitPhaseNet:
    """Return a copy of ``model`` computing the same outputs from raw inputs with no normalising operations.

    The normaliser's mean and SD go into the first convolution and the head's weights for the newest samples,
    which removes a subtraction and a division over the whole window from every inference (about 8 us a tick
    in onnxruntime on this project's machines). The copy is for export and inference, not for training.
    """
    folded = copy.deepcopy(model).eval()
    mean, sd = model.normaliser.mean.detach(), model.normaliser.sd.detach()
    folded.normaliser = nn.Identity()  # type: ignore[assignment]
    folded.encoder[0] = _RawInputDownsample(model.encoder[0], mean, sd, model.window)
    first = folded.head[0]
    n_features = first.in_features - model.recent * model.n_inputs
    recent_weight = first.weight.data[:, n_features:].view(-1, model.recent, model.n_inputs)
    first.bias.data -= (recent_weight * (mean / sd)).sum(dim=(1, 2))
    recent_weight /= sd
    return folded
