"""``exohub db``: apply and inspect the database migrations."""

from typing import Annotated

import typer

from exohub.cli._errors import user_errors

# Alembic, SQLAlchemy and the settings are imported by the commands (a second or so here), not by `exohub --help`.

app = typer.Typer(
    help="Database migrations (SQLite by default, PostgreSQL via EXOHUB_DATABASE_URL).", no_args_is_help=True
)


@app.command("upgrade")
@user_errors
def upgrade_command(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Bring the database to the newest migration (or REVISION)."""
    from exohub.web.config import get_settings
    from exohub.web.migrate import upgrade

    url = get_settings().database_url
    upgrade(url, revision)
    typer.echo(f"Database at {revision} ({_redacted(url)}).")


@app.command("current")
@user_errors
def current_command() -> None:
    """Show the migration the database is at, and the newest one shipped."""
    from exohub.web.config import get_settings
    from exohub.web.database import make_engine
    from exohub.web.migrate import current_revision, head_revision

    url = get_settings().database_url
    engine = make_engine(url)
    try:
        typer.echo(f"current: {current_revision(engine) or 'empty database'}\nhead:    {head_revision(url)}")
    finally:
        engine.dispose()


@app.command("revision")
@user_errors
def revision_command(message: Annotated[str, typer.Option("--message", "-m", help="What the migration does.")]) -> None:
    """Write a new migration from the difference between the models and the database (developers)."""
    from alembic import command

    from exohub.web.config import get_settings
    from exohub.web.migrate import alembic_config

    command.revision(alembic_config(get_settings().database_url), message=message, autogenerate=True)


def _redacted(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
