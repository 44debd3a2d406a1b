"""FixedRateLoop on a simulated clock (exact times, no sleeping), plus a short smoke run on the real clock."""

import gc
import sys
import threading

import numpy as np
import pytest
from numpy.testing import assert_allclose

from exohub.control import Clock, FixedRateLoop, MonotonicClock, SimulatedClock, TimingReport

# 128 and 512 Hz have periods that are exact binary fractions, so simulated times compare exactly.
RATE_HZ = 128.0
PERIOD_S = 1.0 / RATE_HZ


def recording_tick(clock: SimulatedClock, seen: list[tuple[int, float, float]]):
    def tick(k: int, t_s: float) -> None:
        seen.append((k, t_s, clock.now_s()))

    return tick


def test_ticks_start_exactly_on_absolute_deadlines() -> None:
    clock = SimulatedClock(start_s=5.0)
    seen: list[tuple[int, float, float]] = []
    report = FixedRateLoop(RATE_HZ, clock=clock).run(recording_tick(clock, seen), n_ticks=10)
    assert [k for k, _, _ in seen] == list(range(10))
    assert [t for _, t, _ in seen] == [k * PERIOD_S for k in range(10)]
    assert [now for _, _, now in seen] == [5.0 + k * PERIOD_S for k in range(10)]
    assert (report.n_ticks, report.n_overruns, report.n_skipped_deadlines) == (10, 0, 0)
    assert report.stopped_by == "n_ticks"


def test_late_wake_ups_and_long_ticks_do_not_accumulate_drift() -> None:
    clock = SimulatedClock(wake_latency_s=lambda n: 1e-3)  # every wake-up 1 ms late, every tick 5 ms long
    seen: list[tuple[int, float, float]] = []
    report = FixedRateLoop(RATE_HZ, clock=clock).run(
        clock.costing(lambda k: 5e-3, recording_tick(clock, seen)), n_ticks=500
    )
    starts = np.array([now for _, _, now in seen])
    assert_allclose(starts, np.arange(500) * PERIOD_S + 1e-3, rtol=0, atol=1e-12)  # k/rate, not a growing sum
    assert report.n_overruns == 0
    assert_allclose(report.start_jitter_max_us, 1000.0)
    assert_allclose(report.achieved_rate_hz, RATE_HZ, rtol=1e-12)


def test_an_overrun_is_counted_and_the_loop_resumes_at_the_next_future_deadline() -> None:
    clock = SimulatedClock()
    seen: list[tuple[int, float, float]] = []
    cost = {5: 2.5 * PERIOD_S, 6: PERIOD_S}  # tick 5 ends mid-way through period 7; tick 6 ends exactly on time
    tick = clock.costing(lambda k: cost.get(k, 0.25 * PERIOD_S), recording_tick(clock, seen))
    report = FixedRateLoop(RATE_HZ, clock=clock).run(tick, n_ticks=9)
    assert [k for k, _, _ in seen] == list(range(9))  # tick indices have no gap
    slots = [round(t * RATE_HZ) for _, t, _ in seen]
    assert slots == [0, 1, 2, 3, 4, 5, 8, 9, 10]  # deadlines 6 and 7 skipped, no burst to catch up
    assert [now for _, _, now in seen] == [slot * PERIOD_S for slot in slots]
    assert (report.n_overruns, report.n_skipped_deadlines) == (1, 2)
    assert report.worst_pause_ms == pytest.approx(2 * PERIOD_S * 1e3)
    assert report.compute_max_us == pytest.approx(2.5 * PERIOD_S * 1e6)


def test_consecutive_overruns_are_each_counted() -> None:
    clock = SimulatedClock()
    loop = FixedRateLoop(RATE_HZ, clock=clock)
    report = loop.run(clock.costing(lambda k: 1.5 * PERIOD_S), n_ticks=4)
    # every tick starts on an even slot (0, 2, 4, 6) and ends half-way through the next period
    assert (report.n_overruns, report.n_skipped_deadlines) == (4, 4)
    assert loop.n_overruns == 4
    assert clock.now_s() == pytest.approx(7.5 * PERIOD_S)


def test_report_figures_on_a_known_compute_time_sequence() -> None:
    rate_hz = 1000.0
    clock = SimulatedClock(wake_latency_s=lambda n: 20e-6 if n % 100 == 0 else 0.0)
    cost_s = np.full(1000, 100e-6)
    cost_s[500] = 900e-6
    report = FixedRateLoop(rate_hz, clock=clock).run(clock.costing(lambda k: cost_s[k]), n_ticks=1000)
    assert_allclose(report.compute_median_us, 100.0, rtol=1e-9)
    assert_allclose(report.compute_p99_us, 100.0, rtol=1e-9)
    assert_allclose(report.compute_p99_9_us, 100.8, rtol=1e-9)  # 0.1 % of the way from 100 to 900 µs
    assert_allclose(report.compute_max_us, 900.0, rtol=1e-9)
    assert_allclose(report.start_jitter_p99_us, 0.2, atol=1e-6)  # 10 of 1000 starts 20 µs late
    assert_allclose(report.start_jitter_max_us, 20.0, rtol=1e-6)
    assert_allclose(report.worst_pause_ms, 0.02, rtol=1e-6)  # from an on-time start to a 20 µs late one
    first_start, last_start = 20e-6, 0.999  # tick 0 woke 20 µs late, tick 999 on time
    assert_allclose(report.achieved_rate_hz, 999 / (last_start - first_start), rtol=1e-9)
    assert_allclose(report.rate_error_pct, 100 * (999 / (last_start - first_start) - 1000) / 1000, rtol=1e-6)
    assert report.duration_s == pytest.approx(0.999 + 100e-6)
    assert report.n_overruns == 0
    text = report.to_text()
    assert "p99.9 100.8 µs" in text
    assert "0 overrun(s)" in text
    assert report.to_dict()["compute_max_us"] == report.compute_max_us


def test_the_report_covers_the_last_max_history_ticks_in_order() -> None:
    clock = SimulatedClock()
    cost_s = np.where(np.arange(1000) < 900, 500e-6, 100e-6)
    loop = FixedRateLoop(1000.0, clock=clock, max_history_ticks=64)
    report = loop.run(clock.costing(lambda k: cost_s[k]), n_ticks=1000)
    assert report.n_ticks == 1000
    assert_allclose(report.compute_max_us, 100.0, rtol=1e-9)  # only the last 64 ticks
    assert_allclose(report.achieved_rate_hz, 1000.0, rtol=1e-9)  # a wrongly ordered ring would break this
    assert_allclose(report.worst_pause_ms, 0.0, atol=1e-9)


def test_duration_counts_the_deadlines_before_it() -> None:
    clock = SimulatedClock()
    assert FixedRateLoop(RATE_HZ, clock=clock).run(lambda k, t: None, duration_s=1.0).n_ticks == 128
    report = FixedRateLoop(1000.0, clock=SimulatedClock()).run(lambda k, t: None, duration_s=0.3)
    assert (report.n_ticks, report.stopped_by) == (300, "duration")  # 0.3 * 1000 is 300.00000000000006
    both = FixedRateLoop(1000.0, clock=SimulatedClock()).run(lambda k, t: None, duration_s=0.3, n_ticks=50)
    assert (both.n_ticks, both.stopped_by) == (50, "n_ticks")


def test_ticks_plus_skipped_deadlines_fill_the_duration() -> None:
    clock = SimulatedClock()
    rng = np.random.default_rng(0)
    cost_s = rng.exponential(0.5 * PERIOD_S, size=1000)
    report = FixedRateLoop(RATE_HZ, clock=clock).run(clock.costing(lambda k: cost_s[k]), duration_s=2.0)
    assert report.n_overruns > 0
    assert report.n_ticks + report.n_skipped_deadlines == 256
    assert report.rate_error_pct < 0


def test_tick_returning_false_stops_the_loop() -> None:
    report = FixedRateLoop(RATE_HZ, clock=SimulatedClock()).run(lambda k, t: k < 6 or None, n_ticks=100)
    assert (report.n_ticks, report.stopped_by) == (100, "n_ticks")  # None and True go on
    report = FixedRateLoop(RATE_HZ, clock=SimulatedClock()).run(lambda k, t: k != 6, n_ticks=100)
    assert (report.n_ticks, report.stopped_by) == (7, "tick")


def test_stop_from_the_tick_ends_the_run_before_the_next_tick() -> None:
    loop = FixedRateLoop(RATE_HZ, clock=SimulatedClock())
    report = loop.run(lambda k, t: loop.stop() if k == 7 else None)
    assert (report.n_ticks, report.stopped_by) == (8, "stop")
    assert loop.run(lambda k, t: None, n_ticks=3).n_ticks == 3  # the request does not outlive its run


def test_stop_before_run_is_not_lost() -> None:
    loop = FixedRateLoop(RATE_HZ, clock=SimulatedClock())
    loop.stop()
    report = loop.run(lambda k, t: None, n_ticks=10)
    assert (report.n_ticks, report.stopped_by) == (0, "stop")
    assert np.isnan(report.compute_median_us)
    assert np.isnan(report.achieved_rate_hz)
    assert "nan" in report.to_text()


def test_stop_from_another_thread_on_the_real_clock() -> None:
    loop = FixedRateLoop(1000.0, gc_policy="default")
    timer = threading.Timer(0.05, loop.stop)
    timer.start()
    report = loop.run(lambda k, t: None, duration_s=10.0)
    timer.join()
    assert report.stopped_by == "stop"
    assert 5 <= report.n_ticks <= 200
    assert report.duration_s < 5.0


def test_keyboard_interrupt_leaves_cleanly_with_the_report_of_what_ran() -> None:
    def tick(k: int, t_s: float) -> None:
        if k == 3:
            raise KeyboardInterrupt

    loop = FixedRateLoop(RATE_HZ, clock=SimulatedClock())
    report = loop.run(tick, n_ticks=10)
    assert (report.n_ticks, report.stopped_by) == (3, "interrupt")
    assert loop.report_ is report
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_gc_is_frozen_and_disabled_during_the_run_and_restored_after_an_exception() -> None:
    states: list[tuple[bool, bool]] = []

    def tick(k: int, t_s: float) -> None:
        states.append((gc.isenabled(), gc.get_freeze_count() > 0))
        if k == 4:
            raise RuntimeError("sensor exploded")

    assert gc.isenabled()
    loop = FixedRateLoop(RATE_HZ, clock=SimulatedClock())
    with pytest.raises(RuntimeError, match="sensor exploded"):
        loop.run(tick, n_ticks=10)
    assert states == [(False, True)] * 5
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
    assert loop.report_ is not None
    assert (loop.report_.n_ticks, loop.report_.stopped_by) == (4, "error")


def test_gc_policy_restores_a_disabled_collector_as_disabled() -> None:
    gc.disable()
    try:
        FixedRateLoop(RATE_HZ, clock=SimulatedClock()).run(lambda k, t: None, n_ticks=3)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_default_gc_policy_leaves_the_collector_alone() -> None:
    states: list[bool] = []
    FixedRateLoop(RATE_HZ, clock=SimulatedClock(), gc_policy="default").run(
        lambda k, t: states.append(gc.isenabled() and gc.get_freeze_count() == 0), n_ticks=3
    )
    assert states == [True] * 3


def _allocated_blocks_per_tick(extra_work=None, n_ticks: int = 3000) -> np.ndarray:
    """sys.getallocatedblocks() at the start of every tick of a simulated run."""
    blocks = np.zeros(n_ticks, dtype=np.int64)
    clock = SimulatedClock()

    def tick(k: int, t_s: float) -> None:
        blocks[k] = sys.getallocatedblocks()
        if extra_work is not None:
            extra_work()

    FixedRateLoop(1000.0, clock=clock).run(clock.costing(lambda k: 1e-4, tick), n_ticks=n_ticks)
    return blocks


def test_the_loop_body_allocates_nothing_that_survives_a_tick() -> None:
    blocks = _allocated_blocks_per_tick()
    assert np.ptp(blocks[1000:]) == 0  # after warm-up (small-int cache passed, the interpreter's own caches made)


def test_the_allocation_check_sees_a_tick_that_keeps_objects() -> None:
    kept: list[tuple[int]] = []
    blocks = _allocated_blocks_per_tick(lambda: kept.append((len(kept),)))
    assert blocks[-1] - blocks[1000] >= len(kept) - 1001  # the check is able to fail


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"rate_hz": 99.0}, ValueError, "rate_hz must be from 100 to 1000 Hz, got 99.0"),
        ({"rate_hz": 1000.5}, ValueError, "rate_hz must be from 100 to 1000 Hz"),
        ({"rate_hz": float("nan")}, ValueError, "rate_hz must be a finite positive number"),
        ({"rate_hz": "fast"}, TypeError, "rate_hz must be a number"),
        ({"rate_hz": 500.0, "gc_policy": "off"}, ValueError, "'gc_policy' parameter"),
        ({"rate_hz": 500.0, "clock": object()}, TypeError, "clock must have now_s"),
        ({"rate_hz": 500.0, "max_history_ticks": 0}, ValueError, "max_history_ticks must be a positive integer"),
    ],
)
def test_bad_loop_settings_are_refused_with_a_clear_message(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        FixedRateLoop(**kwargs)


@pytest.mark.parametrize(
    ("tick", "kwargs", "error", "match"),
    [
        (None, {}, TypeError, "tick must be callable"),
        (lambda k, t: None, {"n_ticks": 0}, ValueError, "n_ticks must be a positive integer"),
        (lambda k, t: None, {"n_ticks": 2.5}, ValueError, "n_ticks must be a positive integer"),
        (lambda k, t: None, {"duration_s": -1.0}, ValueError, "duration_s must be a finite positive number"),
    ],
)
def test_bad_run_arguments_are_refused(tick, kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        FixedRateLoop(500.0, clock=SimulatedClock()).run(tick, **kwargs)


def test_clocks_meet_the_protocol() -> None:
    assert isinstance(MonotonicClock(), Clock)
    assert isinstance(SimulatedClock(), Clock)
    assert isinstance(FixedRateLoop(100.0).clock, MonotonicClock)


def test_simulated_clock_moves_only_forward() -> None:
    clock = SimulatedClock(start_s=1.0)
    clock.sleep_until(0.5)  # a passed deadline returns at once
    assert clock.now_s() == 1.0
    clock.advance(0.25)
    assert clock.now_s() == 1.25
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(-1e-3)
    with pytest.raises(ValueError, match="only moves forward"):
        SimulatedClock(wake_latency_s=lambda n: float("nan")).sleep_until(1.0)


def test_monotonic_clock_never_returns_before_the_deadline() -> None:
    clock = MonotonicClock()
    for wait_s in (0.0, 1e-4, 2e-3):
        deadline_s = clock.now_s() + wait_s
        clock.sleep_until(deadline_s)
        assert clock.now_s() >= deadline_s
    with pytest.raises(ValueError, match="spin_s must be a finite number of seconds >= 0"):
        MonotonicClock(spin_s=-1e-4)


def test_a_short_real_run_keeps_its_deadlines() -> None:
    report = FixedRateLoop(500.0).run(lambda k, t: None, duration_s=0.2)
    assert isinstance(report, TimingReport)
    assert report.stopped_by == "duration"
    assert 50 <= report.n_ticks <= 100  # 100 deadlines; a loaded 2-core machine may skip some
    assert report.start_jitter_max_us >= 0


def test_an_overrun_of_the_last_tick_skips_no_deadline_after_the_end() -> None:
    clock = SimulatedClock()
    report = FixedRateLoop(RATE_HZ, clock=clock).run(
        clock.costing(lambda k: 3 * PERIOD_S if k == 3 else 0.0), duration_s=4 * PERIOD_S
    )
    assert (report.n_ticks, report.n_overruns, report.n_skipped_deadlines) == (4, 1, 0)
