"""Load benchmark of exohub's authenticated list endpoints on PostgreSQL.

What it measures
    Throughput (requests/s) and latency (p50, p99) of two authenticated, paginated list endpoints
    under 50 concurrent keep-alive clients:

    * ``GET /api/v1/organisations?limit=50``: the consortium directory (bearer-token lookup, count, page);
    * ``GET /api/v1/organisations/{id}/members?limit=50``: a tenant-scoped list (admin.jp's clinic).

    The goal (from the issue) is at least 300 req/s with p99 at most 100 ms on a 2-core machine.

How
    1. A fresh database (``exohub_bench`` by default, dropped first if it exists) is created on the
       PostgreSQL server of ``EXOHUB_BENCH_DATABASE_URL``, migrated, and seeded with the demo
       consortium plus extra organisations and members, so that each list fills a 50-item page.
    2. ``exohub serve`` runs in its own process (production settings, N uvicorn workers) on a free
       loopback port; the script waits for ``/health``.
    3. A bearer token is requested from ``POST /api/v1/auth/token`` for admin.jp.
    4. ``wrk`` (a second process, on loopback) warms each endpoint up briefly, then loads it for
       ``--duration`` seconds with ``--connections`` connections; its report is parsed.
    5. Tables and ``benchmarks/results/bench_api.json`` give the figures; each row says PASS or MISS
       against the goal. Non-2xx responses or socket errors fail the run (exit status 1). Each row also
       gives the CPU time per request of the server processes and of PostgreSQL (from /proc), and the
       share of the CPUs that unrelated processes took meanwhile: above 10% the figures are suspect.
    6. Just before each load, the script times a fixed single-threaded workload (JSON round trips of a
       50-item page, best of 5) pinned to each CPU in turn (``calib ms``, one figure per CPU). On this
       project's virtual machine one vCPU at a time is about 1.8x slower than the other, which one changes
       within seconds, and the machine as a whole changes by about 1.5x from day to day: read the figures of
       different runs alongside it.

    7. Then, for each ``--rates`` value (default the goal's 300 req/s), ``benchmarks/_open_loop.py`` (a second
       process, on loopback) offers that rate over the same 50 keep-alive connections, each sending on a
       fixed schedule, and measures each latency from when the request was due (as wrk2 does), so a stall
       counts in full for every request it holds back.

    The two halves answer the goal's two parts. wrk keeps every connection busy (a closed loop): it finds
    the most the service serves (``>= 300 req/s``), but at that point its latencies are those of a saturated
    service, whose mean is connections / throughput (Little's law: with 50 connections, about 60 ms at 850
    req/s), and a client that waits for a stalled answer sends nothing meanwhile, so the stall's cost to the
    requests it held back goes unrecorded. The fixed-rate half measures the latency at the goal's load
    (``p99 <= 100 ms`` at 300 req/s from 50 clients). Both tables are printed; the goal is met when both hold.

    The server is stopped and the database dropped at the end, also after an error or Ctrl+C.

Usage::

    .venv/bin/python benchmarks/bench_api.py                     # the default worker count
    .venv/bin/python benchmarks/bench_api.py --workers 1 2 3     # compare worker counts
    .venv/bin/python benchmarks/bench_api.py --duration 60 --connections 100
    .venv/bin/python benchmarks/bench_api.py --rates 300 450 600 # latency at several offered rates
    PYTHONPATH=/tmp/other/src .venv/bin/python benchmarks/bench_api.py  # A/B: serve another source tree
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from exohub.web.accounts import service as accounts
from exohub.web.accounts.models import Organisation, User
from exohub.web.accounts.schemas import MemberCreate, OrganisationCreate
from exohub.web.audit.service import AuditContext
from exohub.web.database import make_engine, make_sessionmaker, unit_of_work
from exohub.web.demo import DEMO_DOMAIN, DEMO_PASSWORD, seed_demo
from exohub.web.migrate import upgrade
from exohub.web.security import hash_password
from exohub.web.tenancy import SYSTEM, OrganisationKind, Role

ROOT = Path(__file__).resolve().parent.parent
EXOHUB = ROOT / ".venv" / "bin" / "exohub"
RESULTS = ROOT / "benchmarks" / "results" / "bench_api.json"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/exohub_bench"
BENCH_USER = f"admin.jp@{DEMO_DOMAIN}"

GOAL_REQUESTS_PER_S = 300.0
GOAL_P99_MS = 100.0
GOAL_CONNECTIONS = 50
OTHER_CPU_WARNING_PCT = 10.0  # CPU share of unrelated processes above which the figures are suspect
RATE_KEPT_UP_SHARE = 0.98  # a fixed-rate run whose answers came at less than this share of the offered rate fell behind
OPEN_LOOP = ROOT / "benchmarks" / "_open_loop.py"
OPEN_LOOP_TIMEOUT_S = 10.0

COUNTRIES = ("JP", "KR", "AU", "ID", "PH", "SG", "TH", "MY", "VN", "NZ", "IN", "TW")
ROLES = (Role.THERAPIST, Role.CLINICIAN, Role.RESEARCHER, Role.AUDITOR)


T = TypeVar("T")


class BenchError(RuntimeError):
    """The benchmark itself failed (not a missed goal)."""


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str


@dataclass(frozen=True)
class WrkResult:
    endpoint: str
    path: str
    workers: int
    connections: int
    threads: int
    duration_s: float
    requests: int
    requests_per_s: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    non_2xx: int
    socket_errors: int
    server_cpu_ms_per_request: float | None = None
    postgres_cpu_ms_per_request: float | None = None
    wrk_cpu_pct: float | None = None
    other_cpu_pct: float | None = None
    calibration_ms: tuple[float, ...] = ()
    measured_at: str = ""

    @property
    def judged(self) -> bool:
        """Whether this run is one the goal speaks of (its client count)."""
        return self.connections == GOAL_CONNECTIONS

    @property
    def goal_met(self) -> bool:
        """The goal's throughput part; this run's p99 is that of a saturated service (see the module docstring)."""
        return self.judged and self.requests_per_s >= GOAL_REQUESTS_PER_S

    @property
    def clean(self) -> bool:
        return self.non_2xx == 0 and self.socket_errors == 0 and self.requests > 0


@dataclass(frozen=True)
class RateResult:
    """One fixed-rate run of ``_open_loop.py``: latencies from each request's due time."""

    endpoint: str
    path: str
    workers: int
    connections: int
    duration_s: float
    offered_per_s: float
    achieved_per_s: float
    requests: int
    p50_ms: float | None  # None: no request was answered
    p90_ms: float | None
    p99_ms: float | None
    p99_9_ms: float | None
    max_ms: float | None
    non_2xx: int
    errors: int
    unsent: int
    first_error: str
    generator_cpu_pct: float
    server_cpu_ms_per_request: float | None = None
    postgres_cpu_ms_per_request: float | None = None
    other_cpu_pct: float | None = None
    calibration_ms: tuple[float, ...] = ()
    measured_at: str = ""

    @property
    def kept_up(self) -> bool:
        """The service answered (nearly) every request due in the window: the offered rate was served."""
        return self.achieved_per_s >= RATE_KEPT_UP_SHARE * self.offered_per_s

    @property
    def judged(self) -> bool:
        """Whether this run is one the goal speaks of: its clients, and at least its rate (lower rates inform)."""
        return self.connections == GOAL_CONNECTIONS and self.offered_per_s >= GOAL_REQUESTS_PER_S

    @property
    def goal_met(self) -> bool:
        """The goal's latency part: p99 within the goal while the offered rate was served."""
        return self.judged and self.kept_up and self.p99_ms is not None and self.p99_ms <= GOAL_P99_MS

    @property
    def clean(self) -> bool:
        return self.non_2xx == 0 and self.errors == 0 and self.unsent == 0 and self.requests > 0


# Database ----------------------------------------------------------------------------------------------


@contextmanager
def bench_database(url: str, admin_database: str) -> Iterator[str]:
    """Create an empty database for ``url`` (dropping any old one) and drop it again afterwards."""
    target = make_url(url)
    name = target.database or ""
    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or "bench" not in name:
        raise BenchError(f"refusing to create and drop database {name!r}: its name must contain 'bench'")
    admin = create_engine(target.set(database=admin_database), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        print(f"created database {name} on {target.host}:{target.port}")
        yield target.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        print(f"dropped database {name}")


def seed(url: str, *, data_dir: Path, organisations: int, members: int) -> int:
    """Migrate and seed (demo recordings under the server's ``data_dir``); return the id of the listed organisation."""
    upgrade(url)
    engine = make_engine(url)
    try:
        for session in unit_of_work(make_sessionmaker(engine)):
            seed_demo(session, data_dir=data_dir)
            home_id = _add_organisations(session, organisations)
            _add_members(session, home_id, members)
    finally:
        engine.dispose()
    print(f"seeded the demo consortium + {organisations} organisations + {members} members of organisation {home_id}")
    return home_id


def _add_organisations(session: Session, count: int) -> int:
    context = AuditContext(actor_user_id=None, address="bench_api")
    kinds = list(OrganisationKind)
    for i in range(count):
        accounts.create_organisation(
            session=session,
            principal=SYSTEM,
            context=context,
            data=OrganisationCreate(
                name=f"Bench Organisation {i:04d}",
                kind=kinds[i % len(kinds)],
                country_code=COUNTRIES[i % len(COUNTRIES)],
                city=f"City {i % 37}",
            ),
        )
    admin = accounts.get_by_email(session=session, email=BENCH_USER)
    home = session.scalar(select(Organisation).where(Organisation.name == "Sakura Rehabilitation Clinic"))
    if admin is None or home is None:
        raise BenchError("the demo seed has no admin.jp or no Sakura Rehabilitation Clinic")
    return home.id


def _add_members(session: Session, organisation_id: int, count: int) -> None:
    # Accounts are inserted with one shared hash (argon2 takes ~0.3 s per password); the memberships go
    # through the service, as an admin adding an existing account would.
    context = AuditContext(actor_user_id=None, address="bench_api")
    password_hash = hash_password(secrets.token_urlsafe(16))
    users = [
        User(email=f"member{i:04d}@bench.exohub.org", full_name=f"Bench Member {i:04d}", password_hash=password_hash)
        for i in range(count)
    ]
    session.add_all(users)
    session.flush()
    for i, user in enumerate(users):
        accounts.add_member(
            session=session,
            scope=SYSTEM.scope_everywhere(),
            context=context,
            organisation_id=organisation_id,
            data=MemberCreate(email=user.email, role=ROLES[i % len(ROLES)]),
        )


# Server ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        contentlines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(contentlines[-lines:])


@contextmanager
def running_server(database_url: str, *, workers: int, pool_size: int | None, data_dir: Path) -> Iterator[Server]:
    """Run ``exohub serve`` in its own process group on a free loopback port; stop it afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "EXOHUB_DATABASE_URL": database_url,
        "EXOHUB_ENVIRONMENT": "production",
        "EXOHUB_SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
        "EXOHUB_DATA_DIR": str(data_dir),
    }
    if pool_size is not None:
        env["EXOHUB_DATABASE_POOL_SIZE"] = str(pool_size)
    log_path = data_dir / f"server-{workers}w.log"
    command = [str(EXOHUB), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process=process, base_url=f"http://127.0.0.1:{port}", log_path=log_path)
    try:
        wait_healthy(server)
        print(f"server up: {workers} worker(s) on {server.base_url} (pid {process.pid})")
        yield server
    finally:
        stop(process)


def wait_healthy(server: Server, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"the server exited with status {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise BenchError(f"the server did not answer /health within {timeout_s:.0f} s:\n{server.log_tail()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group (the uvicorn supervisor and its workers): TERM, then KILL."""
    if process.poll() is not None:
        return
    for sig, grace_s in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue


@dataclass(frozen=True)
class CpuSnapshot:
    """CPU seconds used so far: by the whole machine (busy time) and by each live process."""

    taken_at: float
    machine_busy_s: float
    children_s: float  # CPU seconds of this script's finished (reaped) children, such as wrk
    processes: dict[int, tuple[int, str, float]]  # pid -> (process group, command name, CPU seconds)

    @classmethod
    def take(cls) -> CpuSnapshot:
        ticks = os.sysconf("SC_CLK_TCK")
        # cpu  user nice system idle iowait irq softirq steal ...
        fields = [int(n) for n in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        busy = sum(fields[:3]) + sum(fields[5:8])
        processes: dict[int, tuple[int, str, float]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                content = stat.read_text()
            except OSError:
                continue  # the process ended meanwhile
            comm = content[content.index("(") + 1 : content.rindex(")")]
            # After "pid (comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
            # cutime cstime. PostgreSQL also counts its ended backends (the postmaster's reaped children): the
            # pool opens and closes connections beyond its size under load.
            rest = content[content.rindex(")") + 1 :].split()
            used = int(rest[11]) + int(rest[12])
            if comm.startswith("postgres"):
                used += int(rest[13]) + int(rest[14])
            processes[int(stat.parent.name)] = (int(rest[2]), comm, used / ticks)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return cls(
            taken_at=time.monotonic(),
            machine_busy_s=busy / ticks,
            children_s=children.ru_utime + children.ru_stime,
            processes=processes,
        )


@dataclass(frozen=True)
class CpuUse:
    server_s: float
    postgres_s: float
    load_s: float
    other_s: float
    elapsed_s: float

    def share_pct(self, seconds: float) -> float:
        """``seconds`` of CPU as a percentage of what all the machine's CPUs offered meanwhile."""
        return round(100 * seconds / (self.elapsed_s * (os.cpu_count() or 1)), 1)


def cpu_use(before: CpuSnapshot, after: CpuSnapshot, server_pgid: int) -> CpuUse:
    """Split the machine's CPU time between two snapshots: server, PostgreSQL, load generator, everything else.

    The load generator (wrk or ``_open_loop.py``) ran and ended in between, so its time is that of this
    script's reaped children.
    """
    server = postgres = 0.0
    load = after.children_s - before.children_s
    for pid, (pgid, comm, seconds) in after.processes.items():
        used = seconds - (before.processes[pid][2] if pid in before.processes else 0.0)
        if pgid == server_pgid:
            server += used
        elif comm.startswith("postgres"):
            postgres += used
    total = after.machine_busy_s - before.machine_busy_s
    return CpuUse(
        server_s=server,
        postgres_s=postgres,
        load_s=load,
        other_s=max(0.0, total - server - postgres - load),
        elapsed_s=after.taken_at - before.taken_at,
    )


def http_json(request: urllib.request.Request, timeout_s: float = 10.0) -> dict[str, Any]:
    """Send ``request`` and return its JSON body; any failure (status, timeout, refusal) is a BenchError."""
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body: dict[str, Any] = json.load(response)
            return body
    except urllib.error.HTTPError as err:
        raise BenchError(f"{request.full_url} answered {err.code}: {err.read()[:500]!r}") from err
    except (urllib.error.URLError, OSError) as err:  # TimeoutError and ConnectionError are OSErrors
        raise BenchError(f"{request.full_url} did not answer within {timeout_s:g} s: {err}") from err


def get_token(base_url: str) -> str:
    body = urllib.parse.urlencode({"username": BENCH_USER, "password": DEMO_PASSWORD}).encode()
    request = urllib.request.Request(f"{base_url}/api/v1/auth/token", data=body, method="POST")
    return str(http_json(request)["access_token"])


def check_endpoint(base_url: str, endpoint: Endpoint, token: str) -> int:
    """Fetch the endpoint once; fail unless it answers 200 with items. Return the number of items."""
    request = urllib.request.Request(f"{base_url}{endpoint.path}", headers={"Authorization": f"Bearer {token}"})
    page = http_json(request)
    if not page.get("items"):
        raise BenchError(f"{endpoint.path} returned no items: {page!r}")
    return len(page["items"])


def calibration_ms(repeats: int = 5, round_trips: int = 200) -> tuple[float, ...]:
    """Per CPU this process may use, the best-of-``repeats`` milliseconds of a fixed single-threaded workload.

    The workload is JSON round trips of a 50-item page. It runs pinned to each CPU in turn: on this project's
    virtual machine one vCPU at a time runs it about 1.8x slower than the other, and which one changes within
    seconds, so one figure for the machine would say little.
    """
    items = [
        {"id": i, "name": f"Bench Organisation {i:04d}", "country_code": "JP", "city": f"City {i}"} for i in range(50)
    ]
    page = {"items": items, "total": 250, "limit": 50, "offset": 0}
    allowed = os.sched_getaffinity(0)
    timings = []
    try:
        for cpu in sorted(allowed):
            os.sched_setaffinity(0, {cpu})
            best_s = float("inf")
            for _ in range(repeats):
                start = time.perf_counter()
                for _ in range(round_trips):
                    json.loads(json.dumps(page))
                best_s = min(best_s, time.perf_counter() - start)
            timings.append(round(1000 * best_s, 2))
    finally:
        os.sched_setaffinity(0, allowed)
    return tuple(timings)


# wrk ---------------------------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_DURATION = r"([\d.]+)(us|ms|s|m|h)"


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def run_wrk(url: str, token: str, *, threads: int, connections: int, duration_s: float, timeout_s: float = 10.0) -> str:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s:g}s",
        f"--timeout={timeout_s:g}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    return run_load_generator("wrk", command, timeout_s=duration_s + 60)


def run_load_generator(name: str, command: list[str], *, timeout_s: float) -> str:
    """Run a load generator to the end and return its standard output; failing or overrunning is a BenchError."""
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as err:
        raise BenchError(f"{name} did not finish within {err.timeout:.0f} s") from err
    if completed.returncode != 0:
        raise BenchError(f"{name} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


def parse_wrk(output: str, *, endpoint: Endpoint, workers: int, threads: int, connections: int) -> WrkResult:
    """Read requests/s, the latency distribution and the error counts from wrk's ``--latency`` report."""

    def need(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise BenchError(f"cannot find {pattern!r} in wrk's output:\n{output}")
        return match

    percentiles = {p: _ms(*need(rf"^\s+{p}%\s+{_DURATION}\s*$").groups()) for p in ("50", "75", "90", "99")}
    latency_max = need(rf"^\s+Latency\s+{_DURATION}\s+{_DURATION}\s+{_DURATION}").groups()[4:6]
    totals = need(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m|h)")
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        endpoint=endpoint.name,
        path=endpoint.path,
        workers=workers,
        connections=connections,
        threads=threads,
        duration_s=round(_ms(totals.group(2), totals.group(3)) / 1000, 2),
        requests=int(totals.group(1)),
        requests_per_s=float(need(r"^Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=round(percentiles["50"], 2),
        p75_ms=round(percentiles["75"], 2),
        p90_ms=round(percentiles["90"], 2),
        p99_ms=round(percentiles["99"], 2),
        max_ms=round(_ms(*latency_max), 2),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    )


# Fixed-rate load -----------------------------------------------------------------------------------------


def run_open_loop(
    url: str, token: str, *, rate_per_s: float, connections: int, duration_s: float, warmup_s: float
) -> dict[str, Any]:
    """Run ``_open_loop.py`` in its own process and return its JSON report."""
    command = [
        sys.executable,
        str(OPEN_LOOP),
        f"--url={url}",
        f"--header=Authorization: Bearer {token}",
        f"--rate={rate_per_s:g}",
        f"--connections={connections}",
        f"--duration={duration_s:g}",
        f"--warmup={warmup_s:g}",
        f"--timeout={OPEN_LOOP_TIMEOUT_S:g}",  # per response, and how long after the window it waits for a backlog
    ]
    output = run_load_generator("_open_loop.py", command, timeout_s=warmup_s + duration_s + OPEN_LOOP_TIMEOUT_S + 60)
    report: dict[str, Any] = json.loads(output)
    return report


def rate_result(report: dict[str, Any], *, endpoint: Endpoint, workers: int, use: CpuUse) -> RateResult:
    answered = report["requests_with_warmup"]
    return RateResult(
        endpoint=endpoint.name,
        path=endpoint.path,
        workers=workers,
        connections=report["connections"],
        duration_s=report["duration_s"],
        offered_per_s=report["offered_per_s"],
        achieved_per_s=report["achieved_per_s"],
        requests=report["requests"],
        p50_ms=report["p50_ms"],
        p90_ms=report["p90_ms"],
        p99_ms=report["p99_ms"],
        p99_9_ms=report["p99_9_ms"],
        max_ms=report["max_ms"],
        non_2xx=report["non_2xx"],
        errors=report["errors"],
        unsent=report["unsent"],
        first_error=report["first_error"],
        generator_cpu_pct=use.share_pct(use.load_s),
        server_cpu_ms_per_request=round(1000 * use.server_s / answered, 2) if answered else None,
        postgres_cpu_ms_per_request=round(1000 * use.postgres_s / answered, 2) if answered else None,
        other_cpu_pct=use.share_pct(use.other_s),
    )


# Reporting ---------------------------------------------------------------------------------------------


def git_revision() -> dict[str, str | bool]:
    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return result.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


@dataclass
class Results:
    """Everything measured so far: the saturation runs (wrk) and the fixed-rate runs (``_open_loop.py``)."""

    saturation: list[WrkResult] = field(default_factory=list)
    fixed_rate: list[RateResult] = field(default_factory=list)

    @property
    def runs(self) -> list[WrkResult | RateResult]:
        return [*self.saturation, *self.fixed_rate]

    @property
    def failed(self) -> list[WrkResult | RateResult]:
        return [r for r in self.runs if not r.clean]


def _verdict(result: WrkResult | RateResult) -> str:
    if not result.clean:
        return "FAILED (errors)"
    if not result.judged:
        return "-"
    return "PASS" if result.goal_met else "MISS"


def _ms_cell(value: float | None) -> str:  # a figure to two decimals, or "-" where there is none
    return "-" if value is None else f"{value:.2f}"


def goal_by_endpoint(results: Results) -> dict[str, bool]:
    """Per ``endpoint/N workers``: both parts of the goal met (a saturation run and a fixed-rate run, both judged)."""
    verdicts: dict[str, bool] = {}
    for r in results.saturation:
        rates = [q for q in results.fixed_rate if (q.endpoint, q.workers) == (r.endpoint, r.workers) and q.judged]
        if r.judged and rates:
            runs: list[WrkResult | RateResult] = [r, *rates]
            verdicts[f"{r.endpoint}/{r.workers} workers"] = all(x.clean and x.goal_met for x in runs)
    return verdicts


def _cpu_columns(result: WrkResult | RateResult) -> str:
    server_cpu, db_cpu, other = (
        _ms_cell(v)
        for v in (result.server_cpu_ms_per_request, result.postgres_cpu_ms_per_request, result.other_cpu_pct)
    )
    calibration = "/".join(f"{ms:.0f}" for ms in result.calibration_ms) or "-"
    return f"{server_cpu:>7} {db_cpu:>6} {other:>6} {calibration:>9}"


def print_tables(results: Results) -> None:
    cpu_header = f"{'srv cpu':>7} {'pg cpu':>6} {'other%':>6} {'calib ms':>9}"
    if results.saturation:
        header = (
            f"{'endpoint':<14} {'workers':>7} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
            f"{'non-2xx':>7} {'errors':>6} {cpu_header}  >= {GOAL_REQUESTS_PER_S:.0f} req/s"
        )
        print(f"\nSaturation: wrk, every connection busy\n{header}\n{'-' * len(header)}")
        for r in results.saturation:
            print(
                f"{r.endpoint:<14} {r.workers:>7} {r.connections:>5} {r.requests_per_s:>8.1f} {r.p50_ms:>8.2f} "
                f"{r.p90_ms:>8.2f} {r.p99_ms:>8.2f} {r.non_2xx:>7} {r.socket_errors:>6} {_cpu_columns(r)}  "
                f"{_verdict(r)}"
            )
    if results.fixed_rate:
        header = (
            f"{'endpoint':<14} {'workers':>7} {'conns':>5} {'offered':>7} {'served':>7} {'p50 ms':>8} {'p90 ms':>8} "
            f"{'p99 ms':>8} {'p99.9 ms':>8} {'non-2xx':>7} {'errors':>6} {cpu_header}  p99 <= {GOAL_P99_MS:.0f} ms"
        )
        print(f"\nFixed rate: latency from each request's due time\n{header}\n{'-' * len(header)}")
        for q in results.fixed_rate:
            print(
                f"{q.endpoint:<14} {q.workers:>7} {q.connections:>5} {q.offered_per_s:>7g} {q.achieved_per_s:>7.1f} "
                f"{_ms_cell(q.p50_ms):>8} {_ms_cell(q.p90_ms):>8} {_ms_cell(q.p99_ms):>8} {_ms_cell(q.p99_9_ms):>8} "
                f"{q.non_2xx:>7} {q.errors + q.unsent:>6} "
                f"{_cpu_columns(q)}  {_verdict(q)}"
            )
    print(
        f"\ngoal: per endpoint, >= {GOAL_REQUESTS_PER_S:.0f} req/s at saturation, and p99 <= {GOAL_P99_MS:.0f} ms "
        f"with {GOAL_REQUESTS_PER_S:.0f} req/s offered (served: at least {RATE_KEPT_UP_SHARE:.0%} of it answered). "
        "The saturation p99 is that of a service with every client queued (mean = connections / req/s). "
        "srv cpu / pg cpu: CPU ms per request used by the server processes / by PostgreSQL (its backends, "
        "including connections opened and closed meanwhile); other%: share of the machine's CPU taken by "
        "unrelated processes during the run; calib ms: per CPU, the time of a fixed workload just before the run "
        "(lower is faster)."
    )
    for name, met in goal_by_endpoint(results).items():
        print(f"{name}: goal {'met' if met else 'not met'}")
    busy = [r for r in results.runs if (r.other_cpu_pct or 0) > OTHER_CPU_WARNING_PCT]
    if busy:
        print(
            f"WARNING: in {len(busy)} run(s) unrelated processes took more than {OTHER_CPU_WARNING_PCT:.0f}% of the "
            "CPUs, so those figures understate the service; rerun on a quiet machine."
        )


def best_workers(results: list[WrkResult]) -> int | None:
    """The worker count with the highest worst-endpoint throughput among clean runs."""
    by_workers: dict[int, list[WrkResult]] = {}
    for r in results:
        by_workers.setdefault(r.workers, []).append(r)
    scored = {w: min(r.requests_per_s for r in rs) for w, rs in by_workers.items() if all(r.clean for r in rs)}
    return max(scored, key=lambda w: scored[w]) if scored else None


def write_json(path: Path, args: argparse.Namespace, results: Results, database_url: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    document = {
        "benchmark": "bench_api",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git_revision(),
        "goal": {"requests_per_s_min": GOAL_REQUESTS_PER_S, "p99_ms_max": GOAL_P99_MS},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "wrk": (wrk_version.stdout or wrk_version.stderr).splitlines()[0] if wrk_version else "",
        },
        "database": make_url(database_url).render_as_string(hide_password=True),
        "seed": {"extra_organisations": args.organisations, "extra_members": args.members},
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "threads": args.threads,
            "pool_size": args.pool_size,
            "rates_per_s": args.rates,
        },
        "best_workers": best_workers(results.saturation),
        "goal_met": goal_by_endpoint(results),
        "results": [{**asdict(r), "goal_met": r.goal_met, "clean": r.clean} for r in results.saturation],
        "fixed_rate_results": [
            {**asdict(q), "goal_met": q.goal_met, "kept_up": q.kept_up, "clean": q.clean} for q in results.fixed_rate
        ],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


# Main --------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="See the module docstring.")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("EXOHUB_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL URL of the bench database, created and dropped by the run "
        "(default: $EXOHUB_BENCH_DATABASE_URL or %(default)s); its name must contain 'bench'.",
    )
    parser.add_argument("--admin-database", default="test", help="existing database used to CREATE/DROP the bench one")
    parser.add_argument("--workers", type=int, nargs="+", default=[2], help="uvicorn worker counts to run (default 2)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per endpoint (default 20)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load first (default 3)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent connections (default 50)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--rates",
        type=float,
        nargs="*",
        default=[GOAL_REQUESTS_PER_S],
        help="offered req/s of the fixed-rate runs (default %(default)s; none: skip them)",
    )
    parser.add_argument("--organisations", type=int, default=200, help="extra organisations to seed (default 200)")
    parser.add_argument("--members", type=int, default=60, help="extra members of admin.jp's clinic (default 60)")
    parser.add_argument("--pool-size", type=int, default=None, help="EXOHUB_DATABASE_POOL_SIZE for the server")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the results (default %(default)s)")
    args = parser.parse_args(argv)
    if args.connections < args.threads:
        parser.error("--connections must be at least --threads")
    if any(rate <= 0 for rate in args.rates):
        parser.error("--rates must be positive")
    return args


def _raise_keyboard_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def metered(server: Server, load: Callable[[], T]) -> tuple[T, CpuUse, tuple[float, ...]]:
    """Time the calibration workload, then run ``load`` between two CPU snapshots."""
    calibration = calibration_ms()
    before = CpuSnapshot.take()
    outcome = load()
    return outcome, cpu_use(before, CpuSnapshot.take(), server.process.pid), calibration


def measure(server: Server, endpoint: Endpoint, token: str, args: argparse.Namespace, workers: int) -> WrkResult:
    """Warm ``endpoint`` up, then load it with wrk and return the parsed figures."""
    items = check_endpoint(server.base_url, endpoint, token)
    url = f"{server.base_url}{endpoint.path}"
    load = {"threads": args.threads, "connections": args.connections}
    if args.warmup > 0:
        run_wrk(url, token, duration_s=args.warmup, **load)
    print(
        f"wrk: {endpoint.name} ({items} items/page), {workers} worker(s), {args.connections} connections, "
        f"{args.duration:g} s ..."
    )
    output, use, calibration = metered(server, lambda: run_wrk(url, token, duration_s=args.duration, **load))
    result = parse_wrk(output, endpoint=endpoint, workers=workers, **load)
    if result.requests:
        result = replace(
            result,
            server_cpu_ms_per_request=round(1000 * use.server_s / result.requests, 2),
            postgres_cpu_ms_per_request=round(1000 * use.postgres_s / result.requests, 2),
        )
    result = replace(
        result,
        wrk_cpu_pct=use.share_pct(use.load_s),
        other_cpu_pct=use.share_pct(use.other_s),
        calibration_ms=calibration,
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    print(
        f"  {result.requests_per_s:.1f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms; CPU per "
        f"request: server {result.server_cpu_ms_per_request} ms, PostgreSQL {result.postgres_cpu_ms_per_request} ms; "
        f"CPU share of wrk {result.wrk_cpu_pct}%, of other processes {result.other_cpu_pct}%; calib {calibration} ms"
    )
    if not result.clean:
        print(f"  ERRORS: {result.non_2xx} non-2xx, {result.socket_errors} socket errors\n{output}")
        print(f"server log (tail):\n{server.log_tail()}")
    return result


def measure_rate(
    server: Server, endpoint: Endpoint, token: str, args: argparse.Namespace, workers: int, rate_per_s: float
) -> RateResult:
    """Offer ``rate_per_s`` to ``endpoint`` over ``args.connections`` connections; latencies from due times."""
    url = f"{server.base_url}{endpoint.path}"
    print(
        f"fixed rate: {endpoint.name}, {rate_per_s:g} req/s offered over {args.connections} connections, "
        f"{workers} worker(s), {args.duration:g} s ..."
    )
    report, use, calibration = metered(
        server,
        lambda: run_open_loop(
            url,
            token,
            rate_per_s=rate_per_s,
            connections=args.connections,
            duration_s=args.duration,
            warmup_s=args.warmup,
        ),
    )
    result = replace(
        rate_result(report, endpoint=endpoint, workers=workers, use=use),
        calibration_ms=calibration,
        measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    print(
        f"  {result.achieved_per_s:.1f} of {result.offered_per_s:g} req/s answered, p50 {_ms_cell(result.p50_ms)} ms, "
        f"p99 {_ms_cell(result.p99_ms)} ms, p99.9 {_ms_cell(result.p99_9_ms)} ms; CPU per request: server "
        f"{result.server_cpu_ms_per_request} ms; CPU share of the generator {result.generator_cpu_pct}%, of other "
        f"processes {result.other_cpu_pct}%; calib {calibration} ms"
    )
    if not result.clean:
        print(
            f"  ERRORS: {result.non_2xx} non-2xx, {result.errors} connection errors ({result.first_error}), "
            f"{result.unsent} requests unsent"
        )
        print(f"server log (tail):\n{server.log_tail()}")
    return result


def benchmark(args: argparse.Namespace, database_url: str, data_dir: Path, results: Results) -> None:
    """Seed, then for each worker count: start the server, sign in, and measure each endpoint into ``results``."""
    home_id = seed(database_url, data_dir=data_dir, organisations=args.organisations, members=args.members)
    endpoints = (
        Endpoint("organisations", "/api/v1/organisations?limit=50"),
        Endpoint("members", f"/api/v1/organisations/{home_id}/members?limit=50"),
    )
    for workers in args.workers:
        with running_server(database_url, workers=workers, pool_size=args.pool_size, data_dir=data_dir) as server:
            try:
                token = get_token(server.base_url)
                for endpoint in endpoints:
                    results.saturation.append(measure(server, endpoint, token, args, workers))
                    for rate_per_s in args.rates:
                        results.fixed_rate.append(measure_rate(server, endpoint, token, args, workers, rate_per_s))
            except BenchError as err:
                raise BenchError(f"{err}\nserver log (tail):\n{server.log_tail()}") from err


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    results = Results()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="exohub-bench-") as tmp,
            bench_database(args.database_url, args.admin_database) as database_url,
        ):
            benchmark(args, database_url, Path(tmp), results)
    except KeyboardInterrupt:
        print("\ninterrupted; server stopped and database dropped", file=sys.stderr)
        return 130
    except BenchError as err:
        if results.saturation or results.fixed_rate:
            print("\nfigures measured before the failure:")
            print_tables(results)
        print(f"\nbenchmark failed: {err}", file=sys.stderr)
        return 1
    print_tables(results)
    write_json(args.json, args, results, args.database_url)
    if len(args.workers) > 1:
        print(f"best worker count: {best_workers(results.saturation)}")
    if results.failed:
        print(f"\nFAILED: {len(results.failed)} run(s) had non-2xx responses or connection errors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
