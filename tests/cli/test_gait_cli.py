"""``exohub gait events|phase|report`` on a recording in the CSV convention, and their errors without tracebacks."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from exohub.cli.main import app
from exohub.signals import write_recording
from tests.signals.test_gait import N_STRIDES, RATE_HZ, _contacts, _walk

runner = CliRunner()


@pytest.fixture
def walk_csv(tmp_path: Path) -> Path:
    return write_recording(_walk(), tmp_path / "walk.csv")


def test_events_writes_side_event_time(walk_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "events.csv"
    result = runner.invoke(app, ["gait", "events", str(walk_csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"left: {N_STRIDES} initial contacts from switch" in result.output
    events = pd.read_csv(out)
    assert list(events.columns) == ["side", "event", "time_s"]
    assert set(events["event"]) == {"initial_contact", "final_contact"}
    left = events.query("side == 'left' and event == 'initial_contact'")["time_s"].to_numpy()
    np.testing.assert_allclose(left, _contacts("left"), atol=1 / RATE_HZ)


@pytest.mark.parametrize("causal", [False, True])
def test_phase_writes_both_legs_in_unit_interval(walk_csv: Path, tmp_path: Path, causal: bool) -> None:
    out = tmp_path / "phase.csv"
    result = runner.invoke(app, ["gait", "phase", str(walk_csv), "--out", str(out), *(["--causal"] if causal else [])])
    assert result.exit_code == 0, result.output
    phase = pd.read_csv(out)
    assert list(phase.columns) == ["time_s", "left_phase", "right_phase"]
    values = phase[["left_phase", "right_phase"]].to_numpy()
    assert np.isfinite(values).mean() > 0.8
    assert np.nanmin(values) >= 0.0 and np.nanmax(values) < 1.0


def test_report_prints_text_and_json(walk_csv: Path) -> None:
    text = runner.invoke(app, ["gait", "report", str(walk_csv)])
    assert text.exit_code == 0, text.output
    assert "cadence" in text.output and "stride time (s)" in text.output
    as_json = runner.invoke(app, ["gait", "report", str(walk_csv), "--json"])
    assert json.loads(as_json.output)["summary"]["step_count"] > 2 * N_STRIDES - 4


def test_bad_input_is_one_line_naming_file_and_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,left_hip_angle\n0.0,0.1\n0.01,0.2\n0.005,0.3\n")
    out = tmp_path / "events.csv"
    result = runner.invoke(app, ["gait", "events", str(bad), "--out", str(out)])
    assert result.exit_code == 1
    assert "bad.csv" in result.output and "increasing" in result.output
    assert "Traceback" not in result.output and not out.exists()
