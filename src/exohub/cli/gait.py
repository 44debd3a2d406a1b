"""``exohub gait``: gait events, continuous phase and the gait report of a recording in any supported format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from exohub._utils import atomic_path
from exohub.cli._errors import user_errors
from exohub.exceptions import ValidationError

# The readers and the gait algorithms (pandas, scipy) are imported by the commands, not by `exohub --help`.
if TYPE_CHECKING:
    import pandas as pd

app = typer.Typer(
    help="Gait events, phase and metrics from a recording (CSV convention, Parquet, C3D, XDF, EDF/BDF).",
    no_args_is_help=True,
)

Input = Annotated[Path, typer.Argument(help="The recording: .csv, .parquet, .c3d, .xdf, .edf or .bdf.")]
Output = Annotated[Path, typer.Option("--out", help="CSV file to write.")]


@app.command("events")
@user_errors
def events_command(path: Input, out: Output) -> None:
    """Write the initial and final contacts as ``side,event,time_s``."""
    from exohub.signals import read_recording
    from exohub.signals.gait import detect_gait_events

    gait_events = detect_gait_events(read_recording(path))
    _write_csv(gait_events.events, out, index=False)
    for side, source in gait_events.sources.items():
        typer.echo(f"{side}: {len(gait_events.initial_contacts_s(side))} initial contacts from {source.kind}")
    typer.echo(f"Wrote {len(gait_events.events)} events to {out}.")


@app.command("phase")
@user_errors
def phase_command(
    path: Input,
    out: Output,
    causal: Annotated[
        bool, typer.Option("--causal", help="Only use the past at each sample, as a device must.")
    ] = False,
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Use this ONNX gait model (from `exohub model train`) instead of events; needs --causal. Its phase "
            "is the hip-exo labels' (0 = maximum hip extension), not initial contact.",
        ),
    ] = None,
) -> None:
    """Write continuous gait phase as ``time_s,left_phase,right_phase`` in [0, 1); empty where not walking."""
    if model is not None:
        _model_phase(path, out, model, causal=causal)
        return
    from exohub.signals import read_recording
    from exohub.signals.gait import estimate_gait_phase

    gait_phase = estimate_gait_phase(read_recording(path), causal=causal)
    # Six decimals, truncated rather than rounded so that a phase just below 1 is not written as 1.
    _write_csv(gait_phase.phase.mul(1e6).floordiv(1.0).div(1e6), out, index=True)
    typer.echo(f"Phase ({gait_phase.definition}) at {gait_phase.sampling_rate_hz:g} Hz written to {out}.")


@app.command("report")
@user_errors
def report_command(
    path: Input, as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False
) -> None:
    """Print the gait metrics: steps, walking time, cadence, stride and step time, stance, symmetry, ROM, EMG."""
    from exohub.signals import read_recording
    from exohub.signals.gait import analyse_gait

    analysis = analyse_gait(read_recording(path))
    typer.echo(json.dumps(analysis.to_dict(), indent=2) if as_json else analysis.to_text())


def _model_phase(path: Path, out: Path, model_path: Path, *, causal: bool) -> None:
    """Run an ONNX gait model over the recording causally (each sample sees only its past window)."""
    import pandas as pd

    from exohub.ml.evaluation import predict_recording
    from exohub.ml.export import OnnxGaitModel
    from exohub.signals import read_recording

    if not causal:
        raise ValidationError("--model runs the model causally, as on the device; add --causal.")
    model = OnnxGaitModel(model_path)
    recording = read_recording(path)
    missing = [name for name in model.input_channels if name not in recording.channels]
    if missing:
        raise ValidationError(f"{path}: the model needs channel(s) {', '.join(missing)}, which the recording lacks.")
    inputs = recording.get(list(model.input_channels))
    rates = {recording.sampling_rate_hz(name) for name in model.input_channels}
    if any(abs(rate / model.sampling_rate_hz - 1.0) > 0.01 for rate in rates):
        raise ValidationError(
            f"{path}: the model's channels are at {sorted(rates)} Hz; it was trained at {model.sampling_rate_hz:g} "
            "Hz (resample the recording first)."
        )
    phase, _ = predict_recording(model, inputs.to_numpy(dtype="float32"), window=model.window)
    frame = pd.DataFrame(phase, index=inputs.index, columns=["left_phase", "right_phase"])
    _write_csv(frame.mul(1e6).floordiv(1.0).div(1e6), out, index=True)
    typer.echo(
        f"Phase from model {model_path.name} (causal, {model.window}-sample window; {model.phase_definition}; "
        f"not initial contact) at {model.sampling_rate_hz:g} Hz written to {out}."
    )


def _write_csv(frame: pd.DataFrame, out: Path, *, index: bool) -> None:
    with atomic_path(out) as temporary:
        frame.to_csv(temporary, index=index, float_format="%.6f", na_rep="")
