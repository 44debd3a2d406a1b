"""Input checks shared by the kinematics algorithms: one IMU as a DataFrame ``acc_x..gyr_z`` in SI units."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from exohub._utils._checks import check_instance, check_positive
from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.consts import AXES

IMU_COLUMNS = tuple(f"{quantity}_{axis}" for quantity in ("acc", "gyr") for axis in AXES)
GRAVITY_M_S2 = 9.80665
#: Below this rate gait's angular rates (harmonics up to ~10 Hz) are not sampled well.
MIN_GOOD_RATE_HZ = 50.0
#: 2000 deg/s, the largest range of common MEMS gyroscopes; more than that in rad/s means deg/s were given.
MAX_PLAUSIBLE_GYR_RAD_S = 35.0


def check_sampling_rate(sampling_rate_hz: float) -> float:
    """Return the rate as a float; a non-positive rate raises ``ValueError``, a low one warns."""
    rate_hz = check_positive("sampling_rate_hz", sampling_rate_hz)
    if rate_hz < MIN_GOOD_RATE_HZ:
        warnings.warn(
            f"sampling_rate_hz={rate_hz:g} is below {MIN_GOOD_RATE_HZ:g} Hz: fast leg rotations are undersampled and "
            "the angles will be less accurate.",
            ExohubWarning,
            stacklevel=3,
        )
    return rate_hz


def check_imu_frame(data: pd.DataFrame, *, name: str) -> np.ndarray:
    """Return the ``(n, 6)`` array ``acc_x..gyr_z`` of one IMU, or raise a ``ValidationError`` saying what is wrong.

    ``name`` names the sensor in the messages (``"proximal"``, ``"left_thigh"``).
    """
    check_instance(name, data, pd.DataFrame, "a pandas DataFrame")
    missing = [column for column in IMU_COLUMNS if column not in data.columns]
    if missing:
        raise ValidationError(
            f"{name}: missing IMU column(s) {missing}; an IMU frame needs {list(IMU_COLUMNS)} "
            "(acc in m/s^2, gyr in rad/s, the sensor's own axes)."
        )
    values = data.loc[:, list(IMU_COLUMNS)].to_numpy(dtype=np.float64)
    if values.shape[0] < 2:
        raise ValidationError(f"{name}: needs at least 2 samples, got {values.shape[0]}.")
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = (int(i[0]) for i in np.nonzero(bad))
        raise ValidationError(
            f"{name}: column {IMU_COLUMNS[col]!r} is {float(values[row, col])} at index {data.index[row]}; "
            "fill or crop gaps before estimating orientation."
        )
    _check_units(values, name=name)
    return values


def _check_units(values: np.ndarray, *, name: str) -> None:
    acc_norm = float(np.median(np.linalg.norm(values[:, :3], axis=1)))
    if not 0.4 * GRAVITY_M_S2 <= acc_norm <= 2.5 * GRAVITY_M_S2:
        hint = " It looks like units of g: multiply by 9.80665." if 0.4 <= acc_norm <= 2.5 else ""
        raise ValidationError(
            f"{name}: the median acceleration magnitude is {acc_norm:.3g} m/s^2, not about gravity "
            f"({GRAVITY_M_S2} m/s^2); acc_x..acc_z must be in m/s^2.{hint}"
        )
    gyr_peak = float(np.percentile(np.abs(values[:, 3:]), 99))
    if gyr_peak > MAX_PLAUSIBLE_GYR_RAD_S:
        raise ValidationError(
            f"{name}: 1 % of the angular rates exceed {gyr_peak:.3g} rad/s, more than any leg turns; "
            "gyr_x..gyr_z must be in rad/s (convert deg/s with numpy.radians)."
        )
