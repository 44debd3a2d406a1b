"""``exohub serve`` workers each take a CPU of their own, round robin, and give it back when they end."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from exohub.web import cpu_affinity
from exohub.web.cpu_affinity import claim_cpu, cpu_quota_set, pin_worker

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux CPU affinity")


def test_workers_take_the_lowest_free_slot_round_robin_over_the_cpus(tmp_path: Path) -> None:
    claims = [claim_cpu(tmp_path, [3, 5]) for _ in range(3)]
    assert [(c.slot, c.cpu) for c in claims if c] == [(0, 3), (1, 5), (2, 3)]
    claims[1].lock.close()  # type: ignore[union-attr]  # the worker on slot 1 ended
    again = claim_cpu(tmp_path, [3, 5])
    assert again is not None and (again.slot, again.cpu) == (1, 5)
    for claim in (claims[0], claims[2], again):
        claim.lock.close()  # type: ignore[union-attr]


def test_no_free_slot_and_no_cpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu_affinity, "MAX_SLOTS", 1)
    held = claim_cpu(tmp_path, [0, 1])
    assert held is not None and claim_cpu(tmp_path, [0, 1]) is None
    held.lock.close()
    with pytest.raises(ValueError, match="no CPUs"):
        claim_cpu(tmp_path, [])


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "max 100000\n"}, False),
        ({"cpu.max": "200000 100000\n"}, True),  # two CPUs' worth of time
        ({"cpu/cpu.cfs_quota_us": "-1\n"}, False),
        ({"cpu/cpu.cfs_quota_us": "150000\n"}, True),
        ({}, False),
        ({"cpu.max": ""}, False),  # unreadable: no quota assumed
    ],
)
def test_a_cgroup_cpu_quota_is_recognised(tmp_path: Path, files: dict[str, str], quota: bool) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cpu_quota_set(tmp_path) is quota


def test_a_process_no_supervisor_spawned_is_not_pinned(tmp_path: Path) -> None:
    before = os.sched_getaffinity(0)
    assert pin_worker(tmp_path) is None  # pytest itself: a single-process server keeps every CPU
    assert os.sched_getaffinity(0) == before
    assert not any(tmp_path.iterdir())


# Run as a script: its main process spawns "workers" with multiprocessing, as uvicorn's supervisor does.
_SUPERVISOR = """
import multiprocessing, os, sys, threading
from pathlib import Path
from exohub.web.cpu_affinity import pin_worker

def worker(slots_dir, hold, out):
    done = threading.Event()
    older = threading.Thread(target=done.wait)
    older.start()
    cpu = pin_worker(Path(slots_dir))
    seen = {}
    newer = threading.Thread(target=lambda: seen.update(cpus=os.sched_getaffinity(0)))
    newer.start()
    newer.join()
    out.put((cpu, sorted(os.sched_getaffinity(0)), sorted(os.sched_getaffinity(older.native_id)), sorted(seen["cpus"])))
    if hold is not None:
        hold.wait()
    done.set()

if __name__ == "__main__":
    ctx = multiprocessing.get_context("spawn")
    out, hold = ctx.Queue(), ctx.Event()
    first = ctx.Process(target=worker, args=(sys.argv[1], hold, out)); first.start()
    print(out.get(timeout=60))
    second = ctx.Process(target=worker, args=(sys.argv[1], None, out)); second.start()
    print(out.get(timeout=60)); second.join()
    hold.set(); first.join()  # the first worker ends: its slot is free again
    third = ctx.Process(target=worker, args=(sys.argv[1], None, out)); third.start()
    print(out.get(timeout=60)); third.join()
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 or cpu_quota_set(), reason="needs two CPUs and no CPU quota")
def test_spawned_workers_and_all_their_threads_run_on_their_cpus_round_robin(tmp_path: Path) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    script = tmp_path / "supervisor.py"
    script.write_text(_SUPERVISOR)
    slots = tmp_path / "slots"
    result = subprocess.run([sys.executable, str(script), str(slots)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    first, second, third = (ast.literal_eval(line) for line in result.stdout.splitlines())
    only = [cpus[0]]
    assert first == (cpus[0], only, only, only)  # the process, a thread older than the pinning, a newer one
    assert second[0] == cpus[1]  # slot 0 is held: the next CPU
    assert third[0] == cpus[0]  # slot 0 was given back when its worker ended


def test_a_worker_that_cannot_claim_a_slot_serves_unpinned(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # the slots' folder cannot be made under a file, not even by root
    script = tmp_path / "supervisor.py"
    script.write_text(
        _SUPERVISOR.split('if __name__ == "__main__":')[0]
        + (
            'if __name__ == "__main__":\n'
            '    ctx = multiprocessing.get_context("spawn")\n'
            "    out = ctx.Queue()\n"
            "    p = ctx.Process(target=worker, args=(sys.argv[1], None, out)); p.start()\n"
            "    print(out.get(timeout=60)); p.join()\n"
        )
    )
    result = subprocess.run([sys.executable, str(script), str(blocker / "slots")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert ast.literal_eval(result.stdout)[0] is None
    assert "without a CPU of its own" in result.stderr
