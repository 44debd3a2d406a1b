"""``make bench-api`` judges an endpoint by both parts of the goal: req/s at saturation, p99 at the goal's rate."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest

_BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, _BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench = _module("bench_api")

SATURATED = bench.WrkResult(
    endpoint="organisations", path="/x", workers=2, connections=50, threads=2, duration_s=20, requests=10_000,
    requests_per_s=500.0, p50_ms=100, p75_ms=120, p90_ms=150, p99_ms=210, max_ms=300, non_2xx=0, socket_errors=0,
)  # fmt: skip
AT_RATE = bench.RateResult(
    endpoint="organisations", path="/x", workers=2, connections=50, duration_s=20, offered_per_s=300.0,
    achieved_per_s=299.5, requests=6000, p50_ms=8, p90_ms=20, p99_ms=60, p99_9_ms=90, max_ms=120, non_2xx=0,
    errors=0, unsent=0, first_error="", generator_cpu_pct=3.0,
)  # fmt: skip


def _verdict(saturation, *fixed_rate) -> dict[str, bool]:
    return bench.goal_by_endpoint(bench.Results(saturation=[saturation], fixed_rate=list(fixed_rate)))


def test_the_goal_needs_throughput_at_saturation_and_p99_at_the_goal_rate() -> None:
    # a saturation p99 over 100 ms does not fail the goal: it is that of a service with every client queued
    assert _verdict(SATURATED, AT_RATE) == {"organisations/2 workers": True}
    assert _verdict(replace(SATURATED, requests_per_s=290.0), AT_RATE) == {"organisations/2 workers": False}
    assert _verdict(SATURATED, replace(AT_RATE, p99_ms=101.0)) == {"organisations/2 workers": False}


@pytest.mark.parametrize(
    "changes",
    [
        {"achieved_per_s": 280.0},  # fell behind the offered rate: its latencies describe a lower load
        {"errors": 1},
        {"unsent": 3},
        {"non_2xx": 1},
        {"p99_ms": None},
    ],
)
def test_a_fixed_rate_run_that_fell_behind_or_failed_does_not_meet_the_goal(changes: dict[str, object]) -> None:
    assert _verdict(SATURATED, replace(AT_RATE, **changes)) == {"organisations/2 workers": False}


def test_runs_the_goal_does_not_speak_of_are_not_judged() -> None:
    lower_rate = replace(AT_RATE, offered_per_s=150.0, achieved_per_s=150.0)
    assert not lower_rate.judged and bench._verdict(lower_rate) == "-"
    assert _verdict(SATURATED, lower_rate) == {}  # no judged fixed-rate run: no verdict
    more_clients = replace(SATURATED, connections=100)
    assert bench._verdict(more_clients) == "-"
    assert _verdict(more_clients, AT_RATE) == {}
