"""``exohub model train|evaluate`` and ``exohub gait phase --model`` on a tiny synthetic hip-exo data set."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from exohub.cli.main import app
from exohub.signals import write_recording
from exohub.signals.datasets import load_hipexo
from tests.ml.test_data import write_synthetic_hipexo

runner = CliRunner()
TINY = ["--window", "32", "--channels", "8", "--epochs", "1", "--step", "4", "--threads", "1"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("model_cli")
    data = write_synthetic_hipexo(root / "data", seconds_per_mode=3.0)
    out = root / "models" / "tiny.onnx"
    result = runner.invoke(
        app, ["model", "train", "--data", str(data), "--out", str(out), "--subjects", "AB01,AB02", *TINY]
    )
    assert result.exit_code == 0, result.output
    assert "Training on AB01, AB02" in result.output and "epoch 1/1" in result.output
    return data, out


def test_train_writes_an_onnx_model(trained: tuple[Path, Path]) -> None:
    assert trained[1].stat().st_size > 1000


def test_evaluate_json_per_subject(trained: tuple[Path, Path]) -> None:
    data, model = trained
    result = runner.invoke(app, ["model", "evaluate", "--model", str(model), "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert list(report["subjects"]) == ["AB01", "AB02", "AB03"]
    scores = report["subjects"]["AB03"]
    assert 0.0 < scores["phase_rmse_pct"] < 50.0 and 0.0 <= scores["mode_accuracy"] <= 1.0
    mean = np.mean([s["phase_rmse_pct"] for s in report["subjects"].values()])
    assert report["mean_phase_rmse_pct"] == pytest.approx(mean)
    assert 0.0 <= report["mean_mode_accuracy"] <= 1.0


def test_evaluate_text_table(trained: tuple[Path, Path]) -> None:
    data, model = trained
    result = runner.invoke(app, ["model", "evaluate", "--model", str(model), "--data", str(data), "--subjects", "AB03"])
    assert result.exit_code == 0, result.output
    assert "maximum hip extension" in result.output
    assert result.output.splitlines()[2].startswith("AB03") and result.output.splitlines()[3].startswith("mean")


def test_gait_phase_with_model_runs_causally(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = trained
    csv = write_recording(load_hipexo(data / "AB03" / "labeled_CW_ZI_1.txt.gz"), tmp_path / "walk.csv")
    out = tmp_path / "phase.csv"
    result = runner.invoke(app, ["gait", "phase", str(csv), "--out", str(out), "--causal", "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert "causal" in result.output and "maximum hip extension" in result.output
    phase = pd.read_csv(out)
    assert list(phase.columns) == ["time_s", "left_phase", "right_phase"]
    assert phase["left_phase"].iloc[:31].isna().all() and phase["left_phase"].iloc[31:].notna().all()
    values = phase[["left_phase", "right_phase"]].iloc[31:].to_numpy()
    assert np.all((values >= 0.0) & (values < 1.0))


def test_gait_phase_with_model_needs_causal_and_the_channels(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = trained
    recording = load_hipexo(data / "AB03" / "labeled_CW_ZI_1.txt.gz").drop(["pelvis_gyr_z"])
    csv = write_recording(recording, tmp_path / "walk.csv")
    result = runner.invoke(app, ["gait", "phase", str(csv), "--out", str(tmp_path / "p.csv"), "--model", str(model)])
    assert result.exit_code == 1 and "add --causal" in result.output
    args = ["gait", "phase", str(csv), "--out", str(tmp_path / "p.csv"), "--causal", "--model", str(model)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "pelvis_gyr_z" in result.output and "Traceback" not in result.output


def test_evaluate_reports_a_missing_model(tmp_path: Path) -> None:
    result = runner.invoke(app, ["model", "evaluate", "--model", str(tmp_path / "no.onnx"), "--data", str(tmp_path)])
    assert result.exit_code == 1 and "does not exist" in result.output
