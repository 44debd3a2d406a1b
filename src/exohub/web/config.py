"""Settings: one class, read from ``EXOHUB_*`` environment variables (or a ``.env`` file)."""

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from exohub.exceptions import ConfigurationError

PLACEHOLDER_SECRETS = frozenset({"", "changethis", "change-me", "changeme", "secret", "dev", "development", "exohub"})
MIN_SECRET_LENGTH = 32


class Settings(BaseSettings):
    """Everything the service reads from its environment.

    Outside ``development`` a real ``EXOHUB_SECRET_KEY`` (32+ characters, not a placeholder) is required;
    in development a random key is kept in the data directory so sessions survive a restart.
    """

    model_config = SettingsConfigDict(env_prefix="EXOHUB_", env_file=".env", extra="ignore")

    ENVIRONMENT: Literal["development", "test", "staging", "production"] = "development"
    DATA_DIR: Path = Path("exohub-data")
    DATABASE_URL: str | None = None
    SECRET_KEY: str | None = Field(default=None, repr=False)

    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=60, ge=1, le=24 * 60)
    SESSION_EXPIRE_MINUTES: int = Field(default=8 * 60, ge=5, le=7 * 24 * 60)
    LOGIN_WINDOW_MINUTES: int = Field(default=15, ge=1)
    LOGIN_MAX_FAILURES_PER_ACCOUNT: int = Field(default=5, ge=1)
    LOGIN_MAX_FAILURES_PER_ADDRESS: int = Field(default=20, ge=1)
    MAX_BODY_BYTES: int = Field(default=1024 * 1024, ge=1024)
    MAX_RECORDING_BYTES: int = Field(default=4 * 1024**3, ge=1024)
    DATABASE_POOL_SIZE: int = Field(default=10, ge=1)
    # Off by default: a check costs a round trip on every request. Without it, the first request on a pooled
    # connection that the server dropped (a restart) answers 503 and the whole pool is renewed; turn it on where
    # something between exohub and the database drops idle connections often.
    DATABASE_PRE_PING: bool = False
    DATABASE_POOL_RECYCLE_S: int = Field(default=1800, ge=1)
    # Requests holding a database session at once, per worker process; the others queue, first come first served,
    # for up to DATABASE_SESSION_WAIT_S (then 503). Why few, with the measurements: deps.SessionSlots.
    DATABASE_MAX_SESSIONS: int = Field(default=4, ge=1)
    DATABASE_SESSION_WAIT_S: float = Field(default=30.0, gt=0)
    # With several `exohub serve` workers, each on one CPU of its own, round robin (exohub.web.cpu_affinity: the
    # measurements, and when it pins nothing); turn it off where something else places the processes.
    WORKER_CPU_AFFINITY: bool = True

    @model_validator(mode="after")
    def _sessions_fit_the_pool(self) -> "Settings":
        if self.DATABASE_MAX_SESSIONS > self.DATABASE_POOL_SIZE:
            raise ConfigurationError(
                f"EXOHUB_DATABASE_MAX_SESSIONS ({self.DATABASE_MAX_SESSIONS}) must not exceed "
                f"EXOHUB_DATABASE_POOL_SIZE ({self.DATABASE_POOL_SIZE}): a request would wait for a connection in "
                "a worker thread instead of its turn on the event loop."
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> "Settings":
        if self.ENVIRONMENT == "development":
            return self
        key = self.SECRET_KEY or ""
        if key.strip().lower() in PLACEHOLDER_SECRETS or len(key) < MIN_SECRET_LENGTH:
            raise ConfigurationError(
                f"EXOHUB_SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} characters when "
                f"EXOHUB_ENVIRONMENT={self.ENVIRONMENT!r}; generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        return self

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL: ``EXOHUB_DATABASE_URL``, else a SQLite file in the data directory."""
        if self.DATABASE_URL:
            return self.DATABASE_URL
        return f"sqlite:///{(self.DATA_DIR / 'exohub.db').resolve()}"

    @property
    def secret_key(self) -> str:
        """The signing key; in development, one generated once and kept in the data directory."""
        if self.SECRET_KEY:
            return self.SECRET_KEY
        key_file = self.DATA_DIR / ".secret_key"
        if not key_file.exists():
            self.DATA_DIR.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies are sent over HTTPS only (everywhere but development and tests)."""
        return self.ENVIRONMENT in {"staging", "production"}


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()
