"""Hypothesis strategies and checks for reader fuzzing: a damaged file gives a ValidationError or a valid Recording."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals import Recording


@st.composite
def byte_flips(draw: st.DrawFn, size: int, *, hot_end: int | None = None, max_flips: int = 4) -> list[tuple[int, int]]:
    """(offset, new byte) pairs; with ``hot_end``, most offsets fall in ``[0, hot_end)`` (header and metadata)."""
    n = draw(st.integers(1, max_flips))
    flips = []
    for _ in range(n):
        end = hot_end if hot_end is not None and draw(st.integers(0, 9)) else size
        flips.append((draw(st.integers(0, end - 1)), draw(st.integers(0, 255))))
    return flips


def flipped(data: bytes, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for offset, value in flips:
        out[offset] = value
    return bytes(out)


def read_or_refuse(reader: Callable[[Path], Recording], path: Path) -> Recording | None:
    """Return the Recording ``reader`` makes of ``path``, or None if it raised a ValidationError naming the file.

    Any other exception propagates (the test fails); ExohubWarnings about the content are expected and ignored.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExohubWarning)
        try:
            recording = reader(path)
        except ValidationError as err:
            message = str(err)
            recording = None
    if recording is None:
        assert str(path) in message, f"the error does not name the file: {message}"
        return None
    assert isinstance(recording, Recording)
    return recording
