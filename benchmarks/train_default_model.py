"""Train the default gait-phase/mode model, score it leave-subjects-out, and time ONNX inference per tick.

    .venv/bin/python benchmarks/train_default_model.py                       # all 6 subjects -> exohub-data/models
    .venv/bin/python benchmarks/train_default_model.py --held-out AB01,AB04  # LOSO folds: train on 5, score the 6th
    .venv/bin/python benchmarks/train_default_model.py --latency-only --out MODEL.onnx
    .venv/bin/python benchmarks/train_default_model.py --held-out AB02 --set mirror=false --set time_warp=0  # ablation

Each held-out subject is one fold (trained on the other five, exported to ``<out folder>/folds/without_<S>.onnx``
and scored through that ONNX model, causally, in the labels' phase definition). Latency: ``OnnxGaitModel.step``
called at 200 Hz and 1 kHz (one session.run on a (1, window, C) float32 window per tick, onnxruntime on one thread).
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import torch
from onnx import TensorProto, helper

from exohub.ml.data import INPUT_CHANNELS, load_hipexo_subjects
from exohub.ml.evaluation import evaluate
from exohub.ml.export import OnnxGaitModel, export_onnx
from exohub.ml.training import TrainConfig, fit_model

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "hipexo_gait_phase")
    parser.add_argument("--out", type=Path, default=ROOT / "exohub-data" / "models" / "gait_phase.onnx")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--held-out", default="", help="Comma-separated subjects, one LOSO fold each ('all': 6).")
    parser.add_argument("--latency-only", action="store_true", help="Only time the model at --out.")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument(
        "--set", action="append", default=[], metavar="FIELD=VALUE", help="Override a TrainConfig field."
    )
    args = parser.parse_args()
    torch.set_num_threads(2)
    results: dict = {"load_average_start": os.getloadavg()}
    if not args.latency_only:
        data = load_hipexo_subjects(args.data)
        config = TrainConfig(epochs=args.epochs, **_overrides(args.set))
        results["config"] = config.to_dict()
        print(f"config: {config}", flush=True)
        held_out = list(data) if args.held_out == "all" else [s for s in args.held_out.split(",") if s]
        if held_out:
            folds_dir = args.out.parent / "folds"
            results["folds"] = {}
            for subject in held_out:  # each fold printed (and saved) as it ends: a long run can be stopped early
                results["folds"][subject] = _fold(data, subject, config, folds_dir)
                _print_folds({subject: results["folds"][subject]})
                if args.json:
                    args.json.write_text(json.dumps(results, indent=2))
            _print_folds(results["folds"])
        else:
            start = time.perf_counter()
            model, metrics = fit_model(list(data.values()), config, on_epoch=_progress(time.perf_counter()))
            export_onnx(model, args.out, config=config)
            results["training"] = {**metrics, "wall_s": time.perf_counter() - start, "subjects": list(data)}
            print(f"Trained on {', '.join(data)} in {results['training']['wall_s']:.0f} s -> {args.out}")
    if not held_out_only(args):
        results["latency_us"] = {f"{rate:g} Hz": _latency(args.out, rate) for rate in (200.0, 1000.0)}
        for rate, stats in results["latency_us"].items():
            print(
                f"step at {rate}: median {stats['median']:.1f} us, p99 {stats['p99']:.1f} us, "
                f"max {stats['max']:.0f} us; one-node reference model: median {stats['reference_median']:.1f} us, "
                f"p99 {stats['reference_p99']:.1f} us"
            )
    results["load_average_end"] = os.getloadavg()
    print(f"load average (1, 5, 15 min) at start {results['load_average_start']}, at end {results['load_average_end']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def _overrides(assignments: list[str]) -> dict:
    """``["mirror=false", "time_warp=0.1"]`` -> TrainConfig keyword arguments of the fields' own types."""
    kinds = {field.name: type(getattr(TrainConfig(), field.name)) for field in fields(TrainConfig)}
    values: dict = {}
    for assignment in assignments:
        name, _, text = assignment.partition("=")
        if name not in kinds or not text:
            raise SystemExit(f"--set expects FIELD=VALUE with FIELD one of {', '.join(kinds)}; got {assignment!r}.")
        values[name] = text.lower() in ("1", "true", "yes") if kinds[name] is bool else kinds[name](text)
    return values


def held_out_only(args: argparse.Namespace) -> bool:
    return bool(args.held_out) and not args.latency_only


def _progress(start: float) -> Callable[[int, dict[str, float]], None]:
    def report(epoch: int, losses: dict[str, float]) -> None:
        print(f"  epoch {epoch}: loss {losses['loss']:.4f}, {time.perf_counter() - start:.0f} s", flush=True)

    return report


def _fold(data: dict, held_out: str, config: TrainConfig, folder: Path) -> dict:
    start = time.perf_counter()
    training = [subject for name, subject in data.items() if name != held_out]
    print(f"fold {held_out}: training on {len(training)} subjects", flush=True)
    model, metrics = fit_model(training, config, on_epoch=_progress(start))
    onnx_model = OnnxGaitModel(export_onnx(model, folder / f"without_{held_out}.onnx", config=config))
    scores = evaluate(onnx_model, data[held_out], window=config.window)
    return {**scores, "train_s": metrics["seconds"], "wall_s": time.perf_counter() - start}


def _print_folds(folds: dict) -> None:
    print(f"{'held out':<9}{'phase %':>8}{'left':>7}{'right':>7}{'mode %':>8}{'steady':>8}{'transit':>9}{'delay s':>9}")
    for name, s in folds.items():
        print(
            f"{name:<9}{s['phase_rmse_pct']:>8.2f}{s['phase_rmse_pct_left']:>7.2f}{s['phase_rmse_pct_right']:>7.2f}"
            f"{100 * s['mode_accuracy']:>8.1f}{100 * s['mode_accuracy_steady']:>8.1f}"
            f"{100 * s['mode_accuracy_transition']:>9.1f}{s['mode_decision_delay_s']:>9.3f}"
        )
    mean = {key: statistics.fmean(s[key] for s in folds.values()) for key in next(iter(folds.values()))}
    print(f"{'mean':<9}{mean['phase_rmse_pct']:>8.2f}{'':>14}{100 * mean['mode_accuracy']:>8.1f}"
          f"{100 * mean['mode_accuracy_steady']:>8.1f}{100 * mean['mode_accuracy_transition']:>9.1f}")  # fmt: skip


def _latency(path: Path, rate_hz: float, seconds: float = 5.0) -> dict[str, float]:
    """Call ``step`` at ``rate_hz`` on a paced clock (busy-waiting to each deadline) and time each call.

    The same pacing also times a one-node ONNX model (a multiply of the window by 2, same session options) as the
    ``reference_*`` figures: what any onnxruntime call costs on this machine at this rate. On this project's
    virtual machines the first calls after an idle millisecond are several times slower than back-to-back ones
    (a numpy multiply of the window: 1 us back to back, 35-50 us after 5 ms of waiting, measured as CPU time of
    the thread), so at 200 Hz the gap between the two is the network's own share.
    """
    model = OnnxGaitModel(path)
    rng = np.random.default_rng(0)
    samples = rng.normal(0.0, 1.0, (int(seconds * rate_hz), len(INPUT_CHANNELS))).astype(np.float32)
    for i in range(model.window):  # fill the ring: every timed tick runs the network
        model.step(i / rate_hz, samples[i % len(samples)])
    timings = _paced(lambda i: model.step(i / rate_hz, samples[i]), rate_hz, len(samples))
    reference = _reference_session(path.parent / "reference_mul.onnx", model.window, len(INPUT_CHANNELS))
    window = np.ascontiguousarray(samples[None, : model.window])
    reference_timings = _paced(lambda _: reference.run(None, {"x": window}), rate_hz, len(samples))
    return {
        **_summary(timings),
        **{f"reference_{key}": value for key, value in _summary(reference_timings).items()},
    }


def _paced(call: Callable[[int], object], rate_hz: float, n: int) -> np.ndarray:
    """Microseconds of ``call(i)`` for ``i`` in ``range(n)``, each started on a ``rate_hz`` clock."""
    durations = np.empty(n)
    period_ns, next_ns = int(1e9 / rate_hz), time.perf_counter_ns()
    for i in range(n):
        next_ns += period_ns
        while time.perf_counter_ns() < next_ns:
            pass
        begin = time.perf_counter_ns()
        call(i)
        durations[i] = time.perf_counter_ns() - begin
    return durations / 1e3


def _summary(us: np.ndarray) -> dict[str, float]:
    return {"median": float(np.median(us)), "p99": float(np.percentile(us, 99)), "max": float(us.max())}


def _reference_session(path: Path, window: int, n_channels: int) -> onnxruntime.InferenceSession:
    """A session of ``y = 2 x`` on one ``(1, window, C)`` window, single-threaded like :class:`OnnxGaitModel`'s."""
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["y"])],
        "reference_mul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, window, n_channels])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, window, n_channels])],
        [helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


if __name__ == "__main__":
    sys.exit(main())
