"""Open-loop HTTP load at a fixed request rate, with latency measured from each request's scheduled time.

``bench_api.py`` runs this in its own process, beside the server, as the second half of its measurement. wrk
(the first half) keeps every connection busy: it finds the most the service can do, but its latencies are
those of a saturated service (with 50 connections the mean is 50 / throughput, by Little's law), and it
measures each from the moment the request was actually sent, so a stall that holds the connections back hides
the requests that should have gone out meanwhile ("coordinated omission", the reason wrk2 exists). Here each
of ``--connections`` keep-alive connections sends on a fixed schedule (together ``--rate`` requests per
second, evenly spread), and a request's latency runs from when it was due, not from when it could be sent.
So a late response delays the connection's next request, and that delay counts in the next latency too.

Prints one JSON object on stdout: the offered and achieved rate, latency percentiles, the count of non-2xx
responses and of connection errors (a timeout, a refused or dropped connection), and this process's CPU share.
Only requests due after ``--warmup`` seconds count.

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
    """What the connections report; ``latencies_s`` only of requests due inside the measured window."""

    measure_from: float
    latencies_s: list[float] = field(default_factory=list)
    answered: int = 0  # every response, the warm-up's included (for the CPU cost per request)
    non_2xx: int = 0
    errors: int = 0
    first_error: str = ""

    def record(self, due: float, done: float, status: int) -> None:
        self.answered += 1
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


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response with a Content-Length body; return its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
        elif name.strip().lower() == "transfer-encoding":
            raise ValueError(f"the server sent a {value.strip()} body; only Content-Length bodies are read")
    if length is None:
        raise ValueError("the response has no Content-Length")
    await reader.readexactly(length)
    return status


async def connection(
    host: str,
    port: int,
    request: bytes,
    *,
    first_due: float,
    interval_s: float,
    end: float,
    timeout_s: float,
    tally: Tally,
) -> None:
    """Send ``request`` at ``first_due + k * interval_s`` until ``end``, reconnecting after an error."""
    loop = asyncio.get_running_loop()
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    due = first_due
    while due < end:
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        try:
            if streams is None:
                streams = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
            reader, writer = streams
            writer.write(request)
            status = await asyncio.wait_for(read_response(reader), timeout_s)
            tally.record(due, loop.time(), status)
        except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as err:
            tally.error(due, err)
            if streams is not None:
                streams[1].close()
            streams = None
        due += interval_s
    if streams is not None:
        streams[1].close()


def percentile_ms(sorted_s: list[float], pct: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not sorted_s:
        return math.nan
    rank = max(1, math.ceil(pct / 100 * len(sorted_s)))
    return round(1000 * sorted_s[rank - 1], 2)


async def run(args: argparse.Namespace) -> dict[str, object]:
    host, port, request = build_request(args.url, args.header)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2  # time to open the connections' tasks
    measure_from = start + args.warmup
    end = measure_from + args.duration
    tally = Tally(measure_from=measure_from)
    interval_s = args.connections / args.rate  # each connection's period; connection i starts i / rate later
    tasks = [
        connection(
            host,
            port,
            request,
            first_due=start + i / args.rate,
            interval_s=interval_s,
            end=end,
            timeout_s=args.timeout,
            tally=tally,
        )
        for i in range(args.connections)
    ]
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall_before = time.monotonic()
    await asyncio.gather(*tasks)
    finished = loop.time()
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    latencies = sorted(tally.latencies_s)
    return {
        "offered_per_s": args.rate,
        "connections": args.connections,
        "duration_s": args.duration,
        "requests": len(latencies),
        "requests_with_warmup": tally.answered,
        # responses to requests due in the window, over the time from the window's start to the last response
        "achieved_per_s": round(len(latencies) / max(finished - measure_from, 1e-9), 1),
        **{f"p{pct:g}_ms".replace(".", "_"): percentile_ms(latencies, pct) for pct in PERCENTILES},
        "max_ms": round(1000 * latencies[-1], 2) if latencies else math.nan,
        "non_2xx": tally.non_2xx,
        "errors": tally.errors,
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
