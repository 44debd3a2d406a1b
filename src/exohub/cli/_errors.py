"""Turn exohub's own errors into a one-line message and exit code 1, never a traceback."""

import functools
import warnings
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from alembic.util.exc import CommandError
from pydantic import ValidationError as PydanticValidationError

from exohub.exceptions import ExohubError

P = ParamSpec("P")
R = TypeVar("R")


def user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Report ``ExohubError`` and invalid input as ``Error: ...`` on stderr with exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ExohubError as err:
            typer.echo(f"Error: {err}", err=True)
            raise typer.Exit(code=1) from err
        except CommandError as err:
            typer.echo(f"Error: {err}", err=True)
            raise typer.Exit(code=1) from err
        except PydanticValidationError as err:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in err.errors())
            typer.echo(f"Error: invalid input: {problems}", err=True)
            raise typer.Exit(code=1) from err

    return wrapper


def show_warnings_plainly() -> None:
    """Print warnings as ``Warning: ...`` lines (no source file and line: users read them, not developers)."""
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"Warning: {message}\n"
