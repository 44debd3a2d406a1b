"""The server's aggregation rule: FedAvg, FedProx or a server optimiser, optionally with client-level DP.

The server optimisers (Hsu et al. 2019's FedAvgM; Reddi et al. 2021's FedAdam, FedYogi, FedAdagrad) treat the
sites' average update as a pseudo-gradient and step the global model with a server learning rate (and momentum or
adaptive moments) instead of adopting the average as it is.

Differential privacy is Flower's central DP with server-side fixed clipping: each site's update (its weights minus
the global weights) is clipped to an L2 norm, the clipped updates are averaged with equal weights, and Gaussian
noise of standard deviation ``noise_multiplier * clipping_norm / n_sites`` is added to the average. Flower's
Rényi-DP accountant (Google's ``dp-accounting``) composes the releases round by round and reports ε at δ. The
neighbouring relation is "add or remove one site" (one clinic with all its patients), with no amplification by
sampling (every site takes part in every round).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from flwr.serverapp import NeighboringRelation, PrivacyAccountant, PrivacyConfig, PrivacySpent, SamplingMethod
from flwr.serverapp.strategy import (
    DifferentialPrivacyServerSideFixedClipping,
    FedAdagrad,
    FedAdam,
    FedAvg,
    FedAvgM,
    FedProx,
    FedYogi,
    Strategy,
)

from exohub.exceptions import ConfigurationError, ValidationError

StrategyName = Literal["fedavg", "fedprox", "fedavgm", "fedadam", "fedyogi", "fedadagrad"]
STRATEGIES: tuple[str, ...] = ("fedavg", "fedprox", "fedavgm", "fedadam", "fedyogi", "fedadagrad")
#: Server learning rate of each strategy when none is given (FedAvg and FedProx have none: they adopt the average).
SERVER_LEARNING_RATES: dict[str, float] = {"fedavgm": 1.0, "fedadam": 1e-2, "fedyogi": 1e-2, "fedadagrad": 1e-2}
#: FedAvgM's server momentum when none is given.
SERVER_MOMENTUM = 0.5
#: The adaptive server optimisers (Reddi et al. 2021), by name.
ADAPTIVE: dict[str, type[FedAdam | FedYogi | FedAdagrad]] = {
    "fedadam": FedAdam,
    "fedyogi": FedYogi,
    "fedadagrad": FedAdagrad,
}
#: Metric key every site reports with its number of training (or test) windows: FedAvg's weight.
WEIGHT_KEY = "num-examples"
#: Metric key every site reports as 1: the equal weights that DP accounting requires.
UNIT_WEIGHT_KEY = "unit-weight"


@dataclass(frozen=True)
class DPConfig:
    """Client-level differential privacy: update clipping and Gaussian noise on the server.

    Attributes
    ----------
    noise_multiplier
        Noise standard deviation in units of ``clipping_norm / n_sites`` (> 0).
    clipping_norm
        L2 bound on each site's update per round (> 0), in the units of the model's weights.
    target_delta
        The δ at which ε is reported (0 < δ < 1).
    """

    noise_multiplier: float
    clipping_norm: float
    target_delta: float = 1e-3

    def validate(self) -> None:
        """Raise ValidationError unless noise multiplier and clipping norm are positive and δ in (0, 1)."""
        if not self.noise_multiplier > 0:
            raise ValidationError(f"dp noise_multiplier must be positive, got {self.noise_multiplier}.")
        if not self.clipping_norm > 0:
            raise ValidationError(f"dp clipping_norm must be positive, got {self.clipping_norm}.")
        if not 0 < self.target_delta < 1:
            raise ValidationError(f"dp target_delta must be in (0, 1), got {self.target_delta}.")


def make_strategy(
    name: str,
    *,
    n_sites: int,
    proximal_mu: float = 0.01,
    server_learning_rate: float | None = None,
    server_momentum: float | None = None,
    dp: DPConfig | None = None,
) -> Strategy:
    """Build the strategy that trains and evaluates on every one of ``n_sites`` sites each round.

    Parameters
    ----------
    name
        ``"fedavg"`` (weights averaged in proportion to each site's training windows), ``"fedprox"`` (the same
        average; sites add ``proximal_mu / 2 * ||w - w_global||²`` to their loss), ``"fedavgm"`` (the average
        update as a pseudo-gradient for SGD with momentum on the server) or ``"fedadam"``, ``"fedyogi"``,
        ``"fedadagrad"`` (the pseudo-gradient for the adaptive optimiser of that name; Flower's β₁ 0.9, β₂ 0.99,
        τ 1e-3).
    n_sites
        Sites that must be connected; all of them train and evaluate in every round.
    proximal_mu
        FedProx's proximal weight (ignored by the others).
    server_learning_rate
        Step of the server optimisers (None: :data:`SERVER_LEARNING_RATES`); FedAvg and FedProx accept none.
    server_momentum
        FedAvgM's momentum in [0, 1) (None: :data:`SERVER_MOMENTUM`); the other strategies accept none.
    dp
        Differential privacy, or None. With DP the sites are averaged with equal weights (the accountant's
        requirement), not by their number of windows.

    Returns
    -------
    flwr.serverapp.strategy.Strategy
        The strategy, wrapped in DifferentialPrivacyServerSideFixedClipping when ``dp`` is given.
    """
    _check_settings(name, n_sites, proximal_mu, server_learning_rate, server_momentum)
    nodes: dict[str, Any] = {
        "min_train_nodes": n_sites,
        "min_evaluate_nodes": n_sites,
        "min_available_nodes": n_sites,
        "weighted_by_key": WEIGHT_KEY if dp is None else UNIT_WEIGHT_KEY,
    }
    rate = SERVER_LEARNING_RATES.get(name, 1.0) if server_learning_rate is None else server_learning_rate
    base: Strategy
    if name == "fedprox":
        base = FedProx(proximal_mu=proximal_mu, **nodes)
    elif name == "fedavgm":
        momentum = SERVER_MOMENTUM if server_momentum is None else server_momentum
        base = FedAvgM(server_learning_rate=rate, server_momentum=momentum, **nodes)
    elif name in ADAPTIVE:
        base = ADAPTIVE[name](eta=rate, **nodes)
    else:
        base = FedAvg(**nodes)
    if dp is None:
        return base
    dp.validate()
    return DifferentialPrivacyServerSideFixedClipping(
        base, dp.noise_multiplier, dp.clipping_norm, n_sites, accountant=_accountant(n_sites, dp)
    )


def _check_settings(
    name: str, n_sites: int, proximal_mu: float, server_learning_rate: float | None, server_momentum: float | None
) -> None:
    if name not in STRATEGIES:
        raise ValidationError(f"strategy must be one of {', '.join(STRATEGIES)}, got {name!r}.")
    if n_sites < 1:
        raise ValidationError(f"n_sites must be at least 1, got {n_sites}.")
    if name == "fedprox" and not proximal_mu > 0:
        raise ValidationError(f"FedProx needs a positive proximal_mu, got {proximal_mu}.")
    if server_learning_rate is not None and name not in SERVER_LEARNING_RATES:
        optimisers = ", ".join(SERVER_LEARNING_RATES)
        raise ValidationError(f"{name} has no server learning rate; the server optimisers are {optimisers}.")
    if server_learning_rate is not None and not server_learning_rate > 0:
        raise ValidationError(f"server_learning_rate must be positive, got {server_learning_rate}.")
    if server_momentum is not None and name != "fedavgm":
        raise ValidationError(f"only fedavgm has a server momentum, not {name}.")
    if server_momentum is not None and not 0 <= server_momentum < 1:
        raise ValidationError(f"server_momentum must be in [0, 1), got {server_momentum}.")


def privacy_spent(strategy: Strategy) -> PrivacySpent | None:
    """Return the (ε, δ) spent so far by a DP strategy from :func:`make_strategy`, None without DP."""
    if isinstance(strategy, DifferentialPrivacyServerSideFixedClipping):
        return strategy.privacy_spent()
    return None


def _accountant(n_sites: int, dp: DPConfig) -> PrivacyAccountant:
    try:
        from flwr.serverapp import RdpAccountant  # lazy in flwr: needs Google's dp-accounting (flwr[dp])

        config = PrivacyConfig(
            target_delta=dp.target_delta,
            population_size=n_sites,
            neighboring_relation=NeighboringRelation.ADD_OR_REMOVE_ONE,
            sampling_method=SamplingMethod.NO_AMPLIFICATION,
        )
        return RdpAccountant(config)
    except ImportError as err:
        raise ConfigurationError(
            'differential privacy needs the dp-accounting package for its privacy accountant: pip install "flwr[dp]"'
        ) from err
