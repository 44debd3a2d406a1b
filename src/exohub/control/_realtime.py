"""Real-time mode for the loop's thread: SCHED_FIFO, CPU affinity and locked memory, applied and undone as a block.

Linux only. ``os.sched_setscheduler(0, ...)`` and ``os.sched_setaffinity(0, ...)`` act on the calling *thread*
(the kernel reads pid 0 as the caller's thread id), so :func:`realtime_scheduling` changes the loop's thread and no
other. Memory locking (``mlockall``) is process-wide by nature: it pins every page of the process in RAM so that no
page fault (a page swapped out or not yet mapped) pauses a tick.

Threads started inside the block do **not** inherit the real-time policy: FIFO is set with
``SCHED_RESET_ON_FORK``, so the kernel gives every thread (and process) the loop's thread creates during the run
the normal policy at nice 0. A real-time thread beside the loop is a hazard: the log flusher at the loop's priority
on the loop's CPU would never be preempted by the loop (FIFO threads of one priority do not preempt each other),
and its sink (a file, a socket) may block for milliseconds. They do inherit the CPU affinity, where they run only
while the loop's thread sleeps. The session's :class:`~exohub.control.RingLogFlusher` is started before the run,
outside the block, and keeps the process's normal policy and CPUs.
"""

import ctypes
import ctypes.util
import os
import platform
import resource
import sys
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from exohub.exceptions import ConfigurationError

#: ``mlockall`` flags; powerpc, sparc and alpha use other values than every other Linux architecture.
_MCL_FLAGS = {"ppc": (0x2000, 0x4000), "sparc": (0x2000, 0x4000), "alpha": (0x2000, 0x4000)}
_RT_RUNTIME_FILE = Path("/proc/sys/kernel/sched_rt_runtime_us")
_RT_PERIOD_FILE = Path("/proc/sys/kernel/sched_rt_period_us")
_POLICY_NAMES = {
    getattr(os, name): name
    for name in ("SCHED_OTHER", "SCHED_BATCH", "SCHED_IDLE", "SCHED_FIFO", "SCHED_RR", "SCHED_DEADLINE")
    if hasattr(os, name)
}


@dataclass(frozen=True)
class Scheduling:
    """How the loop's thread was scheduled during a run (what :func:`realtime_scheduling` yields).

    Attributes
    ----------
    policy
        ``"SCHED_FIFO"`` in real-time mode, else the thread's policy (``"SCHED_OTHER"`` normally); ``"unknown"``
        where the platform cannot tell.
    realtime_priority
        The FIFO priority, or ``None`` when the run was not real-time.
    cpus
        The CPUs the thread was allowed to run on (pinned or inherited); ``None`` where the platform cannot tell.
    memory_locked
        Whether the process's memory was locked (``mlockall``) for the run.
    """

    policy: str = "unknown"
    realtime_priority: int | None = None
    cpus: tuple[int, ...] | None = None
    memory_locked: bool = False


def check_realtime_priority(realtime_priority: int | None) -> int | None:
    """Return ``realtime_priority`` if it is ``None`` or a SCHED_FIFO priority of this system, else raise.

    The range is ``os.sched_get_priority_min/max(SCHED_FIFO)`` (1 to 99 on Linux; 1 to 99 where Python cannot
    ask). A bool or a non-integer raises ``TypeError``, an integer out of range ``ValueError``.
    """
    if realtime_priority is None:
        return None
    if isinstance(realtime_priority, bool) or not isinstance(realtime_priority, int):
        raise TypeError(f"realtime_priority must be an integer or None, got {type(realtime_priority).__name__}.")
    low, high = _fifo_priority_range()
    if not low <= realtime_priority <= high:
        raise ValueError(
            f"realtime_priority must be a SCHED_FIFO priority from {low} to {high} (or None for the normal "
            f"policy), got {realtime_priority!r}."
        )
    return realtime_priority


def check_cpus(cpus: Iterable[int] | None) -> frozenset[int] | None:
    """Return ``cpus`` as a frozenset if it is ``None`` or a non-empty set of this machine's CPU ids, else raise.

    Ids run from 0 to ``os.cpu_count() - 1``; CPUs taken from the scheduler with ``isolcpus`` are valid ids (the
    loop is the one thread meant to run there). Whether the process's cpuset allows them is known only when the
    run applies them.
    """
    if cpus is None:
        return None
    if isinstance(cpus, str) or not isinstance(cpus, Iterable):
        raise TypeError(f"cpus must be a set of CPU ids (integers) or None, got {type(cpus).__name__}.")
    ids = tuple(cpus)
    if not ids or not all(isinstance(cpu, int) and not isinstance(cpu, bool) for cpu in ids):
        raise ValueError(f"cpus must be a non-empty set of CPU ids (integers), got {cpus!r}.")
    n_cpus = os.cpu_count() or 1
    unknown = sorted(cpu for cpu in ids if not 0 <= cpu < n_cpus)
    if unknown:
        raise ValueError(f"cpus has unknown CPU ids {unknown}: this machine has CPUs 0 to {n_cpus - 1}.")
    return frozenset(ids)


def realtime_spin_warning(spin_s: float, period_s: float) -> str | None:
    """Say why a clock spinning ``spin_s`` of each ``period_s`` will be throttled under SCHED_FIFO (None if not).

    The kernel lets real-time threads use ``sched_rt_runtime_us`` of every ``sched_rt_period_us`` (95 % by
    default) and then stops them until the next period: a loop that busy-waits its whole period would pause for
    about 50 ms every second.
    """
    share = rt_runtime_share()
    if share is None or spin_s / period_s < share:
        return None
    return (
        f"the clock spins {spin_s * 1e3:.3g} ms of each {period_s * 1e3:.3g} ms period under SCHED_FIFO, above the "
        f"{100 * share:.0f} % of a CPU the kernel allows real-time threads ({_RT_RUNTIME_FILE}): it will stop the "
        f"loop for about {(1 - share) * 1e3:.0f} ms every second. Spin less (MonotonicClock(spin_s=3e-4))."
    )


def rt_runtime_share() -> float | None:
    """The share of each CPU second the kernel gives real-time threads; None if unlimited or unknown."""
    try:
        runtime_us = int(_RT_RUNTIME_FILE.read_text())
        period_us = int(_RT_PERIOD_FILE.read_text())
    except (OSError, ValueError):
        return None
    return None if runtime_us < 0 or period_us <= 0 else runtime_us / period_us


@contextmanager
def realtime_scheduling(
    realtime_priority: int | None, cpus: frozenset[int] | None = None, *, lock_memory: bool = True
) -> Iterator[Scheduling]:
    """Run the block with the calling thread pinned to ``cpus``, under SCHED_FIFO, with the memory locked.

    Applied in this order: CPU affinity (``cpus``, if given), memory locking (with a priority and
    ``lock_memory``), SCHED_FIFO at ``realtime_priority`` (if given). If a step is refused, the steps already
    applied are undone and :class:`~exohub.exceptions.ConfigurationError` says what is missing. On exit (however
    the block ends) the previous policy and priority, affinity and memory locking are restored in reverse order.
    With neither a priority nor CPUs nothing changes.

    Parameters
    ----------
    realtime_priority
        SCHED_FIFO priority (see :func:`check_realtime_priority`), or ``None`` to keep the thread's policy.
    cpus
        CPU ids to pin the thread to (see :func:`check_cpus`), or ``None`` to keep its affinity.
    lock_memory
        With a priority: ``mlockall(MCL_CURRENT | MCL_FUTURE)`` for the block, so no page fault pauses the loop.
        Memory the process had already locked stays locked afterwards.

    Yields
    ------
    Scheduling
        What was applied, for the timing report.
    """
    realtime_priority = check_realtime_priority(realtime_priority)
    cpus = check_cpus(cpus)
    with ExitStack() as undo:
        if cpus is not None:
            undo.callback(_set_affinity, _apply_affinity(cpus))
        locked = realtime_priority is not None and lock_memory
        if locked:
            already_locked = _locked_memory_kb() > 0
            _lock_memory()
            if not already_locked:
                undo.callback(_unlock_memory)
        if realtime_priority is not None:
            previous = _apply_fifo(realtime_priority)
            undo.callback(os.sched_setscheduler, 0, *previous)
        yield _observe(realtime_priority, memory_locked=locked)


def read_steal_ms(cpus: Iterable[int] | None) -> float | None:
    """Hypervisor steal time so far (ms) summed over ``cpus`` (all CPUs if None), from /proc/stat; None elsewhere.

    Steal is time a virtual CPU was ready to run but the host ran something else: a pause no setting inside the
    virtual machine can prevent. The kernel counts it in ticks of ``1 / SC_CLK_TCK`` s (10 ms), so a difference of
    two readings is coarse.
    """
    try:
        lines = Path("/proc/stat").read_text().splitlines()
        ticks_per_s = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return None
    names = {"cpu"} if cpus is None else {f"cpu{cpu}" for cpu in cpus}
    ticks = 0
    for line in lines:
        fields = line.split()
        if fields and fields[0] in names and len(fields) > 8:
            ticks += int(fields[8])
    return 1e3 * ticks / ticks_per_s


def _fifo_priority_range() -> tuple[int, int]:
    if hasattr(os, "sched_get_priority_min") and hasattr(os, "SCHED_FIFO"):
        return os.sched_get_priority_min(os.SCHED_FIFO), os.sched_get_priority_max(os.SCHED_FIFO)
    return 1, 99


def _require_linux(what: str) -> None:
    if not sys.platform.startswith("linux"):
        raise ConfigurationError(
            f"{what} needs Linux; this is {platform.system() or sys.platform}. Run without realtime_priority and cpus."
        )


def _apply_affinity(cpus: frozenset[int]) -> set[int]:
    """Pin the calling thread to ``cpus``; return its previous CPUs."""
    _require_linux("pinning the loop to CPUs")
    previous = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, cpus)
    except OSError as err:
        raise ConfigurationError(
            f"the kernel refused to pin the loop to CPUs {sorted(cpus)} ({err.strerror}): they are outside this "
            f"process's cpuset (allowed now: {sorted(previous)}); choose allowed CPUs or widen the cpuset."
        ) from err
    return previous


def _set_affinity(cpus: set[int]) -> None:
    os.sched_setaffinity(0, cpus)


def _apply_fifo(priority: int) -> tuple[int, os.sched_param]:
    """Put the calling thread under SCHED_FIFO (reset on fork) at ``priority``; return its previous policy."""
    _require_linux("real-time scheduling (SCHED_FIFO)")
    previous = (os.sched_getscheduler(0), os.sched_getparam(0))
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO | os.SCHED_RESET_ON_FORK, os.sched_param(priority))
    except PermissionError as err:
        soft, _ = resource.getrlimit(resource.RLIMIT_RTPRIO)
        limit = "unlimited" if soft == resource.RLIM_INFINITY else str(soft)
        raise ConfigurationError(
            f"the kernel refused SCHED_FIFO at priority {priority} ({err.strerror}): run as root, grant the "
            f"CAP_SYS_NICE capability, or raise the real-time priority limit to at least {priority} (ulimit -r; "
            f"now {limit}; rtprio in /etc/security/limits.conf). In a container also allow real-time scheduling "
            "(e.g. docker run --cap-add SYS_NICE --ulimit rtprio=99)."
        ) from err
    except OSError as err:
        raise ConfigurationError(f"the kernel refused SCHED_FIFO at priority {priority}: {err}.") from err
    return previous


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _lock_memory() -> None:
    _require_linux("locking memory (mlockall)")
    machine = platform.machine().lower()
    current, future = next((flags for arch, flags in _MCL_FLAGS.items() if machine.startswith(arch)), (1, 2))
    if _libc().mlockall(current | future) != 0:
        errno = ctypes.get_errno()
        raise ConfigurationError(
            f"the kernel refused to lock the process's memory (mlockall: {os.strerror(errno)}): run as root, grant "
            "CAP_IPC_LOCK, or raise the locked-memory limit (ulimit -l unlimited; memlock in "
            "/etc/security/limits.conf). Or run without memory locking (lock_memory=False) and accept page faults."
        )


def _unlock_memory() -> None:
    _libc().munlockall()


def _locked_memory_kb() -> int:
    """The process's locked memory (kB, VmLck in /proc/self/status); 0 when unknown."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmLck:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _observe(realtime_priority: int | None, *, memory_locked: bool) -> Scheduling:
    """The calling thread's scheduling now."""
    policy = "unknown"
    if hasattr(os, "sched_getscheduler"):
        code = os.sched_getscheduler(0) & ~getattr(os, "SCHED_RESET_ON_FORK", 0)
        policy = _POLICY_NAMES.get(code, str(code))
    cpus = tuple(sorted(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else None
    return Scheduling(policy, realtime_priority, cpus, memory_locked)
