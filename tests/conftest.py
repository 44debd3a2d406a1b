"""Shared fixtures: a migrated database (SQLite, or PostgreSQL when EXOHUB_TEST_DATABASE_URL names one),
a session per test inside a transaction that is rolled back afterwards, and the app wired to it."""

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from exohub.web.config import Settings
from exohub.web.database import make_engine
from exohub.web.main import create_app
from exohub.web.migrate import upgrade

TEST_DATABASE_URL = os.environ.get("EXOHUB_TEST_DATABASE_URL")
SECRET_KEY = secrets.token_urlsafe(48)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches the database, so `pytest -m db` reruns exactly those on PostgreSQL."""
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


@contextmanager
def fresh_database(directory: Path) -> Iterator[str]:
    """An empty database: a SQLite file in ``directory``, or a new database on the PostgreSQL server."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{directory / 'exohub.db'}"
        return
    server_url = make_url(TEST_DATABASE_URL)
    name = f"exohub_test_{secrets.token_hex(4)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database for this test run."""
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The test database, migrated to the newest revision."""
    upgrade(database_url)
    engine = make_engine(database_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test, whatever it committed."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions on the test's connection; their commits only release a savepoint."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(ENVIRONMENT="test", SECRET_KEY=SECRET_KEY, DATA_DIR=tmp_path, DATABASE_URL=database_url)


@pytest.fixture
def app(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> FastAPI:
    """The service, with every request's unit of work on the test's connection."""
    app = create_app(settings, engine=engine)
    app.state.sessionmaker = session_factory
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as client:
        yield client
