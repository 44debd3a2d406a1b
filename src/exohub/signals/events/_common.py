"""Validation shared by the event detectors: the input frame, the sampling rate, and the ``events_`` frame."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from exohub._utils._checks import check_positive, check_sampling_rate
from exohub.exceptions import ValidationError
from exohub.signals.consts import TIME_COLUMN

__all__ = ["check_frame", "check_positive", "check_sampling_rate", "make_events"]

EVENTS_COLUMNS = ("event", TIME_COLUMN)


def check_frame(data: pd.DataFrame, *, required: Sequence[str], one_of: Sequence[str] = ()) -> np.ndarray:
    """Check that ``data`` is a non-empty DataFrame with finite values in the columns it needs; return ``time_s``.

    Parameters
    ----------
    data
        The detector's input, indexed by time in seconds (strictly increasing).
    required
        Columns that must all be present.
    one_of
        Columns of which at least one must be present (checked only when not empty).

    Returns
    -------
    numpy.ndarray
        The index as float64 seconds.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame indexed by time_s, got {type(data).__name__}.")
    missing = [column for column in required if column not in data.columns]
    if missing:
        raise ValidationError(f"data is missing the column(s) {missing}; it has {list(data.columns)}.")
    if one_of and not any(column in data.columns for column in one_of):
        raise ValidationError(f"data needs one of the columns {list(one_of)}; it has {list(data.columns)}.")
    if len(data) < 3:
        raise ValidationError(f"data has {len(data)} samples; event detection needs at least 3.")
    for column in [*required, *(c for c in one_of if c in data.columns)]:
        values = data[column].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            bad = int(np.flatnonzero(~np.isfinite(values))[0])
            raise ValidationError(
                f"column {column!r} is not finite at sample {bad} ({values[bad]!r}); "
                "interpolate or crop missing samples before detecting events."
            )
    time_s = np.asarray(data.index, dtype=np.float64)
    if not np.all(np.isfinite(time_s)) or np.any(np.diff(time_s) <= 0):
        raise ValidationError("data's index (time_s) must be finite and strictly increasing.")
    return time_s


def make_events(initial_contact_s: np.ndarray, final_contact_s: np.ndarray | None = None) -> pd.DataFrame:
    """Return ``events_``: columns ``event`` (``initial_contact``/``final_contact``) and ``time_s``, sorted by time."""
    final = np.empty(0) if final_contact_s is None else np.asarray(final_contact_s, dtype=np.float64)
    initial = np.asarray(initial_contact_s, dtype=np.float64)
    events = pd.DataFrame(
        {
            "event": ["initial_contact"] * initial.size + ["final_contact"] * final.size,
            TIME_COLUMN: np.concatenate([initial, final]),
        }
    )
    return events.sort_values([TIME_COLUMN, "event"], kind="stable").reset_index(drop=True)
