"""The fixed-rate loop: a tick function called on absolute deadlines, its timing measured without allocating."""

import gc
import math
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Literal

import numpy as np

from exohub._utils._checks import check_option, check_positive
from exohub.control._realtime import (
    Scheduling,
    check_cpus,
    check_realtime_priority,
    read_steal_ms,
    realtime_scheduling,
    realtime_spin_warning,
)
from exohub.control._timing import Clock, MonotonicClock, TimingReport, summarise_ticks
from exohub.exceptions import ExohubWarning

MIN_RATE_HZ = 100.0
MAX_RATE_HZ = 1000.0
#: 2**20 ticks: 17.5 minutes at 1 kHz, 3 x 8 MiB of timing buffers.
DEFAULT_MAX_HISTORY_TICKS = 2**20

Tick = Callable[[int, float], bool | None]
GcPolicy = Literal["freeze", "default"]


class FixedRateLoop:
    """Call a tick function at a fixed rate (100 Hz to 1 kHz) on absolute deadlines, and report the timing.

    Tick ``k`` is due at ``start + slot / rate_hz`` where ``slot`` counts periods since the loop started, so the
    rate never drifts however late single ticks are. The loop sleeps until the deadline (with
    :class:`MonotonicClock`: sleeps, then spins the last fraction of a millisecond), calls ``tick(k, t_s)``, and
    stores the deadline, start and end times in preallocated arrays: between ticks it creates no object but
    floats (and the tick index once it passes 256), so nothing builds up for the garbage collector.

    **Overruns.** A tick that ends after the next deadline is an overrun: it is counted, and the loop resumes at
    the first deadline still in the future. It does not burst to catch up (a burst of stale ticks would command
    the actuator from old estimates at the wrong rate); the deadlines left out are counted as skipped, and ``t_s``
    of the next tick shows the gap.

    Parameters
    ----------
    rate_hz
        Ticks per second, from 100 to 1000.
    clock
        Where time comes from; by default a :class:`MonotonicClock`. Tests pass a :class:`SimulatedClock`.
    gc_policy
        ``"freeze"`` (default): before the loop, collect garbage, freeze every surviving object out of the
        collector's reach (:func:`gc.freeze`) and disable the automatic collector, so no collection pauses a
        tick; afterwards (also after an exception) unfreeze and restore the collector as it was. The tick must
        then not create reference cycles per tick, or memory grows until the run ends. ``"default"``: leave the
        collector alone.
    max_history_ticks
        Timing of at most this many of the most recent ticks is kept for the report (24 bytes per tick).
    realtime_priority
        Real-time mode (Linux): run the ticks with the thread that calls :meth:`run` under ``SCHED_FIFO`` at this
        priority (1 to 99), so no normal process on its CPU can delay a tick. Needs root, ``CAP_SYS_NICE`` or
        ``ulimit -r`` of at least the priority; if the kernel refuses, :meth:`run` raises
        :class:`~exohub.exceptions.ConfigurationError` before the first tick, with nothing left applied. The
        previous policy is restored when the run ends, however it ends. Threads started during the run get the
        normal policy (``SCHED_RESET_ON_FORK``). Keep the clock's spin well under the period (the default
        :class:`MonotonicClock` spins 0.3 ms): the kernel stops real-time threads that use more than
        ``sched_rt_runtime_us`` (95 %) of a CPU, which this warns about. ``None`` (default): the normal policy.
    cpus
        Pin the calling thread to these CPU ids for the run (e.g. ``frozenset({1})``, a CPU kept free with
        ``isolcpus``), and restore its affinity afterwards; ``None`` (default) leaves it.
    lock_memory
        With ``realtime_priority``: lock the process's memory in RAM for the run (``mlockall``), so no page
        fault pauses a tick (needs root, ``CAP_IPC_LOCK`` or ``ulimit -l``).

    Attributes
    ----------
    report_
        The :class:`TimingReport` of the last run, also when it ended with an exception; ``None`` before.

    Notes
    -----
    The parameters are checked here, not in :meth:`run`, so that a misconfigured loop fails before anything
    starts (whether the kernel grants real-time mode is known only when :meth:`run` asks). :meth:`stop` may be
    called from any thread (or from the tick); a stop requested before :meth:`run` makes that run return at once
    with no tick, so a shutdown requested while a run is starting is never lost.
    KeyboardInterrupt (Ctrl-C) ends the run cleanly, and :meth:`run` returns the report of the ticks that ran.
    """

    def __init__(
        self,
        rate_hz: float,
        *,
        clock: Clock | None = None,
        gc_policy: GcPolicy = "freeze",
        max_history_ticks: int = DEFAULT_MAX_HISTORY_TICKS,
        realtime_priority: int | None = None,
        cpus: Iterable[int] | None = None,
        lock_memory: bool = True,
    ) -> None:
        rate = check_positive("rate_hz", rate_hz)
        if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
            raise ValueError(f"rate_hz must be from {MIN_RATE_HZ:g} to {MAX_RATE_HZ:g} Hz, got {rate_hz!r}.")
        if clock is not None and not isinstance(clock, Clock):
            raise TypeError(f"clock must have now_s() and sleep_until(deadline_s), got {type(clock).__name__}.")
        self.rate_hz = rate
        self.clock: Clock = MonotonicClock() if clock is None else clock
        self.gc_policy = check_option("gc_policy", gc_policy, ("freeze", "default"))
        self.max_history_ticks = _check_count("max_history_ticks", max_history_ticks)
        self.realtime_priority = check_realtime_priority(realtime_priority)
        self.cpus = check_cpus(cpus)
        if not isinstance(lock_memory, bool):
            raise TypeError(f"lock_memory must be True or False, got {type(lock_memory).__name__}.")
        self.lock_memory = lock_memory
        if self.realtime_priority is not None and isinstance(self.clock, MonotonicClock):
            message = realtime_spin_warning(self.clock.spin_s, self.period_s)
            if message:
                warnings.warn(message, ExohubWarning, stacklevel=2)
        self.report_: TimingReport | None = None
        self._stop_requested = threading.Event()
        self._n_overruns = 0

    def __repr__(self) -> str:
        realtime = "" if self.realtime_priority is None else f", realtime_priority={self.realtime_priority}"
        cpus = "" if self.cpus is None else f", cpus={set(self.cpus)!r}"
        return (
            f"FixedRateLoop(rate_hz={self.rate_hz!r}, clock={self.clock!r}, gc_policy={self.gc_policy!r}"
            f"{realtime}{cpus})"
        )

    @property
    def period_s(self) -> float:
        """One period (s)."""
        return 1.0 / self.rate_hz

    @property
    def n_overruns(self) -> int:
        """Overruns so far in the current (or last) run; a tick may read it, e.g. for a safety check."""
        return self._n_overruns

    def stop(self) -> None:
        """Ask the loop to return before its next tick (thread-safe; the running tick finishes)."""
        self._stop_requested.set()

    def run(self, tick: Tick, *, duration_s: float | None = None, n_ticks: int | None = None) -> TimingReport:
        """Call ``tick(k, t_s)`` at ``rate_hz`` until a limit, :meth:`stop`, the tick returning False, or Ctrl-C.

        Parameters
        ----------
        tick
            Called with the tick index ``k`` (0, 1, 2, ... with no gap) and its scheduled time ``t_s`` (s since
            the loop started: ``slot / rate_hz``, so an overrun shows as a jump). Returning ``False`` stops the
            loop; ``None`` or ``True`` goes on. An exception from the tick ends the run and propagates (the
            garbage collector and the scheduling are restored first and :attr:`report_` holds the timing of the
            completed ticks).
        duration_s
            Run the ticks scheduled before this time (s since the start); ``None`` for no time limit.
        n_ticks
            Run at most this many ticks; ``None`` for no count limit. With neither limit the loop runs until
            :meth:`stop`, the tick returning False, or KeyboardInterrupt.

        Returns
        -------
        TimingReport
            Also stored as :attr:`report_`.
        """
        if not callable(tick):
            raise TypeError(f"tick must be callable as tick(k, t_s), got {type(tick).__name__}.")
        max_ticks = -1 if n_ticks is None else _check_count("n_ticks", n_ticks)
        n_slots = (
            math.inf if duration_s is None else _n_deadlines(check_positive("duration_s", duration_s), self.rate_hz)
        )
        capacity = int(min(self.max_history_ticks, n_slots, math.inf if max_ticks < 0 else max_ticks))
        times = np.zeros((3, capacity))  # deadline, start, end of each tick, a ring over the last `capacity` ticks
        self._n_overruns = 0
        outcome = _Outcome()
        try:
            with (
                realtime_scheduling(self.realtime_priority, self.cpus, lock_memory=self.lock_memory) as scheduling,
                _gc_policy(self.gc_policy),
                _switch_interval(self.period_s / 4),
            ):
                outcome.scheduling = scheduling
                steal_before_ms = read_steal_ms(scheduling.cpus)
                try:
                    self._run_ticks(tick, times, max_ticks, n_slots, outcome)
                finally:
                    outcome.steal_ms(steal_before_ms, read_steal_ms(scheduling.cpus))
        finally:
            self._stop_requested.clear()
            self.report_ = self._report(times, outcome)
        return self.report_

    def _run_ticks(self, tick: Tick, times: np.ndarray, max_ticks: int, n_slots: float, outcome: "_Outcome") -> None:
        """The loop itself: locals only, and floats as the only objects it creates per tick."""
        now, sleep_until, stop_requested = self.clock.now_s, self.clock.sleep_until, self._stop_requested.is_set
        rate = self.rate_hz
        deadlines, starts, ends = times
        capacity = len(deadlines)
        k = slot = row = n_overruns = n_skipped = 0
        stopped_by = "error"
        t0 = now()
        try:
            while True:
                if k == max_ticks:
                    stopped_by = "n_ticks"
                    break
                if slot >= n_slots:
                    stopped_by = "duration"
                    break
                if stop_requested():
                    stopped_by = "stop"
                    break
                deadline = t0 + slot / rate
                sleep_until(deadline)
                start = now()
                keep = tick(k, slot / rate)
                end = now()
                deadlines[row] = deadline
                starts[row] = start
                ends[row] = end
                k += 1
                row += 1
                if row == capacity:
                    row = 0
                slot += 1
                if end > t0 + slot / rate:  # overrun: resume at the first deadline after `end`, no burst
                    next_slot = int((end - t0) * rate) + 1
                    if next_slot > n_slots:  # deadlines after the end of the run are not skipped ones
                        next_slot = int(n_slots)
                    n_skipped += next_slot - slot
                    n_overruns += 1
                    self._n_overruns = n_overruns
                    slot = next_slot
                if keep is False:
                    stopped_by = "tick"
                    break
        except KeyboardInterrupt:
            stopped_by = "interrupt"
        finally:
            outcome.record(k, n_overruns, n_skipped, stopped_by, t0, now() - t0, row)

    def _report(self, times: np.ndarray, outcome: "_Outcome") -> TimingReport:
        n_kept = min(outcome.n_ticks, times.shape[1])
        ordered = np.roll(times, -outcome.next_row, axis=1) if outcome.n_ticks > times.shape[1] else times
        deadlines, starts, ends = ordered[:, :n_kept]
        return summarise_ticks(
            deadlines,
            starts,
            ends,
            rate_hz=self.rate_hz,
            counts=(outcome.n_ticks, outcome.n_overruns, outcome.n_skipped),
            duration_s=outcome.duration_s,
            stopped_by=outcome.stopped_by,
            scheduling=outcome.scheduling,
            host_steal_ms=outcome.host_steal_ms,
        )


class _Outcome:
    """What a run did, filled in once when it ends (however it ends)."""

    def __init__(self) -> None:
        self.record(0, 0, 0, "error", math.nan, 0.0, 0)
        self.scheduling: Scheduling | None = None
        self.host_steal_ms: float | None = None

    def steal_ms(self, before_ms: float | None, after_ms: float | None) -> None:
        """Record the host's steal time between two readings (None if either is unknown)."""
        self.host_steal_ms = None if before_ms is None or after_ms is None else after_ms - before_ms

    def record(
        self, n_ticks: int, n_overruns: int, n_skipped: int, stopped_by: str, t0: float, duration_s: float, row: int
    ) -> None:
        self.n_ticks, self.n_overruns, self.n_skipped, self.stopped_by = n_ticks, n_overruns, n_skipped, stopped_by
        self.t0, self.duration_s, self.next_row = t0, duration_s, row


@contextmanager
def _gc_policy(policy: str) -> Iterator[None]:
    """Apply ``policy`` for the duration of the block, and restore the collector afterwards."""
    if policy == "default":
        yield
        return
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


@contextmanager
def _switch_interval(interval_s: float) -> Iterator[None]:
    """Let other Python threads (the log flusher) hold the GIL for at most ``interval_s`` at a time during the block.

    CPython's default is 5 ms: a flusher thread converting a batch of rows could hold the loop's thread off for a
    whole 5 ms (measured: the one 5.1 ms pause of a 60 s run at 1 kHz). A quarter of the period bounds that wait.
    """
    previous_s = sys.getswitchinterval()
    sys.setswitchinterval(min(previous_s, interval_s))
    try:
        yield
    finally:
        sys.setswitchinterval(previous_s)


def _n_deadlines(duration_s: float, rate_hz: float) -> int:
    """Deadlines ``slot / rate_hz`` before ``duration_s``; a product a rounding error above an integer counts as it."""
    return max(math.ceil(duration_s * rate_hz - 1e-9), 1)


def _check_count(parameter: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{parameter} must be a positive integer, got {value!r}.")
    return int(value)
