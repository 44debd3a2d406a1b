"""Each ``exohub serve`` worker process on one CPU of its own, round robin over the CPUs it may use.

A worker is one event loop plus the threads that run its sync routes; every request passes between them
four times. Left to float, those threads land on different CPUs, and on a virtual machine each hand-over
then wakes another vCPU; pinned, they take turns on one. On this project's 2-core machine, two workers
serving 300 req/s from 50 clients (``benchmarks/bench_api.py``, 2026-12-02, three alternate pairs of runs,
two endpoints each): p99 20-56 ms in five of six pinned runs (one 253 ms) against 118-2,626 ms floating, and
about a sixth less server CPU per request (median 3.8 against 4.5 ms); at saturation 500-719 against 348-494 req/s.

Workers claim slots 0, 1, 2... by taking an exclusive lock on ``slot-N.lock`` in a shared folder; the lock
lasts as long as the process, so a worker that uvicorn restarts takes the slot its predecessor left. Slot N
runs on the N-th allowed CPU, modulo their count.
"""

import fcntl
import logging
import os
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import TextIO

logger = logging.getLogger(__name__)

SLOTS_DIR = Path("run") / "cpu-slots"  # under the data directory


@dataclass(frozen=True)
class CpuClaim:
    """A worker's slot and CPU; the slot is held while ``lock`` stays open."""

    slot: int
    cpu: int
    lock: TextIO


_held: list[CpuClaim] = []  # the claims of this process, kept open for its lifetime


def claim_cpu(slots_dir: Path, cpus: list[int]) -> CpuClaim:
    """Take the lowest free slot in ``slots_dir`` and the CPU it maps to (``cpus[slot % len(cpus)]``)."""
    if not cpus:
        raise ValueError("no CPUs to choose from")
    slots_dir.mkdir(parents=True, exist_ok=True)
    for slot in count():
        lock = (slots_dir / f"slot-{slot}.lock").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        return CpuClaim(slot=slot, cpu=cpus[slot % len(cpus)], lock=lock)
    raise AssertionError("unreachable")  # count() never ends


def pin_worker(data_dir: Path) -> int | None:
    """Pin this process (its threads now and those it starts later) to a CPU of its own; return the CPU.

    Returns None, pinning nothing, where there is a single CPU to use or the platform cannot pin.
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    claim = claim_cpu(data_dir / SLOTS_DIR, cpus)
    _held.append(claim)
    for task in Path("/proc/self/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), {claim.cpu})  # new threads inherit their creator's
        except ProcessLookupError:
            continue  # the thread ended meanwhile
    logger.info("worker %d took slot %d: CPU %d", os.getpid(), claim.slot, claim.cpu)
    return claim.cpu
