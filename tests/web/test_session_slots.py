"""Each worker lets a bounded number of requests hold a database session; the rest queue in arrival order."""

import asyncio
import gc
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from exohub.exceptions import ConfigurationError
from exohub.web.config import Settings
from exohub.web.deps import SessionDep, SessionSlots
from exohub.web.errors import ServiceBusyError
from exohub.web.main import freeze_startup_heap
from tests.conftest import SECRET_KEY


def _run(scenario: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run ``scenario`` on an event loop of its own (the browser tests leave one running on the main thread)."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(lambda: asyncio.run(scenario())).result()


async def _hold(slots: SessionSlots, name: str, order: list[str], release: asyncio.Event) -> None:
    async with slots.taken():
        order.append(name)
        await release.wait()


def test_requests_beyond_the_limit_wait_their_turn_in_arrival_order() -> None:
    async def scenario() -> list[str]:
        slots, order, release = SessionSlots(2, wait_s=5), [], asyncio.Event()
        tasks = []
        for name in "abcde":
            tasks.append(asyncio.create_task(_hold(slots, name, order, release)))
            await asyncio.sleep(0)  # arrive one after the other
        await asyncio.sleep(0.01)
        assert order == ["a", "b"]  # two hold a session, three wait
        release.set()
        await asyncio.gather(*tasks)
        return order

    assert _run(scenario) == ["a", "b", "c", "d", "e"]


def test_a_request_that_waits_in_vain_is_told_the_server_is_busy() -> None:
    async def scenario() -> None:
        slots, release = SessionSlots(1, wait_s=0.05), asyncio.Event()
        holder = asyncio.create_task(_hold(slots, "holder", [], release))
        await asyncio.sleep(0.01)
        with pytest.raises(ServiceBusyError) as raised:
            async with slots.taken():
                pass
        assert raised.value.headers == {"Retry-After": "1"}
        release.set()
        await holder
        async with slots.taken():  # the slot the refused request never got is not lost
            pass

    _run(scenario)


def test_a_failed_request_gives_its_slot_back() -> None:
    async def scenario() -> None:
        slots = SessionSlots(1, wait_s=0.05)
        with pytest.raises(RuntimeError):
            async with slots.taken():
                raise RuntimeError("the route failed")
        async with slots.taken():
            pass

    _run(scenario)


def test_the_busy_answer_is_a_503_problem_with_a_retry_hint(app: FastAPI, client: TestClient) -> None:
    app.state.session_slots = SessionSlots(1, wait_s=0.05)

    async def needs_a_second_session(request: Request, session: SessionDep) -> None:
        async with request.app.state.session_slots.taken():  # the request's own session holds the only slot
            pass

    app.add_api_route("/test-second-session", needs_a_second_session)
    response = client.get("/test-second-session")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert "busy" in response.json()["detail"]
    assert client.get("/health").status_code == 200


def test_sessions_may_not_outnumber_the_pool(tmp_path) -> None:
    with pytest.raises(ConfigurationError, match="EXOHUB_DATABASE_MAX_SESSIONS"):
        Settings(
            ENVIRONMENT="test", SECRET_KEY=SECRET_KEY, DATA_DIR=tmp_path, DATABASE_POOL_SIZE=4, DATABASE_MAX_SESSIONS=5
        )


def test_freezing_the_startup_heap_leaves_it_out_of_collections() -> None:
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
