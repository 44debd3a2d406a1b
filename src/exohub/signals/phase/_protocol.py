"""The interface every real-time phase estimator meets, so the control loop never imports a model."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class GaitPhaseEstimator(Protocol):
    """A causal gait-phase estimator driven one sample at a time by the real-time loop.

    The loop calls :meth:`reset` when it starts (or after a fault) and :meth:`step` once per tick. Implementations:
    :class:`~exohub.signals.phase.StrideTimePhaseEstimation` (the sample is an initial-contact flag), an ONNX model
    in ``exohub.ml`` (the sample is its feature vector). A step must not allocate or touch pandas.
    """

    def reset(self) -> None:
        """Forget all history."""

    def step(self, time_s: float, sample: Any, /) -> float:
        """Take the sample at ``time_s`` (seconds, increasing) and return the phase in [0, 1), or NaN if unknown."""
