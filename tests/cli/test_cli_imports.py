"""Importing the CLI and building its help import no area's heavy modules; each command imports what it runs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from alembic.util.exc import CommandError
from pydantic import BaseModel
from sqlalchemy import select
from typer.testing import CliRunner

from exohub.cli._errors import user_errors
from exohub.cli.main import app
from exohub.web.accounts.models import Membership, Organisation, User
from exohub.web.config import get_settings
from exohub.web.database import make_engine, make_sessionmaker
from exohub.web.tenancy import Role

#: Modules (and their sub-modules) that neither `import exohub.cli.main` nor `exohub --help` may import.
HEAVY = (
    "scipy",
    "pandas",
    "numpy",
    "torch",
    "flwr",
    "alembic",
    "sqlalchemy",
    "fastapi",
    "uvicorn",
    "exohub.web",
    "exohub.signals.io",
    "exohub.ml",
    "exohub.federated",
)

# The web package's vocabulary (roles for `users create --role`) is plain enums.
LIGHT = {"exohub.web", "exohub.web.roles"}

_LOADED = f"""
import sys
def heavy():
    loaded = {{m for m in sys.modules for h in {HEAVY!r} if m == h or m.startswith(h + ".")}}
    return sorted(loaded - {LIGHT!r})
"""


def _run(code: str) -> list[list[str]]:
    done = subprocess.run([sys.executable, "-c", _LOADED + code], capture_output=True, text=True, check=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]


def test_importing_the_cli_and_its_help_import_nothing_heavy() -> None:
    after_import, after_help = _run(
        "import json\n"
        "from exohub.cli.main import app\n"
        "print(json.dumps(heavy()))\n"
        "try:\n"
        "    app(['--help'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "print(json.dumps(heavy()))\n"
    )
    assert after_import == [], f"importing exohub.cli.main imported {after_import}"
    assert after_help == [], f"exohub --help imported {after_help}"


def test_the_channel_vocabulary_and_device_profiles_import_no_reader() -> None:
    # exohub.control.profiles imports exohub.signals.consts: neither package's __init__ may import the readers.
    (loaded,) = _run("import json, exohub.control.profiles, exohub.signals.consts\nprint(json.dumps(heavy()))")
    assert loaded == []


@pytest.mark.parametrize("package", ["exohub.signals", "exohub.control"])
def test_every_exported_name_of_a_lazy_package_resolves(package: str) -> None:
    module = __import__(package, fromlist=["__all__"])
    for name in module.__all__:
        assert getattr(module, name).__name__ == name
        assert name in dir(module)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        module.nothing  # noqa: B018


def _failing(error: Exception) -> typer.Typer:
    failing = typer.Typer()

    @failing.command()
    @user_errors
    def fail() -> None:
        raise error

    @failing.command()
    def other() -> None:  # a second command keeps `fail` a sub-command
        pass

    return failing


class _Model(BaseModel):
    count: int


def test_alembic_errors_are_one_line() -> None:
    result = CliRunner().invoke(_failing(CommandError("Can't locate revision identified by 'x'")), ["fail"])
    assert result.exit_code == 1
    assert result.output == "Error: Can't locate revision identified by 'x'\n"


def test_invalid_input_is_one_line() -> None:
    try:
        _Model(count="many")  # type: ignore[arg-type]
    except Exception as err:  # noqa: BLE001
        invalid = err
    result = CliRunner().invoke(_failing(invalid), ["fail"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: invalid input: count: Input should be a valid integer")


def test_other_errors_keep_their_traceback() -> None:
    result = CliRunner().invoke(_failing(RuntimeError("a bug")), ["fail"])
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    assert "Error:" not in result.output


def test_users_create_gives_a_role_in_an_organisation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EXOHUB_ENVIRONMENT", "development")
    monkeypatch.delenv("EXOHUB_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["demo", "--no-serve"]).exit_code == 0
        url = f"sqlite:///{(tmp_path / 'demo' / 'exohub.db').resolve()}"
        monkeypatch.setenv("EXOHUB_DATABASE_URL", url)
        get_settings.cache_clear()
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            organisation_id = session.scalars(select(Organisation.id)).first()
        arguments = ["users", "create", "--email", "new@example.org", "--name", "New", "--organisation"]
        password = "a good long password\na good long password\n"
        wrong = runner.invoke(app, [*arguments, str(organisation_id), "--role", "surgeon"], input=password)
        assert wrong.exit_code == 2
        assert "'surgeon' is not one of 'admin'" in wrong.output
        created = runner.invoke(app, [*arguments, str(organisation_id), "--role", "therapist"], input=password)
        assert created.exit_code == 0, created.output
        with make_sessionmaker(engine)() as session:
            roles = session.scalars(select(Membership.role).join(User).where(User.email == "new@example.org")).all()
        engine.dispose()
        assert roles == [Role.THERAPIST]
    finally:
        get_settings.cache_clear()
