"""The loop's real-time mode: SCHED_FIFO, CPU affinity and locked memory for the run only, refused cleanly.

Runs on the simulated clock (nothing sleeps); the policy is read with ``os.sched_getscheduler`` inside the ticks.
Tests that need the kernel to grant SCHED_FIFO (root, CAP_SYS_NICE or ``ulimit -r``) skip where it refuses.
"""

import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from exohub.control import FixedRateLoop, MonotonicClock, RingLog, RingLogFlusher, Scheduling, SimulatedClock, _realtime
from exohub.control._realtime import read_steal_ms, realtime_scheduling, rt_runtime_share
from exohub.exceptions import ConfigurationError, ExohubWarning

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="scheduling policies are Linux's")
RESET_ON_FORK = getattr(os, "SCHED_RESET_ON_FORK", 0)


def fifo_granted() -> bool:
    """Whether this process may put a thread under SCHED_FIFO (tried on a short-lived thread)."""
    granted: list[bool] = []

    def attempt() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
            granted.append(True)
        except PermissionError:
            granted.append(False)

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join()
    return granted[0]


needs_fifo = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not fifo_granted(),
    reason="the kernel refuses SCHED_FIFO here (needs root, CAP_SYS_NICE or ulimit -r)",
)


def locked_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmLck:"):
            return int(line.split()[1])
    raise AssertionError("no VmLck line in /proc/self/status")


def thread_state() -> tuple[int, int, frozenset[int]]:
    """The calling thread's policy (without the reset-on-fork flag), priority and CPUs."""
    policy = os.sched_getscheduler(0) & ~RESET_ON_FORK
    return policy, os.sched_getparam(0).sched_priority, frozenset(os.sched_getaffinity(0))


@pytest.fixture
def one_cpu() -> int:
    """A CPU this thread may run on (the highest), for pinning."""
    return max(os.sched_getaffinity(0))


@needs_fifo
def test_ticks_run_under_fifo_pinned_with_memory_locked_and_everything_is_restored(one_cpu) -> None:
    before, locked_before = thread_state(), locked_kb()
    seen: list[tuple[int, int, frozenset[int], int]] = []
    loop = FixedRateLoop(500, clock=SimulatedClock(), realtime_priority=10, cpus={one_cpu})
    report = loop.run(lambda k, t_s: seen.append((*thread_state(), locked_kb())), n_ticks=3)
    assert {state[:3] for state in seen} == {(os.SCHED_FIFO, 10, frozenset({one_cpu}))}
    assert all(kb > 0 for *_, kb in seen)  # mlockall locked the process's pages
    assert thread_state() == before
    if locked_before == 0:
        assert locked_kb() == 0
    assert (report.scheduling_policy, report.realtime_priority, report.cpus) == ("SCHED_FIFO", 10, (one_cpu,))
    assert report.memory_locked
    assert "SCHED_FIFO priority 10 on CPUs" in report.to_text()


@needs_fifo
def test_the_scheduling_is_restored_when_a_tick_raises() -> None:
    before = thread_state()

    def failing_tick(k: int, t_s: float) -> None:
        assert os.sched_getscheduler(0) & ~RESET_ON_FORK == os.SCHED_FIFO
        raise RuntimeError("sensor unplugged")

    loop = FixedRateLoop(500, clock=SimulatedClock(), realtime_priority=5, lock_memory=False)
    with pytest.raises(RuntimeError, match="sensor unplugged"):
        loop.run(failing_tick, n_ticks=3)
    assert thread_state() == before
    assert loop.report_ is not None and loop.report_.scheduling_policy == "SCHED_FIFO"
    assert not loop.report_.memory_locked


@needs_fifo
def test_threads_started_during_a_run_get_the_normal_policy() -> None:
    started: list[tuple[int, int, frozenset[int]]] = []

    def tick(k: int, t_s: float) -> None:
        thread = threading.Thread(target=lambda: started.append(thread_state()))
        thread.start()
        thread.join()

    FixedRateLoop(500, clock=SimulatedClock(), realtime_priority=20, lock_memory=False).run(tick, n_ticks=1)
    assert started[0][:2] == (os.SCHED_OTHER, 0)  # SCHED_RESET_ON_FORK: not FIFO by inheritance


@needs_fifo
def test_a_flusher_started_before_the_run_keeps_the_normal_policy_and_its_cpus(one_cpu) -> None:
    ring = RingLog(100, ["k"])
    policies: list[tuple[int, int, frozenset[int]]] = []

    def sink(rows: np.ndarray) -> None:
        policies.append(thread_state())

    free = frozenset(os.sched_getaffinity(0))
    loop = FixedRateLoop(500, clock=SimulatedClock(), realtime_priority=30, cpus={one_cpu}, lock_memory=False)
    with RingLogFlusher(ring, sink, period_s=0.001):

        def tick(k: int, t_s: float) -> None:
            ring.append([k])
            threading.Event().wait(0.003)  # give the flusher a few periods while the loop is real-time

        loop.run(tick, n_ticks=5)
    assert policies and set(policies) == {(os.SCHED_OTHER, 0, free)}


@linux_only
def test_a_refused_fifo_raises_a_clear_error_and_leaves_nothing_applied(monkeypatch, one_cpu) -> None:
    before, locked_before = thread_state(), locked_kb()

    def refuse(pid: int, policy: int, param: os.sched_param) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    ticks: list[int] = []
    loop = FixedRateLoop(500, clock=SimulatedClock(), realtime_priority=80, cpus={one_cpu})
    with pytest.raises(ConfigurationError, match=r"refused SCHED_FIFO at priority 80.*CAP_SYS_NICE.*ulimit -r"):
        loop.run(lambda k, t_s: ticks.append(k), n_ticks=3)
    assert ticks == []
    assert thread_state() == before  # the affinity applied before the refusal was undone
    assert locked_kb() == locked_before  # and so was the memory locking
    assert loop.report_ is not None and loop.report_.n_ticks == 0
    assert loop.report_.scheduling_policy == "unknown"


@linux_only
def test_a_refused_memory_lock_undoes_the_affinity(monkeypatch, one_cpu) -> None:
    class RefusingLibc:
        def mlockall(self, flags: int) -> int:
            return -1

    before = thread_state()
    monkeypatch.setattr(_realtime, "_libc", RefusingLibc)
    loop = FixedRateLoop(500, clock=SimulatedClock(), realtime_priority=80, cpus={one_cpu})
    with pytest.raises(ConfigurationError, match=r"mlockall.*CAP_IPC_LOCK.*ulimit -l.*lock_memory=False"):
        loop.run(lambda k, t_s: None, n_ticks=3)
    assert thread_state() == before


def test_real_time_mode_outside_linux_is_refused_before_any_tick(monkeypatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    ticks: list[int] = []
    loop = FixedRateLoop(500, clock=SimulatedClock(), realtime_priority=80)
    with pytest.raises(ConfigurationError, match="needs Linux"):
        loop.run(lambda k, t_s: ticks.append(k), n_ticks=3)
    assert ticks == []


@linux_only
def test_pinning_alone_applies_and_restores_the_affinity(one_cpu) -> None:
    before = thread_state()
    seen: list[tuple[int, int, frozenset[int]]] = []
    report = FixedRateLoop(500, clock=SimulatedClock(), cpus=[one_cpu]).run(
        lambda k, t_s: seen.append(thread_state()), n_ticks=2
    )
    assert {state[2] for state in seen} == {frozenset({one_cpu})}
    assert {state[:2] for state in seen} == {before[:2]}  # the policy is left alone
    assert thread_state() == before
    assert (report.realtime_priority, report.cpus, report.memory_locked) == (None, (one_cpu,), False)


@linux_only
def test_a_normal_run_reports_its_policy_cpus_and_the_host_steal_time() -> None:
    report = FixedRateLoop(500, clock=SimulatedClock()).run(lambda k, t_s: None, n_ticks=2)
    assert report.scheduling_policy == "SCHED_OTHER"
    assert report.realtime_priority is None and not report.memory_locked
    assert report.cpus == tuple(sorted(os.sched_getaffinity(0)))
    assert report.host_steal_ms is not None and report.host_steal_ms >= 0
    assert report.to_dict()["cpus"] == report.cpus


@pytest.mark.parametrize("priority", [0, 100, -1])
def test_a_priority_outside_the_fifo_range_is_refused_naming_the_parameter(priority) -> None:
    with pytest.raises(ValueError, match=rf"realtime_priority must be a SCHED_FIFO priority from 1 to 99.*{priority}"):
        FixedRateLoop(500, clock=SimulatedClock(), realtime_priority=priority)


@pytest.mark.parametrize("priority", [True, 50.0, "80"])
def test_a_priority_that_is_not_an_integer_is_refused(priority) -> None:
    with pytest.raises(TypeError, match="realtime_priority must be an integer"):
        FixedRateLoop(500, clock=SimulatedClock(), realtime_priority=priority)


@pytest.mark.parametrize(
    ("cpus", "message"),
    [
        ({os.cpu_count()}, r"cpus has unknown CPU ids \[\d+\]: this machine has CPUs 0 to"),
        ({-1, 0}, r"cpus has unknown CPU ids \[-1\]"),
        (set(), "cpus must be a non-empty set"),
        ({1.0}, "cpus must be a non-empty set of CPU ids"),
    ],
)
def test_unknown_or_malformed_cpus_are_refused_naming_the_parameter(cpus, message) -> None:
    with pytest.raises(ValueError, match=message):
        FixedRateLoop(500, clock=SimulatedClock(), cpus=cpus)


def test_cpus_as_text_is_refused() -> None:
    with pytest.raises(TypeError, match="cpus must be a set of CPU ids"):
        FixedRateLoop(500, clock=SimulatedClock(), cpus="1")


@pytest.mark.skipif(rt_runtime_share() is None, reason="no real-time throttling on this kernel")
def test_a_clock_spinning_its_whole_period_under_fifo_is_warned_about() -> None:
    with pytest.warns(ExohubWarning, match=r"spins 1 ms of each 1 ms period under SCHED_FIFO.*stop the loop"):
        FixedRateLoop(1000, clock=MonotonicClock(spin_s=1e-3), realtime_priority=80)
    FixedRateLoop(1000, clock=MonotonicClock(spin_s=3e-4), realtime_priority=80)  # the default spin: no warning
    FixedRateLoop(1000, clock=MonotonicClock(spin_s=1e-3))  # not real-time: no throttling, no warning


def test_the_context_manager_changes_nothing_without_priority_or_cpus() -> None:
    with realtime_scheduling(None, None) as scheduling:
        assert isinstance(scheduling, Scheduling)
        assert scheduling.realtime_priority is None and not scheduling.memory_locked


@linux_only
def test_steal_time_reads_proc_stat_per_cpu(monkeypatch, tmp_path) -> None:
    stat = tmp_path / "stat"
    stat.write_text("cpu  10 0 10 100 0 0 0 7 0 0\ncpu0 5 0 5 50 0 0 0 3 0 0\ncpu1 5 0 5 50 0 0 0 4 0 0\nintr 1 2 3\n")
    real_path = _realtime.Path
    monkeypatch.setattr(_realtime, "Path", lambda path: stat if path == "/proc/stat" else real_path(path))
    ms_per_tick = 1e3 / os.sysconf("SC_CLK_TCK")
    assert read_steal_ms(None) == pytest.approx(7 * ms_per_tick)
    assert read_steal_ms([1]) == pytest.approx(4 * ms_per_tick)
    assert read_steal_ms((0, 1)) == pytest.approx(7 * ms_per_tick)
