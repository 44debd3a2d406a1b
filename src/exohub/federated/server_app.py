"""The Flower ServerApp: a shared input normaliser, then rounds of a federated strategy across the clinic sites.

The run configuration (``flwr run --run-config``, or :func:`exohub.federated.simulate.run_federated_simulation`)
uses these keys; any TrainConfig field can be set with dashes (``learning-rate``, ``batch-size``...):

``num-sites`` (int)
    Sites that must be connected; every one trains and evaluates each round.
``num-rounds`` (int), ``strategy`` (one of :data:`~exohub.federated.strategy.STRATEGIES`), ``proximal-mu`` (float)
``server-learning-rate`` (float), ``server-momentum`` (float)
    The server optimisers' step and FedAvgM's momentum; absent: the strategy's defaults.
``dp-noise-multiplier`` (float, 0 = no DP), ``dp-clipping-norm`` (float), ``dp-delta`` (float)
``out-dir`` (str, optional)
    Where to write ``global_model.npz`` (the final weights, :func:`exohub.ml.training.get_weights` order) and
    ``summary.json`` (per-round metrics, ε).
``timeout-s`` (float)
    How long to wait for sites to connect and to reply.

The final weights and a summary are also left in the ServerApp's ``context.state`` (``"global-model"``,
``"federation"``) for in-process callers.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, MetricRecord, RecordDict
from flwr.serverapp import Grid, ServerApp

from exohub.exceptions import ExohubError, ValidationError
from exohub.federated import task
from exohub.federated.strategy import DPConfig, make_strategy, privacy_spent
from exohub.ml.training import TrainConfig

app = ServerApp()


@dataclass(frozen=True)
class FederationSettings:
    """What the ServerApp runs: sites, rounds, strategy, training configuration, privacy, output."""

    num_sites: int
    num_rounds: int
    strategy: str = "fedavg"
    proximal_mu: float = 0.01
    server_learning_rate: float | None = None
    server_momentum: float | None = None
    train: TrainConfig = field(default_factory=TrainConfig)
    dp: DPConfig | None = None
    out_dir: str = ""
    timeout_s: float = 600.0

    @classmethod
    def from_run_config(cls, run_config: Mapping[str, object]) -> FederationSettings:
        """Read the keys of the module doc from Flower's run config."""

        def get(key: str, default: object) -> object:
            return run_config.get(key, default)

        train_values = {
            name: type(getattr(TrainConfig(), name))(run_config[name.replace("_", "-")])
            for name in (f.name for f in fields(TrainConfig))
            if name.replace("_", "-") in run_config and name != "proximal_mu"
        }
        noise = float(get("dp-noise-multiplier", 0.0))  # type: ignore[arg-type]
        dp = (
            DPConfig(noise, float(get("dp-clipping-norm", 1.0)), float(get("dp-delta", 1e-3)))  # type: ignore[arg-type]
            if noise > 0
            else None
        )
        return cls(
            num_sites=int(get("num-sites", 2)),  # type: ignore[call-overload]
            num_rounds=int(get("num-rounds", 3)),  # type: ignore[call-overload]
            strategy=str(get("strategy", "fedavg")),
            proximal_mu=float(get("proximal-mu", 0.01)),  # type: ignore[arg-type]
            server_learning_rate=_optional_float(run_config, "server-learning-rate"),
            server_momentum=_optional_float(run_config, "server-momentum"),
            train=TrainConfig(**train_values),  # type: ignore[arg-type]
            dp=dp,
            out_dir=str(get("out-dir", "")),
            timeout_s=float(get("timeout-s", 600.0)),  # type: ignore[arg-type]
        )


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Run the federation described by ``context.run_config`` on the sites connected to ``grid``."""
    settings = FederationSettings.from_run_config(context.run_config)
    weights, summary = run_federation(grid, settings)
    context.state["global-model"] = ArrayRecord(weights)
    context.state["federation"] = ConfigRecord({"summary": json.dumps(summary)})
    if settings.out_dir:
        out = Path(settings.out_dir)
        out.mkdir(parents=True, exist_ok=True)
        np.savez(out / "global_model.npz", *weights)
        (out / "summary.json").write_text(json.dumps(summary, indent=2))


def run_federation(grid: Grid, settings: FederationSettings) -> tuple[list[np.ndarray], dict[str, object]]:
    """Fit the shared normaliser from the sites' input statistics, then run the strategy for the rounds.

    Returns
    -------
    weights : list of numpy.ndarray
        The final global model.
    summary : dict
        ``rounds``: per round the sites' aggregated training and evaluation metrics; ``privacy``: ``epsilon``,
        ``delta`` and ``releases`` with DP, else None; the settings.
    """
    if settings.num_rounds < 1:
        raise ValidationError(f"num-rounds must be at least 1, got {settings.num_rounds}.")
    node_ids = _wait_for_sites(grid, settings.num_sites, settings.timeout_s)
    statistics = _site_statistics(grid, node_ids, settings.timeout_s)
    initial = task.initial_weights(settings.train, statistics)
    strategy = make_strategy(
        settings.strategy,
        n_sites=settings.num_sites,
        proximal_mu=settings.proximal_mu,
        server_learning_rate=settings.server_learning_rate,
        server_momentum=settings.server_momentum,
        dp=settings.dp,
    )
    train = replace(settings.train, cycle_rounds=settings.num_rounds)  # one learning-rate cycle over the rounds
    record = task.config_to_record(train)
    result = strategy.start(
        grid,
        ArrayRecord(initial),
        num_rounds=settings.num_rounds,
        timeout=settings.timeout_s,
        train_config=record,
        evaluate_config=ConfigRecord(dict(record)),
    )
    if len(result.arrays) == 0:
        raise ExohubError("no round produced a global model: every site failed (see the SuperNodes' logs).")
    spent = privacy_spent(strategy)
    rounds = {
        str(n): {
            "train": dict(result.train_metrics_clientapp.get(n, MetricRecord())),
            "evaluate": dict(result.evaluate_metrics_clientapp.get(n, MetricRecord())),
        }
        for n in range(1, settings.num_rounds + 1)
    }
    summary: dict[str, object] = {
        "strategy": settings.strategy,
        "num_sites": settings.num_sites,
        "num_rounds": settings.num_rounds,
        "train_config": train.to_dict(),
        "rounds": rounds,
        "privacy": None
        if spent is None
        else {"epsilon": spent.epsilon, "delta": spent.delta, "releases": spent.num_releases, "method": "rdp"},
    }
    # the adaptive server optimisers step in float64; the model's weights are float32
    final = [array.astype(start.dtype) for array, start in zip(result.arrays.to_numpy_ndarrays(), initial, strict=True)]
    return final, summary


def _optional_float(run_config: Mapping[str, object], key: str) -> float | None:
    return None if key not in run_config else float(run_config[key])  # type: ignore[arg-type]


def _wait_for_sites(grid: Grid, num_sites: int, timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while len(node_ids := sorted(grid.get_node_ids())) < num_sites:
        if time.monotonic() > deadline:
            raise ExohubError(f"{len(node_ids)} of {num_sites} sites connected within {timeout_s:.0f} s.")
        time.sleep(0.5)
    return node_ids[:num_sites]


def _site_statistics(grid: Grid, node_ids: list[int], timeout_s: float) -> list[tuple[int, np.ndarray, np.ndarray]]:
    messages = [Message(RecordDict(), node_id, MessageType.QUERY) for node_id in node_ids]
    replies = list(grid.send_and_receive(messages, timeout=timeout_s))
    failed = [reply.error.reason for reply in replies if reply.has_error()]
    if failed or len(replies) != len(node_ids):
        raise ExohubError(f"{len(node_ids) - len(replies) + len(failed)} site(s) sent no input statistics: {failed}")
    records = [reply.content["statistics"] for reply in replies]
    return [(int(r["count"]), np.asarray(r["sum"]), np.asarray(r["sum-squares"])) for r in records]  # type: ignore[call-overload]
