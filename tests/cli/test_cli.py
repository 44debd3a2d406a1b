"""The command line: demo seeding, migrations, account creation, and errors without tracebacks."""

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from exohub.cli.main import app
from exohub.web.accounts.models import Organisation, User
from exohub.web.config import get_settings
from exohub.web.database import make_engine, make_sessionmaker
from exohub.web.demo import ORGANISATIONS, PEOPLE

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("EXOHUB_DATABASE_URL", raising=False)
    monkeypatch.setenv("EXOHUB_ENVIRONMENT", "development")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _count(url: str, model: type) -> int:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


def test_demo_seeds_a_fresh_alliance_and_prints_every_role(data_dir: Path) -> None:
    result = runner.invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    for role in (
        "admin",
        "therapist",
        "clinician",
        "researcher",
        "fleet manager",
        "programme manager",
        "instructor",
        "auditor",
        "platform operator",
    ):
        assert role in result.output
    url = f"sqlite:///{data_dir / 'demo' / 'exohub.db'}"
    assert _count(url, Organisation) == len(ORGANISATIONS)
    assert _count(url, User) == len(PEOPLE) + 1
    again = runner.invoke(app, ["demo", "--no-serve"])  # fresh each time, never piling up
    assert again.exit_code == 0
    assert _count(url, User) == len(PEOPLE) + 1


def test_db_upgrade_then_users_create(data_dir: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    current = runner.invoke(app, ["db", "current"])
    assert "empty database" not in current.output
    created = runner.invoke(
        app,
        ["users", "create", "--email", "Ops@Example.org", "--name", "Ops", "--superuser"],
        input="a good long password\na good long password\n",
    )
    assert created.exit_code == 0, created.output
    assert "ops@example.org" in created.output
    duplicate = runner.invoke(
        app,
        ["users", "create", "--email", "ops@example.org", "--name", "Ops"],
        input="a good long password\na good long password\n",
    )
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.output
    assert "Traceback" not in duplicate.output


def test_users_create_refuses_bad_input_with_a_message(data_dir: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    result = runner.invoke(app, ["users", "create", "--email", "not-an-email", "--name", "X"], input="short\nshort\n")
    assert result.exit_code == 1
    assert "email" in result.output and "password" in result.output


def test_users_create_needs_a_migrated_database(data_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["users", "create", "--email", "a@example.org", "--name", "A"],
        input="a good long password\na good long password\n",
    )
    assert result.exit_code == 1
    assert "exohub db upgrade" in result.output


def test_production_without_secret_refuses_to_start(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXOHUB_ENVIRONMENT", "production")
    monkeypatch.delenv("EXOHUB_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    result = runner.invoke(app, ["serve", "--port", "8999"])
    assert result.exit_code == 1
    assert "EXOHUB_SECRET_KEY must be set" in result.output


def test_serve_and_db_commands_create_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "not" / "yet" / "there"
    monkeypatch.setenv("EXOHUB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("EXOHUB_ENVIRONMENT", "development")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert (data_dir / "exohub.db").exists()
