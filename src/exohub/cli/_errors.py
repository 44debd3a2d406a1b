"""Turn exohub's own errors into a one-line message and exit code 1, never a traceback."""

import functools
import sys
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, ParamSpec, TypeVar, cast

import typer

from exohub.exceptions import ExohubError

if TYPE_CHECKING:
    from pydantic import ValidationError as PydanticValidationError

P = ParamSpec("P")
R = TypeVar("R")


def user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Report ``ExohubError``, Alembic's errors and invalid input as ``Error: ...`` on stderr with exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ExohubError as err:
            typer.echo(f"Error: {err}", err=True)
            raise typer.Exit(code=1) from err
        except Exception as err:
            message = _user_message(err)
            if message is None:
                raise
            typer.echo(f"Error: {message}", err=True)
            raise typer.Exit(code=1) from err

    return wrapper


def _user_message(err: Exception) -> str | None:
    """The message for an Alembic ``CommandError`` or a pydantic ``ValidationError``; ``None`` for anything else."""
    if _is_instance(err, "alembic.util.exc", "CommandError"):
        return str(err)
    if _is_instance(err, "pydantic", "ValidationError"):
        errors = cast("PydanticValidationError", err).errors()
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in errors)
        return f"invalid input: {problems}"
    return None


def _is_instance(err: Exception, module: str, name: str) -> bool:
    """``isinstance(err, module.name)``, without importing ``module`` (Alembic and pydantic take a while to import).

    Where the module was never imported, nothing of it can have raised ``err``.
    """
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(err, getattr(loaded, name))


def show_warnings_plainly() -> None:
    """Print warnings as ``Warning: ...`` lines (no source file and line: users read them, not developers)."""
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"Warning: {message}\n"
