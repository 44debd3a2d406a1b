"""Settings refuse a missing or placeholder secret outside development."""

from pathlib import Path

import pytest

from exohub.exceptions import ConfigurationError
from exohub.web.config import Settings


@pytest.mark.parametrize("environment", ["production", "staging", "test"])
@pytest.mark.parametrize("secret", [None, "", "changethis", "secret", "short-but-random-1234"])
def test_refuses_missing_or_placeholder_secret(environment: str, secret: str | None) -> None:
    with pytest.raises(ConfigurationError, match="EXOHUB_SECRET_KEY must be set"):
        Settings(ENVIRONMENT=environment, SECRET_KEY=secret)


def test_accepts_a_real_secret_in_production() -> None:
    settings = Settings(ENVIRONMENT="production", SECRET_KEY="k" * 48)
    assert settings.secure_cookies
    assert "k" * 48 not in repr(settings)


def test_development_keeps_a_generated_secret_in_the_data_dir(tmp_path: Path) -> None:
    first = Settings(ENVIRONMENT="development", DATA_DIR=tmp_path).secret_key
    second = Settings(ENVIRONMENT="development", DATA_DIR=tmp_path).secret_key
    assert first == second and len(first) >= 48
    assert (tmp_path / ".secret_key").stat().st_mode & 0o777 == 0o600


def test_reads_exohub_prefixed_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EXOHUB_DATABASE_URL", "postgresql+psycopg://db.example.org/exohub")
    monkeypatch.setenv("EXOHUB_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://db.example.org/exohub"
    assert tmp_path == settings.DATA_DIR


def test_defaults_to_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    assert Settings(DATA_DIR=tmp_path).database_url == f"sqlite:///{tmp_path.resolve() / 'exohub.db'}"
