"""Schemathesis against /openapi.json: generated valid and invalid requests to every operation, no 5xx.

Runs on its own database (its requests commit), on SQLite and, with EXOHUB_TEST_DATABASE_URL, PostgreSQL.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from exohub.web.config import Settings
from exohub.web.database import make_engine, make_sessionmaker, unit_of_work
from exohub.web.demo import seed_demo
from exohub.web.main import create_app
from exohub.web.migrate import upgrade
from tests.conftest import SECRET_KEY, fresh_database

pytestmark = [pytest.mark.db, pytest.mark.slow]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    directory: Path = tmp_path_factory.mktemp("fuzz")
    with fresh_database(directory) as url:
        upgrade(url)
        engine = make_engine(url, pool_size=2)
        for session in unit_of_work(make_sessionmaker(engine)):
            seed_demo(session, data_dir=directory)
        settings = Settings(ENVIRONMENT="test", SECRET_KEY=SECRET_KEY, DATA_DIR=directory, DATABASE_URL=url)
        yield create_app(settings, engine=engine)
        engine.dispose()


@pytest.fixture(scope="module")
def operator_headers(fuzz_app: FastAPI) -> dict[str, str]:
    from fastapi.testclient import TestClient

    with TestClient(fuzz_app) as client:
        response = client.post(
            "/api/v1/auth/token", data={"username": "operator@demo.exohub.org", "password": "exohub-demo"}
        )
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _cases() -> list[tuple[str, GenerationMode]]:
    """Every operation with valid input, and with invalid input where it takes any."""
    # Building the app does not touch its database, so the operations can be listed at collection time.
    app = create_app(Settings(ENVIRONMENT="test", SECRET_KEY=SECRET_KEY, DATABASE_URL="sqlite://"))
    cases = []
    for path, methods in app.openapi()["paths"].items():
        for method, spec in methods.items():
            label = f"{method.upper()} {path}"
            cases.append((label, GenerationMode.POSITIVE))
            if spec.get("parameters") or spec.get("requestBody"):
                cases.append((label, GenerationMode.NEGATIVE))
    return cases


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


@pytest.mark.parametrize(("label", "mode"), _cases())
def test_no_server_errors(
    fuzz_schema: schemathesis.BaseSchema, operator_headers: dict[str, str], label: str, mode: GenerationMode
) -> None:
    operation = next(op.ok() for op in fuzz_schema.get_all_operations() if op.ok().label == label)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case: schemathesis.Case) -> None:
        response = case.call(headers={**operator_headers, **(case.headers or {})})
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
        case.validate_response(response, checks=[not_a_server_error])

    call()
