"""FedAvg/FedProx and the DP wrapper on mock site replies, with the exact aggregates they must produce."""

import math
import time
from collections.abc import Iterator
from unittest.mock import MagicMock

import numpy as np
import pytest

pytest.importorskip("flwr")

from flwr.app import ArrayRecord, ConfigRecord, Message, MessageType, Metadata, MetricRecord, RecordDict
from flwr.serverapp.strategy import DifferentialPrivacyServerSideFixedClipping, FedAdam, FedAvg, FedAvgM, FedProx

from exohub.exceptions import ValidationError
from exohub.federated.simulate import server_identity
from exohub.federated.strategy import (
    SERVER_LEARNING_RATES,
    SERVER_MOMENTUM,
    UNIT_WEIGHT_KEY,
    WEIGHT_KEY,
    DPConfig,
    make_strategy,
    privacy_spent,
)


@pytest.fixture(autouse=True)
def _as_server() -> Iterator[None]:
    with server_identity(run_id=1):
        yield


def _reply(node_id: int, arrays: list[np.ndarray] | None, metrics: dict[str, float]) -> Message:
    metadata = Metadata(
        run_id=1,
        message_id=f"reply-{node_id}",
        src_node_id=node_id,
        dst_node_id=1,
        reply_to_message_id=f"ins-{node_id}",
        group_id="1",
        created_at=time.time(),
        ttl=60.0,
        message_type=MessageType.TRAIN,
    )
    content = RecordDict({"metrics": MetricRecord(metrics)})
    if arrays is not None:
        content["arrays"] = ArrayRecord(arrays)
    return Message(content=content, metadata=metadata)


def _grid(node_ids: list[int]) -> MagicMock:
    grid = MagicMock()
    grid.get_node_ids.return_value = node_ids
    return grid


def test_fedavg_weights_sites_by_training_windows() -> None:
    # Prepare: two sites, 1 and 3 training windows
    strategy = make_strategy("fedavg", n_sites=2)
    replies = [
        _reply(2, [np.array([1.0, 1.0]), np.array([[0.0]])], {WEIGHT_KEY: 1.0, "loss": 4.0, UNIT_WEIGHT_KEY: 1.0}),
        _reply(3, [np.array([3.0, 5.0]), np.array([[4.0]])], {WEIGHT_KEY: 3.0, "loss": 0.0, UNIT_WEIGHT_KEY: 1.0}),
    ]
    # Execute
    arrays, metrics = strategy.aggregate_train(1, replies)
    # Assert: (1*w1 + 3*w2) / 4
    assert arrays is not None and metrics is not None
    aggregated = arrays.to_numpy_ndarrays()
    np.testing.assert_allclose(aggregated[0], [2.5, 4.0])
    np.testing.assert_allclose(aggregated[1], [[3.0]])
    assert metrics["loss"] == pytest.approx(1.0)


def test_fedavg_evaluate_is_weighted_mean_of_site_metrics() -> None:
    strategy = make_strategy("fedavg", n_sites=2)
    replies = [
        _reply(2, None, {WEIGHT_KEY: 100.0, "phase_rmse_pct": 2.0, UNIT_WEIGHT_KEY: 1.0}),
        _reply(3, None, {WEIGHT_KEY: 300.0, "phase_rmse_pct": 6.0, UNIT_WEIGHT_KEY: 1.0}),
    ]
    metrics = strategy.aggregate_evaluate(1, replies)
    assert metrics is not None
    assert metrics["phase_rmse_pct"] == pytest.approx(5.0)


def test_fedprox_sends_mu_and_round_to_every_site() -> None:
    strategy = make_strategy("fedprox", n_sites=3, proximal_mu=0.25)
    assert isinstance(strategy, FedProx)
    config = ConfigRecord({"epochs": 2})
    messages = list(strategy.configure_train(4, ArrayRecord([np.zeros(2)]), config, _grid([5, 6, 7])))
    assert sorted(m.metadata.dst_node_id for m in messages) == [5, 6, 7]
    for message in messages:
        config = message.content["config"]
        assert config["proximal-mu"] == 0.25
        assert config["server-round"] == 4
        assert config["epochs"] == 2
        assert message.metadata.message_type == MessageType.TRAIN


def test_fedavg_waits_for_all_sites_and_sends_no_mu() -> None:
    strategy = make_strategy("fedavg", n_sites=2)
    assert type(strategy) is FedAvg
    assert strategy.min_available_nodes == strategy.min_train_nodes == strategy.min_evaluate_nodes == 2
    messages = list(strategy.configure_train(1, ArrayRecord([np.zeros(2)]), ConfigRecord(), _grid([1, 2])))
    assert all("proximal-mu" not in m.content["config"] for m in messages)


def _two_site_round(strategy, server_round: int, current: np.ndarray, updates: list[np.ndarray]) -> np.ndarray:
    """Send ``current`` to sites 1 and 2, aggregate their replies (equal windows), return the new global array."""
    list(strategy.configure_train(server_round, ArrayRecord([current]), ConfigRecord(), _grid([1, 2])))
    metrics = {WEIGHT_KEY: 1.0, UNIT_WEIGHT_KEY: 1.0}
    replies = [_reply(n, [update], metrics) for n, update in enumerate(updates, start=1)]
    arrays, _ = strategy.aggregate_train(server_round, replies)
    assert arrays is not None
    return arrays.to_numpy_ndarrays()[0]


def test_fedavgm_steps_along_the_averaged_update_with_momentum() -> None:
    strategy = make_strategy("fedavgm", n_sites=2, server_learning_rate=0.5, server_momentum=0.8)
    assert isinstance(strategy, FedAvgM)
    # round 1: sites move 0 to 2 and 4, average update +3; the server steps half of it
    first = _two_site_round(strategy, 1, np.zeros(2), [np.full(2, 2.0), np.full(2, 4.0)])
    np.testing.assert_allclose(first, [1.5, 1.5])
    # round 2: average update +1; momentum buffer 0.8 * 3 + 1 = 3.4, step 0.5 * 3.4 = 1.7
    second = _two_site_round(strategy, 2, first, [first + 1.0, first + 1.0])
    np.testing.assert_allclose(second, [3.2, 3.2])


def test_fedadam_normalises_the_averaged_update() -> None:
    strategy = make_strategy("fedadam", n_sites=2, server_learning_rate=0.01)
    assert isinstance(strategy, FedAdam)
    # updates of +1e-3 and +1e-1 per coordinate, average 0.0505, in round 1 of Flower's bias-corrected Adam
    new = _two_site_round(strategy, 1, np.zeros(2), [np.full(2, 1e-3), np.full(2, 1e-1)])
    delta = 0.0505
    m, v = 0.1 * delta, 0.01 * delta**2
    step = 0.01 * math.sqrt(1 - 0.99**2) / (1 - 0.9**2) * m / (math.sqrt(v) + 1e-3)
    np.testing.assert_allclose(new, [step, step], rtol=1e-6)
    assert 0.005 < step < 0.01  # about the server learning rate, whatever the update's size


def test_default_server_settings_come_from_the_module_tables() -> None:
    fedavgm = make_strategy("fedavgm", n_sites=2)
    assert isinstance(fedavgm, FedAvgM)
    assert fedavgm.server_learning_rate == SERVER_LEARNING_RATES["fedavgm"]
    assert fedavgm.server_momentum == SERVER_MOMENTUM
    for name in ("fedadam", "fedyogi", "fedadagrad"):
        assert make_strategy(name, n_sites=2).eta == SERVER_LEARNING_RATES[name]


def test_dp_clips_each_update_and_averages_sites_equally() -> None:
    pytest.importorskip("dp_accounting")
    # Prepare: global weights 0; site updates of norm 10 and 30 along one direction, clipping norm 1
    dp = DPConfig(noise_multiplier=1e-9, clipping_norm=1.0)
    strategy = make_strategy("fedavg", n_sites=2, dp=dp)
    assert isinstance(strategy, DifferentialPrivacyServerSideFixedClipping)
    list(strategy.configure_train(1, ArrayRecord([np.zeros(2)]), ConfigRecord(), _grid([1, 2])))
    replies = [
        _reply(1, [np.array([6.0, 8.0])], {WEIGHT_KEY: 10.0, UNIT_WEIGHT_KEY: 1.0}),
        _reply(2, [np.array([18.0, 24.0])], {WEIGHT_KEY: 990.0, UNIT_WEIGHT_KEY: 1.0}),
    ]
    # Execute
    arrays, _ = strategy.aggregate_train(1, replies)
    # Assert: both clipped to (0.6, 0.8), equal weights despite 10 vs 990 windows, noise ~1e-9
    assert arrays is not None
    np.testing.assert_allclose(arrays.to_numpy_ndarrays()[0], [0.6, 0.8], atol=1e-6)


def test_dp_epsilon_is_the_rdp_accountants_for_the_gaussian_releases() -> None:
    dp_accounting = pytest.importorskip("dp_accounting")
    dp = DPConfig(noise_multiplier=2.0, clipping_norm=1.0, target_delta=1e-3)
    strategy = make_strategy("fedprox", n_sites=2, proximal_mu=0.1, dp=dp)
    for server_round in (1, 2):
        list(strategy.configure_train(server_round, ArrayRecord([np.zeros(2)]), ConfigRecord(), _grid([1, 2])))
        replies = [_reply(n, [np.ones(2) * n], {WEIGHT_KEY: 5.0, UNIT_WEIGHT_KEY: 1.0}) for n in (1, 2)]
        strategy.aggregate_train(server_round, replies)
    spent = privacy_spent(strategy)
    assert spent is not None and spent.num_releases == 2
    # two releases of a Gaussian mechanism with sigma = 2 (no sampling), composed by Google's RDP accountant
    reference = dp_accounting.rdp.RdpAccountant()
    reference.compose(dp_accounting.GaussianDpEvent(2.0), 2)
    assert spent.epsilon == pytest.approx(reference.get_epsilon(1e-3), rel=1e-6)
    assert 0 < spent.epsilon < math.inf


def test_no_privacy_spent_without_dp() -> None:
    assert privacy_spent(make_strategy("fedavg", n_sites=2)) is None


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("fedsgd", {"n_sites": 2}, "strategy must be one of"),
        ("fedavg", {"n_sites": 0}, "n_sites must be at least 1"),
        ("fedprox", {"n_sites": 2, "proximal_mu": 0.0}, "positive proximal_mu"),
        ("fedavg", {"n_sites": 2, "dp": DPConfig(0.0, 1.0)}, "noise_multiplier must be positive"),
        ("fedavg", {"n_sites": 2, "dp": DPConfig(1.0, -1.0)}, "clipping_norm must be positive"),
        ("fedavg", {"n_sites": 2, "dp": DPConfig(1.0, 1.0, 1.5)}, "target_delta"),
        ("fedavg", {"n_sites": 2, "server_learning_rate": 0.5}, "fedavg has no server learning rate"),
        ("fedadam", {"n_sites": 2, "server_learning_rate": 0.0}, "server_learning_rate must be positive"),
        ("fedadam", {"n_sites": 2, "server_momentum": 0.5}, "only fedavgm has a server momentum"),
        ("fedavgm", {"n_sites": 2, "server_momentum": 1.0}, r"server_momentum must be in \[0, 1\)"),
    ],
)
def test_bad_strategy_settings_are_rejected(name: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        make_strategy(name, **kwargs)
