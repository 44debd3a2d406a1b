"""A lost database connection answers 503 once, and the next request gets a fresh one (PostgreSQL only)."""

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from exohub.web.config import Settings
from exohub.web.main import create_app

BOGUS_TOKEN = {"Authorization": "Bearer not-a-session"}


@pytest.fixture
def own_pool_app(settings: Settings, engine: Engine) -> Iterator[Callable[..., FastAPI]]:
    """Build the service with its own connection pool (not the test's rolled-back connection), settings overridden."""
    if engine.dialect.name != "postgresql":
        pytest.skip("a server to lose the connection to: PostgreSQL only")
    apps: list[FastAPI] = []

    def build(**overrides: object) -> FastAPI:
        apps.append(create_app(settings.model_copy(update=overrides)))
        return apps[-1]

    yield build
    for app in apps:
        app.state.engine.dispose()


def _terminate_pooled_connection(app: FastAPI, engine: Engine) -> None:
    with app.state.engine.connect() as connection:  # the pool's one connection, returned to it afterwards
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_a_dropped_connection_answers_503_then_recovers(own_pool_app: Callable[..., FastAPI], engine: Engine) -> None:
    app = own_pool_app()
    with TestClient(app) as client:
        assert client.get("/api/v1/organisations", headers=BOGUS_TOKEN).status_code == 401
        _terminate_pooled_connection(app, engine)

        lost = client.get("/api/v1/organisations", headers=BOGUS_TOKEN)
        assert lost.status_code == 503
        assert lost.headers["content-type"] == "application/problem+json"
        assert lost.headers["retry-after"] == "1"
        assert "retry" in lost.json()["detail"]

        assert client.get("/api/v1/organisations", headers=BOGUS_TOKEN).status_code == 401


def test_pre_ping_replaces_a_dropped_connection_unseen(own_pool_app: Callable[..., FastAPI], engine: Engine) -> None:
    app = own_pool_app(DATABASE_PRE_PING=True)
    with TestClient(app) as client:
        assert client.get("/api/v1/organisations", headers=BOGUS_TOKEN).status_code == 401
        _terminate_pooled_connection(app, engine)
        assert client.get("/api/v1/organisations", headers=BOGUS_TOKEN).status_code == 401
