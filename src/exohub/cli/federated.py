"""``exohub federated``: federated training across clinic sites, simulated here and compared with the baselines."""

import json
import logging
import math
from pathlib import Path
from typing import Annotated

import typer

from exohub.cli._errors import user_errors

app = typer.Typer(help="Federated training across clinic sites (Flower): simulate.", no_args_is_help=True)


@app.command("simulate")
@user_errors
def simulate_command(
    data: Annotated[
        Path, typer.Option("--data", help="Hip-exo layout: one folder per subject with labeled_*.txt.gz files.")
    ],
    sites: Annotated[int, typer.Option("--sites", min=1, help="Clinic sites; subjects are split among them.")],
    rounds: Annotated[int, typer.Option("--rounds", min=1, help="Federated rounds.")],
    strategy: Annotated[
        str, typer.Option("--strategy", help="fedavg, fedprox, fedavgm, fedadam, fedyogi or fedadagrad.")
    ] = "fedavg",
    proximal_mu: Annotated[float, typer.Option("--proximal-mu", min=0.0, help="FedProx's mu.")] = 0.01,
    server_lr: Annotated[
        float | None,
        typer.Option("--server-lr", help="Server learning rate of the server optimisers (default: per strategy)."),
    ] = None,
    server_momentum: Annotated[
        float | None, typer.Option("--server-momentum", help="FedAvgM's server momentum (default 0.5).")
    ] = None,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="Local epochs per round.")] = 2,
    window: Annotated[int, typer.Option("--window", min=8, help="Model window (samples).")] = 256,
    step: Annotated[int, typer.Option("--step", min=1, help="Samples between training windows.")] = 3,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Windows per optimiser step.")] = 256,
    max_files: Annotated[
        int, typer.Option("--max-files", min=0, help="Recordings per subject (0 = all; a few for a quick run).")
    ] = 0,
    dp_noise: Annotated[
        float, typer.Option("--dp-noise", min=0.0, help="DP noise multiplier (0 = no differential privacy).")
    ] = 0.0,
    dp_clip: Annotated[float, typer.Option("--dp-clip", min=0.0, help="DP clipping norm of a site's update.")] = 1.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of weights and shuffling.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Federate the sites in this process; print federated, centralised and local-only results per site."""
    from exohub.federated import DPConfig, run_federated_simulation
    from exohub.ml.training import TrainConfig

    logging.getLogger("flwr").setLevel(logging.WARNING)
    config = TrainConfig(window=window, epochs=epochs, step=step, batch_size=batch_size, seed=seed)
    result = run_federated_simulation(
        data,
        sites,
        rounds,
        config=config,
        strategy=strategy,
        proximal_mu=proximal_mu,
        server_learning_rate=server_lr,
        server_momentum=server_momentum,
        dp=DPConfig(dp_noise, dp_clip) if dp_noise > 0 else None,
        max_files_per_subject=max_files or None,
    )
    if as_json:
        typer.echo(json.dumps(_finite(result.to_dict()), indent=2))
        return
    headers = " ".join(f"{name:>10}" for name in ("federated", "personal", "central", "local"))
    typer.echo(f"{'site':<16} {headers}   phase RMSE % (mode accuracy %)")
    rows = [*result.sites.items(), ("all sites", result.pooled)]
    for name, methods in rows:
        cells = " ".join(f"{_cell(methods[m]):>10}" for m in ("federated", "personalised", "centralised", "local"))
        typer.echo(f"{name:<16} {cells}")
    typer.echo(f"\nfederated / centralised RMSE: {result.federated_over_centralised:.3f} (target <= 1.05)")
    better = result.sites_better_than_local
    personal = result.personalised_sites_better_than_local
    typer.echo(f"sites better than local-only: {len(better)} of {len(result.sites)} (personalised: {len(personal)})")
    privacy = result.federation.get("privacy")
    if isinstance(privacy, dict):
        typer.echo(f"differential privacy: epsilon {privacy['epsilon']:.2f} at delta {privacy['delta']:g} (RDP)")


def _cell(metrics: dict[str, float]) -> str:
    return f"{metrics['phase_rmse_pct']:.2f} ({100 * metrics['mode_accuracy']:.0f})"


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value
