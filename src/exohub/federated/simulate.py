"""Federated training simulated in this process, side by side with the centralised and local-only models.

The simulation runs the real :data:`~exohub.federated.server_app.app` and
:data:`~exohub.federated.client_app.app` through :class:`LocalGrid`, a Flower ``Grid`` that hands each message to
the ClientApp of its site in this process, in order. Flower's own ``run_simulation`` does the same through a Ray
backend (``flwr[simulation]``); Ray's start-up alone takes longer than the two-site test, and in-order dispatch is
deterministic. A real deployment replaces the grid by a SuperLink and one SuperNode per clinic (see
``tests/federated/test_deployment.py``).
"""

from __future__ import annotations

import contextlib
import json
import math
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from flwr.app import Context, Message, RecordDict, UserConfig
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid

from exohub.exceptions import ValidationError
from exohub.federated import task
from exohub.federated.client_app import app as client_app
from exohub.federated.server_app import app as server_app
from exohub.federated.strategy import DPConfig
from exohub.ml.training import TrainConfig, get_weights, make_model

METHODS: tuple[str, ...] = ("federated", "personalised", "centralised", "local")


class LocalGrid(Grid):
    """A Flower Grid whose nodes are ClientApps in this process, each with its own persistent Context.

    Parameters
    ----------
    client_app
        The ClientApp every node runs.
    node_configs
        One ``node_config`` per node (node IDs 1, 2, ...): what a SuperNode gets from ``--node-config``.
    run_id
        The run's ID (any integer).
    """

    def __init__(self, client_app: ClientApp, node_configs: Sequence[Mapping[str, str | int | float]], run_id: int):
        from flwr.supercore.run import Run  # Flower's run descriptor; Grid.run must return one

        self._client_app = client_app
        self._run = Run.create_empty(run_id=run_id)
        self._contexts = {
            node_id: Context(run_id, node_id, UserConfig(dict(config)), RecordDict(), UserConfig())
            for node_id, config in enumerate(node_configs, start=1)
        }
        self._replies: dict[str, Message] = {}

    def set_run(self, run: object) -> None:  # type: ignore[override]
        """Keep the run descriptor (unused: the grid serves one run)."""
        self._run = run  # type: ignore[assignment]

    @property
    def run(self) -> object:  # type: ignore[override]
        """The run descriptor."""
        return self._run

    def create_message(  # noqa: D102 - Grid's; deprecated there in favour of Message(...)
        self, content: RecordDict, message_type: str, dst_node_id: int, group_id: str, ttl: float | None = None
    ) -> Message:
        return Message(content, dst_node_id, message_type, ttl=ttl, group_id=group_id)

    def get_node_ids(self) -> Iterable[int]:
        """The nodes' IDs."""
        return list(self._contexts)

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        """Run each message through its node's ClientApp now; return IDs to pull the replies with."""
        ids = []
        for message in messages:
            node_id = message.metadata.dst_node_id
            if node_id not in self._contexts:
                raise ValidationError(f"message for unknown node {node_id}; nodes are {sorted(self._contexts)}.")
            message_id = uuid.uuid4().hex
            self._replies[message_id] = self._client_app(message, self._contexts[node_id])
            ids.append(message_id)
        return ids

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        """Hand over (and forget) the replies to the given messages."""
        return [self._replies.pop(message_id) for message_id in message_ids if message_id in self._replies]

    def send_and_receive(self, messages: Iterable[Message], *, timeout: float | None = None) -> Iterable[Message]:
        """Push the messages and return every reply (the ClientApps have run by then)."""
        return self.pull_messages(self.push_messages(messages))


@dataclass
class SimulationResult:
    """Federated, centralised and local-only metrics on each site's held-out recordings.

    Attributes
    ----------
    sites
        Site name -> method -> metrics (``phase_rmse_pct``, ``mode_accuracy``, ``n_samples``). Methods:
        ``federated`` (the global model), ``personalised`` (the global model fine-tuned on the site's own training
        recordings, :func:`~exohub.federated.task.personalise`), ``centralised`` (trained on every site's pooled
        training recordings, which a real federation never sees) and ``local`` (trained on the site's alone).
    pooled
        Method -> metrics over every site's test samples (RMSE as the root of the sample-weighted mean square).
    federation
        The ServerApp's summary: per-round aggregated metrics and, with DP, ε at δ.
    config
        The training configuration of each round (local-only and centralised train ``rounds`` times its epochs).
    """

    sites: dict[str, dict[str, dict[str, float]]]
    pooled: dict[str, dict[str, float]]
    federation: dict[str, object]
    config: dict[str, object] = field(default_factory=dict)

    @property
    def federated_over_centralised(self) -> float:
        """Pooled federated RMSE / pooled centralised RMSE (the issue's target: <= 1.05); NaN without baselines."""
        if "centralised" not in self.pooled:
            return math.nan
        return self.pooled["federated"]["phase_rmse_pct"] / self.pooled["centralised"]["phase_rmse_pct"]

    @property
    def sites_better_than_local(self) -> list[str]:
        """Sites whose federated (global) RMSE is below their local-only RMSE."""
        return self._better_than_local("federated")

    @property
    def personalised_sites_better_than_local(self) -> list[str]:
        """Sites whose personalised RMSE is below their local-only RMSE."""
        return self._better_than_local("personalised")

    def _better_than_local(self, method: str) -> list[str]:
        return [
            name
            for name, methods in self.sites.items()
            if {method, "local"} <= set(methods)
            and methods[method]["phase_rmse_pct"] < methods["local"]["phase_rmse_pct"]
        ]

    def to_dict(self) -> dict[str, object]:
        """Plain values for JSON."""
        return {
            "sites": self.sites,
            "pooled": self.pooled,
            "federated_over_centralised": None if "centralised" not in self.pooled else self.federated_over_centralised,
            "sites_better_than_local": self.sites_better_than_local,
            "personalised_sites_better_than_local": self.personalised_sites_better_than_local,
            "federation": self.federation,
            "config": self.config,
        }


def assign_sites(data_dir: Path, n_sites: int) -> list[tuple[str, ...]]:
    """Split the subject folders of ``data_dir`` (name order) into ``n_sites`` contiguous groups, one per clinic."""
    subjects = sorted(p.name for p in Path(data_dir).iterdir() if p.is_dir() and any(p.glob("labeled_*.txt.gz")))
    if not 1 <= n_sites <= len(subjects):
        raise ValidationError(f"{data_dir} has {len(subjects)} subject folder(s); cannot make {n_sites} site(s).")
    return [tuple(group) for group in np.array_split(np.array(subjects), n_sites)]


def run_federated_simulation(
    data_dir: str | Path,
    n_sites: int,
    rounds: int,
    *,
    config: TrainConfig | None = None,
    strategy: str = "fedavg",
    proximal_mu: float = 0.01,
    server_learning_rate: float | None = None,
    server_momentum: float | None = None,
    dp: DPConfig | None = None,
    max_files_per_subject: int | None = None,
    test_every: int = task.DEFAULT_TEST_EVERY,
    baselines: bool = True,
) -> SimulationResult:
    """Federate ``n_sites`` clinics over ``rounds`` rounds in this process; train the baselines with equal budget.

    Parameters
    ----------
    data_dir
        Hip-exo layout: one folder per subject with ``labeled_*.txt.gz``; subjects go to sites by
        :func:`assign_sites`.
    n_sites
        Number of clinics (at most the number of subjects).
    rounds
        Federated rounds; each site trains ``config.epochs`` epochs per round.
    config
        Training configuration of one round (default :class:`~exohub.ml.training.TrainConfig`).
    strategy, proximal_mu, server_learning_rate, server_momentum, dp
        See :func:`exohub.federated.strategy.make_strategy`.
    max_files_per_subject
        Use only the first recordings of each subject (quick runs).
    test_every
        Every ``test_every``-th recording of each subject is held out for testing.
    baselines
        Also train the centralised model (pooled training recordings of all sites) and each site's local-only
        model, each for ``rounds * config.epochs`` epochs; otherwise ``centralised``/``local`` are absent.

    Returns
    -------
    SimulationResult
    """
    config = TrainConfig() if config is None else config
    groups = assign_sites(Path(data_dir), n_sites)
    node_configs = [
        {
            "data-dir": str(data_dir),
            "subjects": ",".join(group),
            "max-files": int(max_files_per_subject or 0),
            "test-every": int(test_every),
        }
        for group in groups
    ]
    sites = [task.load_site(node_config) for node_config in node_configs]
    server: dict[str, str | float] = {"strategy": strategy, "proximal-mu": proximal_mu}
    if server_learning_rate is not None:
        server["server-learning-rate"] = server_learning_rate
    if server_momentum is not None:
        server["server-momentum"] = server_momentum
    federation, weights = _run_server(node_configs, config, n_sites, rounds, server, dp)
    per_site = {
        site.name: {
            "federated": task.evaluate_site(weights, site, config),
            "personalised": task.evaluate_site(task.personalise(weights, site, config), site, config),
        }
        for site in sites
    }
    if baselines:
        long = TrainConfig(**{**config.to_dict(), "epochs": config.epochs * rounds})  # type: ignore[arg-type]
        fresh = get_weights(make_model(long))
        central, _ = task.train_site(fresh, sites, long)
        for site in sites:
            local, _ = task.train_site(fresh, site, long)
            per_site[site.name]["centralised"] = task.evaluate_site(central, site, config)
            per_site[site.name]["local"] = task.evaluate_site(local, site, config)
    methods = [m for m in METHODS if all(m in entry for entry in per_site.values())]
    pooled = {m: _pool([entry[m] for entry in per_site.values()]) for m in methods}
    clean = {name: {m: _public(entry[m]) for m in methods} for name, entry in per_site.items()}
    return SimulationResult(
        sites=clean,
        pooled=pooled,
        federation=federation,
        config={
            "train": config.to_dict(),
            "strategy": strategy,
            "server_learning_rate": server_learning_rate,
            "server_momentum": server_momentum,
            "rounds": rounds,
            "n_sites": n_sites,
        },
    )


def _run_server(
    node_configs: list[dict[str, str | int]],
    config: TrainConfig,
    n_sites: int,
    rounds: int,
    server: Mapping[str, str | float],
    dp: DPConfig | None,
) -> tuple[dict[str, object], list[np.ndarray]]:
    run_config: dict[str, str | int | float] = {
        "num-sites": n_sites,
        "num-rounds": rounds,
        **server,
        **{name.replace("_", "-"): getattr(config, name) for name in task.CONFIG_FIELDS},
    }
    if dp is not None:
        run_config["dp-noise-multiplier"] = dp.noise_multiplier
        run_config["dp-clipping-norm"] = dp.clipping_norm
        run_config["dp-delta"] = dp.target_delta
    run_id = int(np.random.default_rng().integers(1, 2**62))
    grid = LocalGrid(client_app, node_configs, run_id)
    context = Context(run_id, 0, UserConfig(), RecordDict(), UserConfig(run_config))
    with server_identity(run_id):
        server_app(grid, context)
    summary = json.loads(str(context.state["federation"]["summary"]))  # type: ignore[index]
    return summary, context.state["global-model"].to_numpy_ndarrays()  # type: ignore[union-attr]


@contextlib.contextmanager
def server_identity(run_id: int) -> Iterator[None]:
    """Set Flower's process-wide task identity for the messages the ServerApp creates, as Flower's runtimes do."""
    from flwr.common.constant import SUPERLINK_NODE_ID
    from flwr.supercore.task_identity import TaskIdentity

    saved = (TaskIdentity._task_id, TaskIdentity._run_id, TaskIdentity._node_id)
    TaskIdentity.task_id, TaskIdentity.run_id, TaskIdentity.node_id = 1, run_id, SUPERLINK_NODE_ID
    try:
        yield
    finally:
        TaskIdentity._task_id, TaskIdentity._run_id, TaskIdentity._node_id = saved


def _pool(metrics: list[dict[str, float]]) -> dict[str, float]:
    n = np.array([m["n_samples"] for m in metrics])
    rmse = np.array([m["phase_rmse_pct"] for m in metrics])
    accuracy = np.array([m["mode_accuracy"] for m in metrics])
    return {
        "phase_rmse_pct": float(np.sqrt(np.sum(n * rmse**2) / n.sum())),
        "mode_accuracy": float(np.sum(n * accuracy) / n.sum()),
        "n_samples": float(n.sum()),
    }


def _public(metrics: Mapping[str, float]) -> dict[str, float]:
    return {key: float(metrics[key]) for key in ("phase_rmse_pct", "mode_accuracy", "n_samples")}
