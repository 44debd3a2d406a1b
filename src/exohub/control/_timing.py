"""Time for the fixed-rate loop: the real clock (sleep, then spin), a simulated clock for tests, the timing report."""

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from exohub.control._realtime import Scheduling

#: Spin this long before a deadline instead of sleeping. ``time.sleep`` wakes late by ~80 µs (median) and
#: ~130 µs (p99) on the 2-core development machine (Linux, default 50 µs timer slack); 0.3 ms covers that with room.
DEFAULT_SPIN_S = 3e-4


@runtime_checkable
class Clock(Protocol):
    """What :class:`~exohub.control.FixedRateLoop` needs from a clock: the time now, and a wait until a deadline."""

    def now_s(self) -> float:
        """Return the time in seconds on a clock that never goes backwards (the origin is arbitrary)."""

    def sleep_until(self, deadline_s: float) -> None:
        """Return at ``deadline_s`` or as soon after as possible; return at once when it has passed."""


class MonotonicClock:
    """The real clock: :func:`time.perf_counter`, with a sleep that spins the last ``spin_s`` before a deadline.

    ``time.sleep`` alone wakes tens to hundreds of microseconds late (timer slack, scheduler wake-up); sleeping
    until ``spin_s`` before the deadline and busy-waiting the rest makes the wake-up accurate to about a
    microsecond, at the cost of ``spin_s`` of CPU per tick (30 % of a core at 1 kHz with the default).

    Parameters
    ----------
    spin_s
        How long before the deadline to stop sleeping and start spinning (s); 0 only sleeps.
    """

    def __init__(self, spin_s: float = DEFAULT_SPIN_S) -> None:
        if isinstance(spin_s, bool) or not isinstance(spin_s, int | float) or not math.isfinite(spin_s) or spin_s < 0:
            raise ValueError(f"spin_s must be a finite number of seconds >= 0, got {spin_s!r}.")
        self.spin_s = float(spin_s)

    def __repr__(self) -> str:
        return f"MonotonicClock(spin_s={self.spin_s!r})"

    def now_s(self) -> float:
        """Return :func:`time.perf_counter` (s)."""
        return time.perf_counter()

    def sleep_until(self, deadline_s: float) -> None:
        """Sleep until ``spin_s`` before ``deadline_s``, then spin until it."""
        now = time.perf_counter
        remaining_s = deadline_s - now() - self.spin_s
        if remaining_s > 0.0:
            time.sleep(remaining_s)
        while now() < deadline_s:
            pass


class SimulatedClock:
    """A clock for tests: time moves only when the loop sleeps, when a tick costs time, or on :meth:`advance`.

    Nothing ever really sleeps, so a ten-minute 1 kHz run is simulated in a fraction of a second, and every time
    is exact: :meth:`sleep_until` jumps to the deadline (plus ``wake_latency_s`` when given).

    Parameters
    ----------
    start_s
        The time at which the clock starts (s).
    wake_latency_s
        ``wake_latency_s(n)`` is how late the ``n``-th call of :meth:`sleep_until` (from 0) returns after its
        deadline (s, >= 0): simulated start jitter. ``None`` wakes exactly on time.
    """

    def __init__(self, start_s: float = 0.0, *, wake_latency_s: Callable[[int], float] | None = None) -> None:
        self._now_s = float(start_s)
        self.wake_latency_s = wake_latency_s
        self.n_sleeps = 0

    def __repr__(self) -> str:
        return f"SimulatedClock(now_s={self._now_s!r}, n_sleeps={self.n_sleeps})"

    def now_s(self) -> float:
        """Return the simulated time (s)."""
        return self._now_s

    def sleep_until(self, deadline_s: float) -> None:
        """Jump to ``deadline_s`` if it is ahead, then add the wake latency of this call."""
        latency_s = 0.0 if self.wake_latency_s is None else self._checked_step(self.wake_latency_s(self.n_sleeps))
        self.n_sleeps += 1
        self._now_s = max(self._now_s, deadline_s) + latency_s

    def advance(self, seconds: float) -> None:
        """Move the clock ``seconds`` (>= 0) forward, e.g. the compute time of a tick."""
        self._now_s += self._checked_step(seconds)

    def costing(
        self, compute_time_s: Callable[[int], float], tick: Callable[[int, float], bool | None] | None = None
    ) -> Callable[[int, float], bool | None]:
        """Wrap ``tick`` (or a tick that does nothing) so that tick ``k`` takes ``compute_time_s(k)`` seconds.

        The wrapped tick runs ``tick(k, t_s)`` first (it sees the clock at its start), then advances the clock.
        """

        def costed_tick(k: int, t_s: float) -> bool | None:
            keep = None if tick is None else tick(k, t_s)
            self.advance(compute_time_s(k))
            return keep

        return costed_tick

    @staticmethod
    def _checked_step(seconds: float) -> float:
        step_s = float(seconds)
        if not math.isfinite(step_s) or step_s < 0:
            raise ValueError(f"a simulated clock only moves forward by a finite time, got {seconds!r} s.")
        return step_s


@dataclass(frozen=True)
class TimingReport:
    """How well a :class:`~exohub.control.FixedRateLoop` run kept its rate.

    Percentiles, maxima and the worst pause cover the last ``max_history_ticks`` ticks of the run (every tick of
    a run shorter than that); the counts cover the whole run. Figures that need ticks the run did not have (any
    statistic of a run with no tick, the rate of a run with one) are NaN.

    Attributes
    ----------
    target_rate_hz
        The rate the loop was asked for.
    achieved_rate_hz
        Ticks per second between the first and the last tick start of the window.
    rate_error_pct
        ``100 * (achieved - target) / target``: negative when overruns skipped deadlines.
    n_ticks
        Ticks run.
    n_overruns
        Ticks that ended after the next deadline.
    n_skipped_deadlines
        Deadlines left out after overruns (the loop never bursts to catch up).
    compute_median_us, compute_p99_us, compute_p99_9_us, compute_max_us
        Time from a tick's start to its end (µs).
    start_jitter_p99_us, start_jitter_max_us
        How late a tick started after its deadline (µs).
    worst_pause_ms
        Largest interval between consecutive tick starts, minus one period (ms): 0 for a perfect run.
    duration_s
        From the first deadline to the end of the run (s).
    stopped_by
        ``"n_ticks"``, ``"duration"``, ``"tick"`` (it returned False), ``"stop"`` (:meth:`FixedRateLoop.stop`),
        ``"interrupt"`` (KeyboardInterrupt) or ``"error"`` (the tick raised).
    scheduling_policy, realtime_priority, cpus, memory_locked
        How the loop's thread ran (see :class:`~exohub.control.Scheduling`): ``"SCHED_FIFO"`` and its priority in
        real-time mode, else the thread's policy and ``None``; the CPUs it was allowed on (pinned or inherited;
        ``None`` where unknown); whether memory was locked. ``"unknown"`` / ``None`` / False when the run ended
        before scheduling was applied.
    host_steal_ms
        Hypervisor steal time on those CPUs during the run (ms, /proc/stat, 10 ms resolution): time the host ran
        something else while a virtual CPU was ready, which no setting inside the virtual machine prevents. A
        pause longer than the steal cannot be the host's alone. ``None`` outside Linux.
    """

    target_rate_hz: float
    achieved_rate_hz: float
    rate_error_pct: float
    n_ticks: int
    n_overruns: int
    n_skipped_deadlines: int
    compute_median_us: float
    compute_p99_us: float
    compute_p99_9_us: float
    compute_max_us: float
    start_jitter_p99_us: float
    start_jitter_max_us: float
    worst_pause_ms: float
    duration_s: float
    stopped_by: str
    scheduling_policy: str = "unknown"
    realtime_priority: int | None = None
    cpus: tuple[int, ...] | None = None
    memory_locked: bool = False
    host_steal_ms: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dictionary (JSON-ready; NaN stays NaN)."""
        return asdict(self)

    def to_text(self) -> str:
        """Return a few human-readable lines."""
        return "\n".join(
            [
                f"rate        {self.target_rate_hz:.1f} Hz target, {self.achieved_rate_hz:.3f} Hz achieved "
                f"({self.rate_error_pct:+.4f} %)",
                f"ticks       {self.n_ticks} in {self.duration_s:.3f} s, {self.n_overruns} overrun(s), "
                f"{self.n_skipped_deadlines} deadline(s) skipped, stopped by {self.stopped_by}",
                f"compute     median {self.compute_median_us:.1f} µs, p99 {self.compute_p99_us:.1f} µs, "
                f"p99.9 {self.compute_p99_9_us:.1f} µs, max {self.compute_max_us:.1f} µs",
                f"start late  p99 {self.start_jitter_p99_us:.1f} µs, max {self.start_jitter_max_us:.1f} µs",
                f"worst pause {self.worst_pause_ms:.3f} ms beyond one period",
                f"scheduling  {self.scheduling_text()}",
            ]
        )

    def scheduling_text(self) -> str:
        """Return one line on how the loop ran: policy, priority, CPUs, locked memory, host steal time."""
        policy = self.scheduling_policy
        if self.realtime_priority is not None:
            policy += f" priority {self.realtime_priority}"
        cpus = "unknown CPUs" if self.cpus is None else "CPUs " + ",".join(map(str, self.cpus))
        memory = "memory locked" if self.memory_locked else "memory not locked"
        steal = "unknown" if self.host_steal_ms is None else f"{self.host_steal_ms:.0f} ms"
        return f"{policy} on {cpus}, {memory}; host steal time {steal}"


def summarise_ticks(
    deadlines_s: np.ndarray,
    starts_s: np.ndarray,
    ends_s: np.ndarray,
    *,
    rate_hz: float,
    counts: tuple[int, int, int],
    duration_s: float,
    stopped_by: str,
    scheduling: Scheduling | None = None,
    host_steal_ms: float | None = None,
) -> TimingReport:
    """Build a :class:`TimingReport` from per-tick deadline, start and end times (in order, one row per tick).

    ``counts`` is ``(n_ticks, n_overruns, n_skipped_deadlines)`` over the whole run; ``scheduling`` how the loop's
    thread ran (unknown when None) and ``host_steal_ms`` the hypervisor's steal time during the run.
    """
    scheduling = Scheduling() if scheduling is None else scheduling
    compute_us = (ends_s - starts_s) * 1e6
    jitter_us = (starts_s - deadlines_s) * 1e6
    n_ticks, n_overruns, n_skipped = counts
    achieved_hz = math.nan
    worst_pause_ms = math.nan
    if starts_s.size >= 2:
        achieved_hz = (starts_s.size - 1) / float(starts_s[-1] - starts_s[0])
        worst_pause_ms = (float(np.max(np.diff(starts_s))) - 1.0 / rate_hz) * 1e3
    percentiles = np.percentile(compute_us, [50, 99, 99.9]) if compute_us.size else np.full(3, math.nan)
    return TimingReport(
        target_rate_hz=float(rate_hz),
        achieved_rate_hz=achieved_hz,
        rate_error_pct=100.0 * (achieved_hz - rate_hz) / rate_hz,
        n_ticks=n_ticks,
        n_overruns=n_overruns,
        n_skipped_deadlines=n_skipped,
        compute_median_us=float(percentiles[0]),
        compute_p99_us=float(percentiles[1]),
        compute_p99_9_us=float(percentiles[2]),
        compute_max_us=float(compute_us.max()) if compute_us.size else math.nan,
        start_jitter_p99_us=float(np.percentile(jitter_us, 99)) if jitter_us.size else math.nan,
        start_jitter_max_us=float(jitter_us.max()) if jitter_us.size else math.nan,
        worst_pause_ms=worst_pause_ms,
        duration_s=float(duration_s),
        stopped_by=stopped_by,
        scheduling_policy=scheduling.policy,
        realtime_priority=scheduling.realtime_priority,
        cpus=scheduling.cpus,
        memory_locked=scheduling.memory_locked,
        host_steal_ms=host_steal_ms,
    )
