"""The root ``exohub`` command: ``serve``, ``demo``, and one sub-command group per area."""

import shutil
from typing import Annotated

import typer

from exohub import __version__
from exohub.cli import control, db, federated, gait, model, users
from exohub.cli._errors import show_warnings_plainly, user_errors

# Every command imports what it runs (the web app, the database, uvicorn; scipy, pandas, torch in the areas'
# commands), so that `exohub --help`, `exohub version` and each command pay only for their own imports
# (tests/cli/test_cli_imports.py keeps it so).

app = typer.Typer(
    help="exohub: exoskeleton sensors, clinics, shared gait models and the consortium.", no_args_is_help=True
)
show_warnings_plainly()
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(gait.app, name="gait")
app.add_typer(control.app, name="control")
app.add_typer(federated.app, name="federated")
app.add_typer(model.app, name="model")

Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]

WORKER_HEALTHCHECK_TIMEOUT_S = 60


@app.command()
def version() -> None:
    """Print exohub's version."""
    typer.echo(__version__)


@app.command()
@user_errors
def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
) -> None:
    """Apply pending migrations, then serve the API and pages (settings from EXOHUB_* variables)."""
    import uvicorn

    from exohub.web.config import get_settings
    from exohub.web.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    typer.echo(f"exohub {__version__} serving on http://{host}:{port}")
    uvicorn.run(
        "exohub.web.main:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,
        # A spawned worker answers the supervisor's health ping only once it has imported this CLI (seconds on a
        # slow or busy machine); uvicorn's default of 5 s killed and respawned workers forever there.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_TIMEOUT_S,
    )


@app.command()
@user_errors
def demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after seeding.")] = True,
) -> None:
    """Create a fresh demo database with the Asia-Pacific alliance, print its logins, and serve it."""
    import uvicorn

    from exohub.web.config import Settings, get_settings
    from exohub.web.database import make_engine, make_sessionmaker, unit_of_work
    from exohub.web.demo import seed_demo
    from exohub.web.main import create_app, freeze_startup_heap
    from exohub.web.migrate import upgrade

    base = get_settings()
    demo_dir = base.DATA_DIR / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)
    demo_dir.mkdir(parents=True)
    settings = Settings(
        ENVIRONMENT="development", DATA_DIR=demo_dir, DATABASE_URL=f"sqlite:///{(demo_dir / 'exohub.db').resolve()}"
    )
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    for session in unit_of_work(make_sessionmaker(engine)):
        logins = seed_demo(session, data_dir=settings.DATA_DIR)
    typer.echo(f"Demo database: {settings.database_url.removeprefix('sqlite:///')}\n")
    typer.echo(f"{'role':<18} {'email':<36} {'password':<12} organisation")
    for login in logins:
        typer.echo(f"{login.role:<18} {login.email:<36} {login.password:<12} {login.organisation}")
    if not serve_after:
        engine.dispose()
        return
    typer.echo(f"\nexohub demo at http://{host}:{port}/ (API docs at http://{host}:{port}/docs); Ctrl+C stops it.")
    app = create_app(settings, engine)
    freeze_startup_heap()
    uvicorn.run(app, host=host, port=port, log_level="warning")
