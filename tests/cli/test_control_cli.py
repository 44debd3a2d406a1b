"""``exohub control run|bench|faults`` on the small fixture, short and (where possible) on the simulated clock."""

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exohub.cli.main import app
from exohub.signals import read_recording
from tests.control.test_realtime import needs_fifo

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


@needs_fifo
def test_bench_runs_real_time_and_says_so() -> None:
    cpu = max(os.sched_getaffinity(0))
    result = runner.invoke(
        app,
        ["control", "bench", "--rate", "500", "--duration", "0.3", "--json", "--realtime-priority", "10",
         "--cpus", str(cpu)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert (figures["scheduling_policy"], figures["realtime_priority"], figures["cpus"]) == ("SCHED_FIFO", 10, [cpu])
    assert figures["memory_locked"] is True
    assert figures["spin_us"] == pytest.approx(300.0)  # not the whole period: FIFO would be throttled
    assert figures["host_steal_ms"] >= 0 and len(figures["load_average_1min"]) == 2
    text = runner.invoke(app, ["control", "bench", "--rate", "500", "--duration", "0.2", "--realtime-priority", "10"])
    assert text.exit_code == 0, text.output
    assert "scheduling   SCHED_FIFO priority 10 on CPUs" in text.output and "clock spins 300 µs" in text.output


def test_bench_without_real_time_reports_the_normal_policy() -> None:
    result = runner.invoke(app, ["control", "bench", "--rate", "500", "--duration", "0.2", "--json"])
    figures = json.loads(result.output)
    assert figures["realtime_priority"] is None and figures["memory_locked"] is False
    assert figures["spin_us"] == pytest.approx(2000.0)  # the whole period, as before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--realtime-priority", "0"], "Error: --realtime-priority: realtime_priority must be a SCHED_FIFO priority"),
        (["--realtime-priority", "100"], "from 1 to 99"),
        (["--cpus", "1,x"], "Error: --cpus '1,x': write CPU ids separated by commas"),
        (["--cpus", "4096"], "cpus has unknown CPU ids [4096]"),
        (["--cpus", ""], "Error: --cpus ''"),
    ],
)
def test_bench_refuses_bad_real_time_options_naming_them(options, message) -> None:
    result = runner.invoke(app, ["control", "bench", "--duration", "0.1", *options])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_run_refuses_real_time_options_on_the_simulated_clock(tmp_path) -> None:
    args = ["control", "run", "--patient", str(FIXTURE), "--out", str(tmp_path / "s.parquet"), "--simulated-clock"]
    result = runner.invoke(app, [*args, "--realtime-priority", "10"])
    assert result.exit_code == 1 and "apply to the real clock" in result.output
    result = runner.invoke(app, [*args, "--cpus", "0,zero"])
    assert result.exit_code == 1 and "--cpus '0,zero'" in result.output
    assert not (tmp_path / "s.parquet").exists()
