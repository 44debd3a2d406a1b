"""Two sites, one round, in this process: the real ServerApp and ClientApp through LocalGrid on a tiny data set."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("flwr")
pytest.importorskip("torch")

from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MessageType, RecordDict, UserConfig
from typer.testing import CliRunner

from exohub.cli.main import app as cli
from exohub.exceptions import ValidationError
from exohub.federated import (
    DPConfig,
    assign_sites,
    run_federated_simulation,
    simulate,
    task,
)
from exohub.federated.client_app import app as client_app
from exohub.federated.simulate import server_identity


def test_two_sites_one_round_report_all_three_models(tiny_hipexo: Path, tiny_config) -> None:
    result = run_federated_simulation(tiny_hipexo, 2, 1, config=tiny_config, test_every=2)

    assert set(result.sites) == {"AB01", "AB02"}
    for methods in result.sites.values():
        assert set(methods) == {"federated", "personalised", "centralised", "local"}
        for metrics in methods.values():
            assert 0.0 <= metrics["phase_rmse_pct"] <= 50.0
            assert metrics["mode_accuracy"] == pytest.approx(metrics["mode_accuracy"])  # not NaN: modes labelled
            assert metrics["n_samples"] == 400 - 15  # one held-out 2-s recording, scored from its first full window
    # the round's federated evaluation (ClientApp evaluate, aggregated by FedAvg weighted by test samples) is the
    # same model scored on the same recordings as the per-site federated figures
    evaluated = result.federation["rounds"]["1"]["evaluate"]
    per_site = [m["federated"]["phase_rmse_pct"] for m in result.sites.values()]
    assert evaluated["phase_rmse_pct"] == pytest.approx(np.mean(per_site), rel=1e-6)
    assert result.federation["privacy"] is None
    # each site's fine-tuning moved the global model: its personalised figures are its own
    assert all(m["personalised"]["phase_rmse_pct"] != m["federated"]["phase_rmse_pct"] for m in result.sites.values())
    assert result.federated_over_centralised == pytest.approx(
        result.pooled["federated"]["phase_rmse_pct"] / result.pooled["centralised"]["phase_rmse_pct"]
    )


def test_dp_run_reports_epsilon(tiny_hipexo: Path, tiny_config) -> None:
    pytest.importorskip("dp_accounting")
    dp = DPConfig(noise_multiplier=1.0, clipping_norm=5.0, target_delta=1e-3)
    result = run_federated_simulation(tiny_hipexo, 2, 1, config=tiny_config, test_every=2, dp=dp, baselines=False)
    privacy = result.federation["privacy"]
    assert privacy["releases"] == 1
    assert 0 < privacy["epsilon"] < math.inf
    assert set(result.pooled) == {"federated", "personalised"}
    summary = result.to_dict()  # without baselines there is nothing to compare with, and it says so
    assert summary["federated_over_centralised"] is None and summary["sites_better_than_local"] == []


def test_server_optimiser_run_reports_its_settings(tiny_hipexo: Path, tiny_config) -> None:
    result = run_federated_simulation(
        tiny_hipexo, 2, 2, config=tiny_config, test_every=2, strategy="fedavgm", server_learning_rate=0.7,
        server_momentum=0.3, baselines=False,
    )  # fmt: skip
    assert result.config["strategy"] == "fedavgm"
    assert (result.config["server_learning_rate"], result.config["server_momentum"]) == (0.7, 0.3)
    assert result.federation["strategy"] == "fedavgm" and set(result.federation["rounds"]) == {"1", "2"}
    ends = [result.federation["rounds"][n]["train"]["last_learning_rate"] for n in ("1", "2")]  # type: ignore[index]
    assert ends[0] > 10 * ends[1] and ends[1] < tiny_config.learning_rate / 25  # one schedule over the rounds
    for methods in result.sites.values():
        assert 0.0 <= methods["federated"]["phase_rmse_pct"] <= 50.0


def test_fedadam_global_model_stays_float32(tiny_hipexo: Path, tiny_config) -> None:
    # FedAdam steps in float64 on the server; the global model that sites and exports get is float32 like the model
    node_configs = [{"data-dir": str(tiny_hipexo), "subjects": s, "test-every": 2} for s in ("AB01", "AB02")]
    server = {"strategy": "fedadam", "server-learning-rate": 0.02}
    summary, weights = simulate._run_server(node_configs, tiny_config, 2, 1, server, None)
    assert summary["strategy"] == "fedadam"
    assert {w.dtype for w in weights} == {np.dtype(np.float32)}


def test_site_replies_carry_weights_and_metrics_only(tiny_hipexo: Path, tiny_config) -> None:
    # Prepare: the global model as the server sends it, to the site holding AB02
    context = Context(1, 2, UserConfig({"data-dir": str(tiny_hipexo), "subjects": "AB02", "test-every": 2}),
                      RecordDict(), UserConfig())  # fmt: skip
    site = task.load_site(context.node_config)
    weights = task.initial_weights(tiny_config, [task.input_statistics(site)])
    config = task.config_to_record(tiny_config)
    config["server-round"] = 1
    with server_identity(run_id=1):
        message = Message(RecordDict({"arrays": ArrayRecord(weights), "config": config}), 2, MessageType.TRAIN)
    # Execute
    reply = client_app(message, context)
    # Assert: new weights of the same shapes and scalar metrics; no recording leaves the site
    assert set(reply.content.keys()) == {"arrays", "metrics"}
    new = reply.content["arrays"].to_numpy_ndarrays()
    assert [w.shape for w in new] == [w.shape for w in weights]
    assert any(not np.array_equal(a, b) for a, b in zip(new, weights, strict=True))
    assert reply.content["metrics"]["num-examples"] == len(range(15, 400, 4))  # one training recording, step 4
    assert all(isinstance(value, float) for value in reply.content["metrics"].values())


def test_input_statistics_give_the_pooled_normaliser(tiny_hipexo: Path, tiny_config) -> None:
    sites = [task.load_site({"data-dir": str(tiny_hipexo), "subjects": s, "test-every": 2}) for s in ("AB01", "AB02")]
    weights = task.initial_weights(tiny_config, [task.input_statistics(site) for site in sites])
    pooled = np.concatenate([r for site in sites for subject in site.train for r in subject.inputs])
    training = pytest.importorskip("exohub.ml.training")
    model = training.make_model(tiny_config)
    training.set_weights(model, weights)
    np.testing.assert_allclose(model.normaliser.mean.numpy(), pooled.mean(axis=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.normaliser.sd.numpy(), pooled.std(axis=0), rtol=1e-4)


def test_recordings_split_every_kth_to_test(tiny_hipexo: Path) -> None:
    site = task.load_site({"data-dir": str(tiny_hipexo), "subjects": "AB01", "test-every": 2})
    assert [len(s.inputs) for s in site.train] == [1] and [len(s.inputs) for s in site.test] == [1]
    with pytest.raises(ValidationError, match="test-every must be at least 2"):
        task.split_recordings(site.train[0], 1)
    with pytest.raises(ValidationError, match="needs 2 to train and test"):
        task.split_recordings(site.train[0], 4)
    with pytest.raises(ValidationError, match="data-dir"):
        task.load_site({"subjects": "AB01"})


def test_sites_get_contiguous_subject_groups(tiny_hipexo: Path) -> None:
    assert assign_sites(tiny_hipexo, 1) == [("AB01", "AB02")]
    assert assign_sites(tiny_hipexo, 2) == [("AB01",), ("AB02",)]
    with pytest.raises(ValidationError, match="cannot make 3 site"):
        assign_sites(tiny_hipexo, 3)


def test_round_config_round_trips_and_offsets_seed(tiny_config) -> None:
    record = task.config_to_record(tiny_config)
    record["proximal-mu"] = 0.5
    config = task.config_from_record(ConfigRecord(dict(record)), server_round=2)
    assert config.proximal_mu == 0.5 and config.seed == tiny_config.seed + 2000 and config.cycle_round == 2
    assert config.window == tiny_config.window and config.channels == tiny_config.channels
    del record["window"]
    with pytest.raises(ValidationError, match="lacks window"):
        task.config_from_record(record)


def test_cli_simulate_prints_json(tiny_hipexo: Path) -> None:
    args = ["federated", "simulate", "--data", str(tiny_hipexo), "--sites", "2", "--rounds", "1", "--epochs", "1"]
    result = CliRunner().invoke(cli, [*args, "--window", "16", "--step", "8", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload["sites"]) == {"AB01", "AB02"}
    assert payload["federated_over_centralised"] > 0


def test_cli_simulate_prints_a_table_with_the_targets(tiny_hipexo: Path) -> None:
    args = ["federated", "simulate", "--data", str(tiny_hipexo), "--sites", "2", "--rounds", "1", "--epochs", "1"]
    result = CliRunner().invoke(cli, [*args, "--window", "16", "--step", "8", "--strategy", "fedprox"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["site", "federated", "personal", "central", "local"]
    assert [line.split()[0] for line in lines[1:3]] == ["AB01", "AB02"]
    assert "federated / centralised RMSE:" in result.stdout
    assert "sites better than local-only:" in result.stdout and "(personalised:" in result.stdout


def test_cli_simulate_passes_server_optimiser_settings(tiny_hipexo: Path) -> None:
    args = ["federated", "simulate", "--data", str(tiny_hipexo), "--sites", "2", "--rounds", "1", "--epochs", "1"]
    server = ["--strategy", "fedavgm", "--server-lr", "0.8", "--server-momentum", "0.2"]
    result = CliRunner().invoke(cli, [*args, "--window", "16", "--step", "8", *server, "--json"])
    assert result.exit_code == 0, result.output
    config = json.loads(result.stdout)["config"]
    assert (config["strategy"], config["server_learning_rate"], config["server_momentum"]) == ("fedavgm", 0.8, 0.2)
    refused = CliRunner().invoke(cli, [*args, "--window", "16", "--server-lr", "0.8"])
    assert refused.exit_code == 1
    assert "fedavg has no server learning rate" in refused.output


def test_cli_simulate_rejects_too_many_sites(tiny_hipexo: Path) -> None:
    args = ["federated", "simulate", "--data", str(tiny_hipexo), "--sites", "5", "--rounds", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "cannot make 5 site(s)" in result.output
