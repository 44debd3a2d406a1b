"""Reader errors that name the file: every problem found while reading becomes a ValidationError about that file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from exohub.exceptions import ValidationError


@contextmanager
def reading(path: Path, kind: str) -> Iterator[None]:
    """Re-raise any data problem met inside the block as a ``ValidationError`` naming ``path`` and its ``kind``."""
    try:
        yield
    except ValidationError as err:
        if str(path) in str(err):
            raise
        raise ValidationError(f"{path}: {err}") from err
    except (ValueError, KeyError, IndexError, EOFError, OSError, RuntimeError) as err:
        if isinstance(err, FileNotFoundError):
            raise ValidationError(f"{path}: no such file.") from err
        raise ValidationError(f"{path}: not a readable {kind} file ({type(err).__name__}: {err}).") from err


def check_file(path: str | Path) -> Path:
    """Return ``path`` as a Path if it is a non-empty file, else raise a ``ValidationError`` saying why."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise ValidationError(f"{path}: the file is empty.")
    return path
