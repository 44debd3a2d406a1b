"""Run the Alembic migrations shipped inside the package, on SQLite or PostgreSQL."""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from exohub.web.database import make_engine


def alembic_config(database_url: str) -> Config:
    """The Alembic configuration for ``database_url`` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", "exohub.web:migrations")
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d_%%(slug)s")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision`` (the newest by default)."""
    command.upgrade(alembic_config(database_url), revision)


def head_revision(database_url: str) -> str | None:
    """The newest migration shipped with this version of exohub."""
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_up_to_date(database_url: str) -> bool:
    """Whether the database is at the newest migration."""
    engine = make_engine(database_url)
    try:
        return current_revision(engine) == head_revision(database_url)
    finally:
        engine.dispose()
