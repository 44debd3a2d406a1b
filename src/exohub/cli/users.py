"""``exohub users``: create accounts from the command line (the first platform operator, for example)."""

from typing import Annotated

import typer

from exohub.cli._errors import user_errors
from exohub.web.roles import Role

app = typer.Typer(help="Accounts.", no_args_is_help=True)


@app.command("create")
@user_errors
def create_command(
    email: Annotated[str, typer.Option(help="Sign-in email address.")],
    full_name: Annotated[str, typer.Option("--name", help="The person's full name.")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters.")
    ],
    superuser: Annotated[bool, typer.Option("--superuser", help="Make a platform operator.")] = False,
    organisation_id: Annotated[int | None, typer.Option("--organisation", help="Organisation id for a role.")] = None,
    role: Annotated[Role | None, typer.Option(help="Role in --organisation.")] = None,
) -> None:
    """Create an account, optionally as platform operator or with a role in an organisation."""
    from exohub.web.accounts import service
    from exohub.web.accounts.schemas import MemberCreate, UserCreate
    from exohub.web.audit.service import AuditContext
    from exohub.web.config import get_settings
    from exohub.web.database import make_engine, make_sessionmaker, unit_of_work
    from exohub.web.migrate import is_up_to_date
    from exohub.web.tenancy import SYSTEM

    if (organisation_id is None) != (role is None):
        typer.echo("Error: give --organisation and --role together.", err=True)
        raise typer.Exit(code=1)
    settings = get_settings()
    if not is_up_to_date(settings.database_url):
        typer.echo("Error: the database is not at the newest migration; run `exohub db upgrade` first.", err=True)
        raise typer.Exit(code=1)
    engine = make_engine(settings.database_url)
    context = AuditContext(actor_user_id=None, address="exohub users create")
    try:
        for session in unit_of_work(make_sessionmaker(engine)):
            user = service.create_user(
                session=session,
                principal=None,
                context=context,
                data=UserCreate(email=email, full_name=full_name, password=password, is_superuser=superuser),
            )
            if organisation_id is not None and role is not None:
                scope = SYSTEM.scope_everywhere()
                service.add_member(
                    session=session,
                    scope=scope,
                    context=context,
                    organisation_id=organisation_id,
                    data=MemberCreate(email=email, role=role),
                )
            typer.echo(f"Created account {user.id} for {user.email}.")
    finally:
        engine.dispose()
