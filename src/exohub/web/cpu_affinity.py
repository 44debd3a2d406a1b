"""Each ``exohub serve`` worker process on one CPU of its own, round robin over the CPUs it may use.

A worker is one event loop plus the threads that run its sync routes; every request passes between them
four times. Left to float, those threads land on different CPUs, and on a virtual machine each hand-over
then wakes another vCPU; pinned, they take turns on one. On this project's 2-core machine, two workers
serving 300 req/s from 50 clients (``benchmarks/bench_api.py``, 2026-12-02, three alternate pairs of runs,
two endpoints each): p99 20-56 ms in five of six pinned runs (one 253 ms) against 118-2,626 ms floating, and
about a sixth less server CPU per request (median 3.8 against 4.5 ms); at saturation 500-719 against 348-494
req/s. The price: work that runs on several threads at once shares the worker's CPU (an argon2id password
hash, four lanes, takes 215 instead of 130 ms).

Only workers that a supervisor spawned are pinned (``exohub serve --workers N`` with N > 1): a single-process
server keeps every CPU for its threads. Nothing is pinned where the process may use one CPU only, or where
its cgroup has a CPU quota (a container whose quota, not a CPU set, limits it sees all the host's CPUs, and
every container would start on the same ones). Pinning is an optimisation: if it fails, the worker logs a
warning and serves unpinned.

Workers claim slots 0, 1, 2... by taking an exclusive lock on ``slot-N.lock`` in a folder of the machine's
temporary directory, shared by every exohub server of the same user on the machine; the lock lasts as long
as the process, so a worker that uvicorn restarts takes the slot its predecessor left. Slot N runs on the
N-th allowed CPU, modulo their count.
"""

import fcntl
import logging
import multiprocessing
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

logger = logging.getLogger(__name__)

MAX_SLOTS = 1024


@dataclass(frozen=True)
class CpuClaim:
    """A worker's slot and CPU; the slot is held while ``lock`` stays open."""

    slot: int
    cpu: int
    lock: TextIO


_held: list[CpuClaim] = []  # the claims of this process, kept open for its lifetime


def shared_slots_dir() -> Path:
    """The machine-local folder where this user's exohub workers claim their slots."""
    return Path(tempfile.gettempdir()) / f"exohub-cpu-slots-{os.getuid()}"


def claim_cpu(slots_dir: Path, cpus: list[int]) -> CpuClaim | None:
    """Take the lowest free slot in ``slots_dir`` and the CPU it maps to (``cpus[slot % len(cpus)]``).

    None if all :data:`MAX_SLOTS` slots are taken.
    """
    if not cpus:
        raise ValueError("no CPUs to choose from")
    slots_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for slot in range(MAX_SLOTS):
        lock = (slots_dir / f"slot-{slot}.lock").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        return CpuClaim(slot=slot, cpu=cpus[slot % len(cpus)], lock=lock)
    return None


def cpu_quota_set(cgroup_root: Path = Path("/sys/fs/cgroup")) -> bool:
    """Whether this process's cgroup limits its CPU time by a quota (cgroup v2 ``cpu.max``, v1 CFS quota)."""
    try:
        v2 = cgroup_root / "cpu.max"
        if v2.exists():
            return v2.read_text().split()[0] != "max"
        v1 = cgroup_root / "cpu" / "cpu.cfs_quota_us"
        return v1.exists() and int(v1.read_text()) > 0
    except (OSError, ValueError, IndexError):
        return False


def pin_worker(slots_dir: Path | None = None) -> int | None:
    """Pin this worker process (its threads now and those it starts later) to a CPU of its own; return the CPU.

    Returns None, pinning nothing, in a process no supervisor spawned, where it may use a single CPU, under a
    cgroup CPU quota, on a platform that cannot pin, or when pinning fails (logged).
    """
    if multiprocessing.parent_process() is None or not hasattr(os, "sched_setaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2 or cpu_quota_set():
        return None
    try:
        claim = claim_cpu(slots_dir or shared_slots_dir(), cpus)
        if claim is None:
            return None
        _held.append(claim)
        for task in Path("/proc/self/task").iterdir():
            try:
                os.sched_setaffinity(int(task.name), {claim.cpu})  # new threads inherit their creator's
            except ProcessLookupError:
                continue  # the thread ended meanwhile
    except OSError as err:
        logger.warning("worker %d serves without a CPU of its own: %s", os.getpid(), err)
        return None
    logger.info("worker %d took slot %d: CPU %d", os.getpid(), claim.slot, claim.cpu)
    return claim.cpu
