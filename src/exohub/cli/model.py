"""``exohub model``: train the gait-phase/locomotion-mode model on the hip-exo layout and score it on subjects."""

import json
import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from exohub.cli._errors import user_errors

app = typer.Typer(help="Learned gait-phase and locomotion-mode models: train, evaluate.", no_args_is_help=True)

DataDir = Annotated[
    Path, typer.Option("--data", help="Folder with one sub-folder per subject holding labeled_*.txt.gz.")
]
SubjectsOption = Annotated[
    str | None, typer.Option("--subjects", help="Comma-separated subject folders (default: all).")
]
MaxFiles = Annotated[
    int | None, typer.Option("--max-files", min=1, help="Use only the first files of each subject (quick runs).")
]


#: Help of the training options that default to :class:`~exohub.ml.training.TrainConfig`'s values (not repeated
#: here, so `exohub model train` and `make model` train the same model; the ml layer is imported only when used).
_DEFAULT_HELP = "{} (default: the default model's)."


def _subjects(value: str | None) -> list[str] | None:
    return None if value is None else [name.strip() for name in value.split(",") if name.strip()]


@app.command("train")
@user_errors
def train_command(
    data: DataDir,
    out: Annotated[Path, typer.Option("--out", help="ONNX file to write.")],
    epochs: Annotated[
        int | None, typer.Option("--epochs", min=1, help=_DEFAULT_HELP.format("Passes over the windows"))
    ] = None,
    subjects: SubjectsOption = None,
    window: Annotated[
        int | None, typer.Option("--window", min=8, help=_DEFAULT_HELP.format("Samples per window"))
    ] = None,
    step: Annotated[
        int | None, typer.Option("--step", min=1, help=_DEFAULT_HELP.format("Samples between windows"))
    ] = None,
    channels: Annotated[
        int | None, typer.Option("--channels", min=1, help=_DEFAULT_HELP.format("Feature maps"))
    ] = None,
    hidden: Annotated[int | None, typer.Option("--hidden", min=1, help=_DEFAULT_HELP.format("Head units"))] = None,
    seed: Annotated[int | None, typer.Option("--seed", help=_DEFAULT_HELP.format("Seed of weights, shuffling"))] = None,
    max_files: MaxFiles = None,
    threads: Annotated[int, typer.Option("--threads", min=1, help="torch CPU threads.")] = 2,
) -> None:
    """Train the causal phase/mode model on the subjects' recordings and export it to ONNX."""
    import torch

    from exohub.ml.data import load_hipexo_subjects
    from exohub.ml.export import export_onnx
    from exohub.ml.training import TrainConfig, fit_model

    torch.set_num_threads(threads)
    loaded = load_hipexo_subjects(data, subjects=_subjects(subjects), max_files_per_subject=max_files)
    given: dict[str, Any] = {
        "epochs": epochs,
        "window": window,
        "step": step,
        "channels": channels,
        "hidden": hidden,
        "seed": seed,
    }
    config = TrainConfig(**{name: value for name, value in given.items() if value is not None})
    typer.echo(f"Training on {', '.join(loaded)} ({sum(s.n_samples for s in loaded.values())} samples).")
    start = time.perf_counter()

    def progress(epoch: int, losses: dict[str, float]) -> None:
        typer.echo(
            f"epoch {epoch}/{config.epochs}: loss {losses['loss']:.4f} (phase {losses['phase_loss']:.4f}, "
            f"mode {losses['mode_loss']:.4f}), {time.perf_counter() - start:.0f} s"
        )

    model, metrics = fit_model(list(loaded.values()), config, on_epoch=progress)
    export_onnx(model, out, config=config)
    typer.echo(f"Wrote {out} ({int(metrics['n_windows'])} windows, {time.perf_counter() - start:.0f} s).")


@app.command("evaluate")
@user_errors
def evaluate_command(
    model: Annotated[Path, typer.Option("--model", help="ONNX model written by `exohub model train`.")],
    data: DataDir,
    subjects: SubjectsOption = None,
    max_files: MaxFiles = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Print each subject's phase RMSE (% of the gait cycle, per leg) and locomotion-mode accuracy."""
    from exohub.ml.data import load_hipexo_subjects
    from exohub.ml.evaluation import evaluate
    from exohub.ml.export import OnnxGaitModel

    onnx_model = OnnxGaitModel(model)
    loaded = load_hipexo_subjects(data, subjects=_subjects(subjects), max_files_per_subject=max_files)
    scores = {name: evaluate(onnx_model, subject, window=onnx_model.window) for name, subject in loaded.items()}
    summary = {
        "model": str(model),
        "phase_definition": onnx_model.phase_definition,
        "subjects": scores,
        "mean_phase_rmse_pct": _mean(score["phase_rmse_pct"] for score in scores.values()),
        "mean_mode_accuracy": _mean(score["mode_accuracy"] for score in scores.values()),
        "mean_mode_accuracy_steady": _mean(score["mode_accuracy_steady"] for score in scores.values()),
        "mean_mode_accuracy_transition": _mean(score["mode_accuracy_transition"] for score in scores.values()),
    }
    typer.echo(json.dumps(_json_safe(summary), indent=2) if as_json else _table(summary))


def _mean(values: object) -> float:
    finite = [value for value in values if math.isfinite(value)]  # type: ignore[attr-defined]
    return sum(finite) / len(finite) if finite else math.nan


def _json_safe(value: object) -> object:
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _table(summary: dict[str, Any]) -> str:
    lines = [
        f"Phase ({summary['phase_definition']}): circular RMSE in % of the gait cycle; mode accuracy in %.",
        f"{'subject':<9}{'phase':>7}{'left':>7}{'right':>7}{'mode':>7}{'steady':>8}{'transit':>9}{'delay s':>9}",
    ]
    for name, s in summary["subjects"].items():
        lines.append(
            f"{name:<9}{s['phase_rmse_pct']:>7.2f}{s['phase_rmse_pct_left']:>7.2f}{s['phase_rmse_pct_right']:>7.2f}"
            f"{100 * s['mode_accuracy']:>7.1f}{100 * s['mode_accuracy_steady']:>8.1f}"
            f"{100 * s['mode_accuracy_transition']:>9.1f}{s['mode_decision_delay_s']:>9.2f}"
        )
    lines.append(
        f"{'mean':<9}{summary['mean_phase_rmse_pct']:>7.2f}{'':>14}{100 * summary['mean_mode_accuracy']:>7.1f}"
        f"{100 * summary['mean_mode_accuracy_steady']:>8.1f}{100 * summary['mean_mode_accuracy_transition']:>9.1f}"
    )
    return "\n".join(lines)
