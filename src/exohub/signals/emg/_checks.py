"""Entry checks shared by the EMG functions: EMG channels of the convention, in volts, indexed by time in seconds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from exohub._utils._checks import check_instance, check_sampling_rate
from exohub.exceptions import ValidationError
from exohub.signals.channels import parse_channel
from exohub.signals.preprocessing._apply_sos import check_finite


def check_emg_data(data: pd.DataFrame, sampling_rate_hz: float | None = None, *, finite: bool = True) -> np.ndarray:
    """Return the EMG values as a float64 ``(n_samples, n_channels)`` array after checking ``data``.

    Every column must be an EMG channel of the convention (``left_tibialis_anterior_emg``, ``channel_3_emg``),
    numeric and finite, and the index must be increasing time in seconds. ``finite=False`` leaves NaN/inf to the
    caller (an IIR filter finds them in its state: :func:`~exohub.signals.preprocessing._apply_sos.apply_sos`).
    """
    check_instance("data", data, pd.DataFrame, "a pandas DataFrame")
    if data.shape[0] < 2 or data.shape[1] == 0:
        raise ValidationError(f"EMG data needs at least 2 samples and 1 channel, got shape {data.shape}.")
    for column in data.columns:
        if parse_channel(column).quantity != "emg":
            raise ValidationError(
                f"Column {column!r} is not an EMG channel; name EMG columns <side>_<muscle>_emg or channel_<n>_emg "
                "(values in volts)."
            )
        if not pd.api.types.is_numeric_dtype(data[column]):
            raise ValidationError(f"EMG channel {column!r} is not numeric ({data[column].dtype}).")
    if not pd.api.types.is_float_dtype(data.index) or not data.index.is_monotonic_increasing:
        raise ValidationError(
            f"EMG data must be indexed by increasing time_s in seconds (float); got a {type(data.index).__name__} "
            f"of {data.index.dtype}."
        )
    if sampling_rate_hz is not None:
        check_sampling_rate(sampling_rate_hz)
    values = data.to_numpy(dtype=np.float64)
    if finite:
        check_finite(values, [str(column) for column in data.columns], data.index)
    return values


def as_frame(values: np.ndarray, like: pd.DataFrame) -> pd.DataFrame:
    """Wrap ``values`` with the index and columns of ``like``, without copying."""
    return pd.DataFrame(values, index=like.index, columns=like.columns, copy=False)
