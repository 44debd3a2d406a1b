"""The fixed-rate load generator of ``make bench-api`` measures what it claims, against a local test server."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
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


async def _serve(delay_s, stall: tuple[float, float] | None = None):
    """An HTTP/1.1 keep-alive server that answers each GET after ``delay_s``, and holds every answer due inside
    the ``stall`` window (seconds after start) until the window ends."""
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                status = 200 if head.startswith(b"GET /ok") else 404
                await asyncio.sleep(delay_s)
                if stall is not None and stall[0] <= loop.time() - started < stall[1]:
                    await asyncio.sleep(started + stall[1] - loop.time())
                writer.write(
                    b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                    % (status, len(BODY), BODY)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _load(
    *, delay_s: float, rate: float, connections: int, duration_s: float, path: str = "/ok", stall=None
) -> dict[str, float]:
    async def main() -> dict[str, float]:
        server, port = await _serve(delay_s, stall)
        async with server:
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
    assert report["errors"] == report["non_2xx"] == 0
    assert report["requests"] == pytest.approx(150, abs=3)  # every request due in the window, answered
    assert report["achieved_per_s"] == pytest.approx(100, rel=0.1)
    assert 20 <= report["p50_ms"] < 60  # the server's 20 ms, plus the scheduling of a shared machine
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


def test_a_refused_connection_is_an_error_not_a_latency() -> None:
    args = argparse.Namespace(
        url="http://127.0.0.1:9/ok", header=[], rate=50, connections=2, duration=0.3, warmup=0.0, timeout=1.0
    )
    report = asyncio.run(open_loop.run(args))
    assert report["requests"] == 0
    assert report["errors"] > 0
    assert "ConnectionRefusedError" in report["first_error"]


def test_only_plain_http_urls_are_accepted() -> None:
    with pytest.raises(ValueError, match="only plain http"):
        open_loop.build_request("https://example.org/", [])
