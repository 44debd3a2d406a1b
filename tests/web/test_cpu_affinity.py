"""``exohub serve`` workers each take a CPU of their own, round robin, and give it back when they end."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from exohub.web.cpu_affinity import SLOTS_DIR, claim_cpu

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux CPU affinity")


def test_workers_take_the_lowest_free_slot_round_robin_over_the_cpus(tmp_path: Path) -> None:
    claims = [claim_cpu(tmp_path, [3, 5]) for _ in range(3)]
    assert [(c.slot, c.cpu) for c in claims] == [(0, 3), (1, 5), (2, 3)]
    claims[1].lock.close()  # the worker on slot 1 ended
    again = claim_cpu(tmp_path, [3, 5])
    assert (again.slot, again.cpu) == (1, 5)
    for claim in (claims[0], claims[2], again):
        claim.lock.close()


def test_no_cpus_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no CPUs"):
        claim_cpu(tmp_path, [])


_WORKER = """
import os, sys, threading
from pathlib import Path
from exohub.web.cpu_affinity import pin_worker
done = threading.Event()
before = threading.Thread(target=done.wait); before.start()
cpu = pin_worker(Path(sys.argv[1]))
seen = {}
after = threading.Thread(target=lambda: seen.update(after=os.sched_getaffinity(0))); after.start(); after.join()
print(cpu, sorted(os.sched_getaffinity(0)), sorted(os.sched_getaffinity(before.native_id)), sorted(seen["after"]))
sys.stdout.flush()
if len(sys.argv) > 2:
    sys.stdin.readline()  # hold the slot until told to end
done.set()
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_a_worker_and_all_its_threads_run_on_its_cpu_and_the_next_worker_takes_the_next(tmp_path: Path) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    with subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(tmp_path), "hold"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as first:
        assert first.stdout is not None and first.stdin is not None
        line = first.stdout.readline().split(maxsplit=1)
        assert int(line[0]) == cpus[0]
        assert line[1].strip() == f"[{cpus[0]}] [{cpus[0]}] [{cpus[0]}]"  # the process, an older and a newer thread
        second = subprocess.run(
            [sys.executable, "-c", _WORKER, str(tmp_path)], capture_output=True, text=True, check=True
        )
        assert int(second.stdout.split()[0]) == cpus[1]  # slot 0 is held: the next CPU
        first.stdin.write("\n")
        first.stdin.close()
        assert first.wait(timeout=30) == 0
    third = subprocess.run([sys.executable, "-c", _WORKER, str(tmp_path)], capture_output=True, text=True, check=True)
    assert int(third.stdout.split()[0]) == cpus[0]  # slot 0 was given back when its worker ended
    assert (tmp_path / SLOTS_DIR).is_dir()
