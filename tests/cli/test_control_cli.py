"""``exohub control run|bench|faults`` on the small fixture, short and (where possible) on the simulated clock."""

import json
from pathlib import Path

from typer.testing import CliRunner

from exohub.cli.main import app
from exohub.signals import read_recording

FIXTURE = Path(__file__).parents[1] / "data" / "synthetic_hip_walk.csv"
runner = CliRunner()


def test_run_writes_a_session_with_the_injected_fault(tmp_path) -> None:
    out = tmp_path / "session.parquet"
    result = runner.invoke(
        app,
        ["control", "run", "--patient", str(FIXTURE), "--rate", "500", "--duration", "3", "--out", str(out),
         "--simulated-clock", "--fault", "rom_breach@2+0.1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "range_of_motion at 2.0000 s" in result.output and "Wrote 1500 ticks" in result.output
    stored = read_recording(out)
    assert stored.labels["fault"].iloc[-1] == 1.0 and stored.labels["fault"].iloc[0] == 0.0


def test_run_refuses_bad_input_in_one_line(tmp_path) -> None:
    args = ["control", "run", "--patient", str(FIXTURE), "--out", str(tmp_path / "s.parquet"), "--simulated-clock"]
    result = runner.invoke(app, [*args, "--fault", "meltdown@1"])
    assert result.exit_code == 1 and result.output.strip().startswith("Error: fault kind must be one of")
    result = runner.invoke(app, [*args, "--patient", str(tmp_path / "absent.csv")])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    bad = tmp_path / "profile.json"
    bad.write_text('{"name": "x", "joints": [], "colour": "red"}')
    result = runner.invoke(app, [*args, "--profile", str(bad)])
    assert result.exit_code == 1 and "unknown setting(s) ['colour']" in result.output


def test_bench_prints_the_timing_figures_as_json() -> None:
    result = runner.invoke(app, ["control", "bench", "--rate", "500", "--duration", "0.3", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["n_ticks"] > 0 and figures["rate_hz"] == 500.0
    for key in ("rate_error_pct", "compute_median_us", "compute_p99_us", "compute_p99_9_us", "compute_max_us"):
        assert key in figures
    assert figures["compute_median_us"] > 0 and "worst_pause_ms" in figures


def test_faults_prints_the_matrix() -> None:
    result = runner.invoke(
        app, ["control", "faults", "--rate", "200", "--patient", str(FIXTURE), "--times", "3", "--json"]
    )
    assert result.exit_code == 0, result.output
    cases = json.loads(result.output)
    assert len(cases) == 8 and all(case["passed"] and case["ticks_to_safe"] == 0 for case in cases)
