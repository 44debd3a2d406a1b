"""The fixed-rate load generator of ``make bench-api`` measures what it claims, against a local test server."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import socket
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "_open_loop.py"
_SPEC = importlib.util.spec_from_file_location("_open_loop", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
open_loop = importlib.util.module_from_spec(_SPEC)
sys.modules["_open_loop"] = open_loop  # dataclasses look the module up while the class is built
_SPEC.loader.exec_module(open_loop)

BODY = b'{"items": []}'


async def _serve(delay_s, stall: tuple[float, float] | None = None, *, close_every: int = 0, idle_close_s: float = 0):
    """An HTTP/1.1 keep-alive server that answers each GET after ``delay_s``, and holds every answer due inside
    the ``stall`` window (seconds after start) until the window ends. With ``close_every``, every that many
    answers on a connection say ``Connection: close`` and end it; with ``idle_close_s``, a connection idle that
    long is closed without a word (as uvicorn's keep-alive timeout does)."""
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered = 0
        try:
            while True:
                if idle_close_s:
                    try:
                        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), idle_close_s)
                    except TimeoutError:
                        break
                else:
                    head = await reader.readuntil(b"\r\n\r\n")
                status = 200 if head.startswith(b"GET /ok") else 404
                await asyncio.sleep(delay_s)
                if stall is not None and stall[0] <= loop.time() - started < stall[1]:
                    await asyncio.sleep(started + stall[1] - loop.time())
                answered += 1
                closing = bool(close_every) and answered % close_every == 0
                writer.write(
                    b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s"
                    % (status, len(BODY), b"Connection: close\r\n" if closing else b"", BODY)
                )
                await writer.drain()
                if closing:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _load(
    *, delay_s: float, rate: float, connections: int, duration_s: float, path: str = "/ok", **server
) -> dict[str, float]:
    async def main() -> dict[str, float]:
        test_server, port = await _serve(delay_s, **server)
        async with test_server:
            args = argparse.Namespace(
                url=f"http://127.0.0.1:{port}{path}",
                header=["Authorization: Bearer t"],
                rate=rate,
                connections=connections,
                duration=duration_s,
                warmup=0.2,
                timeout=5.0,
            )
            return await open_loop.run(args)

    return asyncio.run(main())


def test_a_steady_server_is_measured_at_its_delay_and_the_offered_rate() -> None:
    report = _load(delay_s=0.02, rate=100, connections=5, duration_s=1.5)
    assert report["errors"] == report["non_2xx"] == report["unsent"] == 0
    assert report["requests"] == pytest.approx(150, abs=3)  # every request due in the window, answered
    assert report["achieved_per_s"] == pytest.approx(100, rel=0.25)
    assert 20 <= report["p50_ms"] < 150  # the server's 20 ms, plus the scheduling of a shared machine
    assert report["p99_ms"] >= report["p50_ms"]


def test_a_stall_counts_for_every_request_it_held_back() -> None:
    # The server holds its answers from 0.7 s to 1.2 s after start: a quarter of the 2 s window. A client that
    # measures from the actual send would see 4 slow requests (one per connection); from the due time, every
    # request due in the stall waits for its end.
    report = _load(delay_s=0.005, rate=100, connections=4, duration_s=2.0, stall=(0.7, 1.2))
    assert report["errors"] == 0
    assert report["requests"] == pytest.approx(200, abs=3)
    assert report["max_ms"] >= 450
    assert report["p90_ms"] >= 150


def test_non_2xx_answers_are_counted() -> None:
    report = _load(delay_s=0.0, rate=50, connections=2, duration_s=0.5, path="/missing")
    assert report["non_2xx"] == report["requests"] > 0


def test_connections_the_server_closes_are_opened_again() -> None:
    closed = _load(delay_s=0.0, rate=100, connections=2, duration_s=0.5, close_every=3)
    idle = _load(delay_s=0.0, rate=20, connections=2, duration_s=0.6, idle_close_s=0.05)  # 0.1 s between requests
    for report, due in ((closed, 50), (idle, 12)):
        assert report["errors"] == 0, report["first_error"]
        assert report["requests"] == pytest.approx(due, abs=2)


def test_a_refused_connection_is_an_error_not_a_latency() -> None:
    with socket.socket() as sock:  # a port nothing listens on once the socket is closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = argparse.Namespace(
        url=f"http://127.0.0.1:{port}/ok", header=[], rate=50, connections=2, duration=0.3, warmup=0.0, timeout=1.0
    )
    report = asyncio.run(open_loop.run(args))
    assert report["requests"] == 0
    assert report["errors"] > 0
    assert report["p99_ms"] is None  # no latencies: no figure, rather than NaN in the JSON
    assert "ConnectionRefusedError" in report["first_error"]


def test_only_plain_http_urls_are_accepted() -> None:
    with pytest.raises(ValueError, match="only plain http"):
        open_loop.build_request("https://example.org/", [])


def test_percentiles_are_nearest_rank() -> None:
    latencies_s = [i / 1000 for i in range(1, 6001)]  # 1..6000 ms
    assert open_loop.percentile_ms(latencies_s, 50) == 3000
    assert open_loop.percentile_ms(latencies_s, 99.9) == 5994  # not 5995 from 99.9 / 100 * 6000 rounding up
    assert open_loop.percentile_ms(latencies_s, 100) == 6000
    assert open_loop.percentile_ms([], 99) is None
