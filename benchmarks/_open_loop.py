"""Open-loop HTTP load at a fixed request rate, with latency measured from each request's scheduled time.

``bench_api.py`` runs this in its own process, beside the server, as the second half of its measurement. wrk
(the first half) keeps every connection busy: it finds the most the service can do, but its latencies are
those of a saturated service (with 50 connections the mean is 50 / throughput, by Little's law), and it
measures each from the moment the request was actually sent, so a stall that holds the connections back hides
the requests that should have gone out meanwhile ("coordinated omission", the reason wrk2 exists). Here each
of ``--connections`` keep-alive connections sends on a fixed schedule (together ``--rate`` requests per
second, evenly spread), and a request's latency runs from when it was due, not from when it could be sent.
So a late response delays the connection's next request, and that delay counts in the next latency too.

Prints one JSON object on stdout: the offered and achieved rate, latency percentiles (null without answers),
the count of non-2xx responses, of connection errors (a timeout, a refused or dropped connection) and of
requests still unsent ``--timeout`` seconds after the window (a server far behind), and this process's CPU
share. Only requests due after ``--warmup`` seconds count. A connection the server closes (``Connection:
close``, or its idle timeout) is opened again.

    python benchmarks/_open_loop.py --url http://127.0.0.1:8000/api/v1/organisations?limit=50 \\
        --header "Authorization: Bearer ..." --rate 300 --connections 50 --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import sys
import time
import urllib.parse
from dataclasses import dataclass, field

PERCENTILES = (50.0, 90.0, 99.0, 99.9)


@dataclass
class Tally:
    """What the connections report, for requests due inside the measured window ``[measure_from, end)``."""

    measure_from: float
    end: float
    latencies_s: list[float] = field(default_factory=list)
    answered: int = 0  # every response, the warm-up's included (for the CPU cost per request)
    answered_in_window: int = 0  # responses that arrived inside the window, whenever they were due
    non_2xx: int = 0
    errors: int = 0
    unsent: int = 0  # due in the window but still unsent when the generator gave up waiting for the server
    first_error: str = ""

    def record(self, due: float, done: float, status: int) -> None:
        self.answered += 1
        if self.measure_from <= done < self.end:
            self.answered_in_window += 1
        if due < self.measure_from:
            return
        self.latencies_s.append(done - due)
        if not 200 <= status < 300:
            self.non_2xx += 1

    def error(self, due: float, err: BaseException) -> None:
        if due < self.measure_from:
            return
        self.errors += 1
        self.first_error = self.first_error or f"{type(err).__name__}: {err}"


def build_request(url: str, headers: list[str]) -> tuple[str, int, bytes]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"only plain http URLs are supported, not {url!r}")
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target or '/'} HTTP/1.1", f"Host: {parts.netloc}", *headers, "", ""]
    return parts.hostname, parts.port or 80, "\r\n".join(lines).encode()


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response with a Content-Length body; return its status and whether to keep the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or not status_line[1].isdecimal():
        raise ValueError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    length = None
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding":
            raise ValueError(f"the server sent a {value.strip()} body; only Content-Length bodies are read")
        elif name == "connection" and value.strip().lower() == "close":
            keep_alive = False
    if length is None:
        raise ValueError("the response has no Content-Length")
    await reader.readexactly(length)
    return int(status_line[1]), keep_alive


Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def exchange(streams: Streams | None, host: str, port: int, request: bytes) -> tuple[int, Streams | None]:
    """Send ``request`` and read the answer, on ``streams`` or a new connection; return the status and the
    connection to reuse (None if the server closes it).

    A kept-alive connection that the server closed meanwhile (its idle timeout) ends before the first byte of
    the answer; the request is then sent once more on a new connection.
    """
    reused = streams is not None
    if streams is None:
        streams = await asyncio.open_connection(host, port)
    try:
        streams[1].write(request)
        status, keep_alive = await read_response(streams[0])
    except (asyncio.IncompleteReadError, ConnectionError) as err:
        streams[1].close()
        if not reused or (isinstance(err, asyncio.IncompleteReadError) and err.partial):
            raise
        return await exchange(None, host, port, request)
    except BaseException:
        streams[1].close()
        raise
    if not keep_alive:
        streams[1].close()
        return status, None
    return status, streams


async def connection(
    host: str,
    port: int,
    request: bytes,
    *,
    first_due: float,
    interval_s: float,
    end: float,
    give_up_at: float,
    timeout_s: float,
    tally: Tally,
) -> None:
    """Send ``request`` at ``first_due + k * interval_s`` until ``end``, reconnecting after an error.

    A connection that falls behind sends its late requests as soon as it can; those still unsent at
    ``give_up_at`` are counted as unsent.
    """
    loop = asyncio.get_running_loop()
    streams: Streams | None = None
    due = first_due
    while due < end:
        now = loop.time()
        if now >= give_up_at:
            tally.unsent += due >= tally.measure_from
            due += interval_s
            continue
        if due > now:
            await asyncio.sleep(due - now)
        try:
            status, streams = await asyncio.wait_for(exchange(streams, host, port, request), timeout_s)
            tally.record(due, loop.time(), status)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as err:
            tally.error(due, err)
            streams = None  # exchange closed it
        due += interval_s
    if streams is not None:
        streams[1].close()


def percentile_ms(sorted_s: list[float], pct: float) -> float | None:
    """Nearest-rank percentile, in milliseconds; None without latencies."""
    if not sorted_s:
        return None
    rank = max(1, math.ceil(pct * len(sorted_s) / 100 - 1e-9))  # 99.9 % of 6000 is rank 5994, not 5995
    return round(1000 * sorted_s[rank - 1], 2)


async def run(args: argparse.Namespace) -> dict[str, object]:
    host, port, request = build_request(args.url, args.header)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2  # time to open the connections' tasks
    measure_from = start + args.warmup
    end = measure_from + args.duration
    tally = Tally(measure_from=measure_from, end=end)
    interval_s = args.connections / args.rate  # each connection's period; connection i starts i / rate later
    tasks = [
        connection(
            host,
            port,
            request,
            first_due=start + i / args.rate,
            interval_s=interval_s,
            end=end,
            give_up_at=end + args.timeout,
            timeout_s=args.timeout,
            tally=tally,
        )
        for i in range(args.connections)
    ]
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_before = time.monotonic()
    await asyncio.gather(*tasks)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    latencies = sorted(tally.latencies_s)
    return {
        "offered_per_s": args.rate,
        "connections": args.connections,
        "duration_s": args.duration,
        "requests": len(latencies),
        "requests_with_warmup": tally.answered,
        "achieved_per_s": round(tally.answered_in_window / args.duration, 1),  # responses that came in the window
        **{f"p{pct:g}_ms".replace(".", "_"): percentile_ms(latencies, pct) for pct in PERCENTILES},
        "max_ms": percentile_ms(latencies, 100.0),
        "non_2xx": tally.non_2xx,
        "errors": tally.errors,
        "unsent": tally.unsent,
        "first_error": tally.first_error,
        "cpu_pct": round(100 * cpu_s / max(time.monotonic() - wall_before, 1e-9), 1),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="plain http URL to GET")
    parser.add_argument("--header", action="append", default=[], help="request header line (repeatable)")
    parser.add_argument("--rate", type=float, required=True, help="requests per second, all connections together")
    parser.add_argument("--connections", type=int, default=50, help="keep-alive connections (default 50)")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds (default 20)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first (default 2)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds before a response counts as an error")
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.connections < 1 or args.duration <= 0 or args.warmup < 0 or args.timeout <= 0:
        parser.error("--rate, --connections, --duration and --timeout must be positive and --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    print(json.dumps(asyncio.run(run(parse_args(argv)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
