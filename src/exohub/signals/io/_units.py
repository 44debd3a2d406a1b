"""Units that file formats write (``mV``, ``deg``, ``Nmm``) -> factors to the convention's unit of each quantity."""

from __future__ import annotations

import warnings

import numpy as np

from exohub.exceptions import ExohubWarning, ValidationError
from exohub.signals.consts import QUANTITY_UNITS

_DEG = np.pi / 180.0
#: quantity -> {unit as files write it: factor to the convention's unit}
UNIT_FACTORS: dict[str, dict[str, float]] = {
    "emg": {"V": 1.0, "mV": 1e-3, "uV": 1e-6, "µV": 1e-6, "μV": 1e-6},
    "angle": {"rad": 1.0, "deg": _DEG, "°": _DEG},
    "torque": {"N*m": 1.0, "Nm": 1.0, "N.m": 1.0, "N m": 1.0, "Nmm": 1e-3, "N*mm": 1e-3, "N.mm": 1e-3},
    "force": {"N": 1.0, "kN": 1e3},
    "acc": {"m/s^2": 1.0, "m/s2": 1.0, "m/s²": 1.0, "g": 9.80665, "mm/s^2": 1e-3},
    "gyr": {"rad/s": 1.0, "deg/s": _DEG, "°/s": _DEG, "dps": _DEG},
    "velocity": {"rad/s": 1.0, "deg/s": _DEG, "°/s": _DEG},
    "current": {"A": 1.0, "mA": 1e-3},
    "switch": {"1": 1.0, "": 1.0},
    "skin_temp": {"degC": 1.0, "°C": 1.0, "C": 1.0, "celsius": 1.0},
}


def unit_factor(unit: str, quantity: str, label: str) -> float:
    """Return the factor that takes values in ``unit`` to the convention's unit of ``quantity``.

    An empty unit is taken to be the convention's own, with an ``ExohubWarning``; a unit that does not measure the
    quantity raises a ``ValidationError`` naming ``label``.
    """
    unit = str(unit).strip()
    target = QUANTITY_UNITS[quantity]
    factors = UNIT_FACTORS[quantity]
    if unit == target or unit in factors:
        return factors.get(unit, 1.0)
    if not unit:
        warnings.warn(
            f"channel {label!r} has no unit; taking it to be {target!r}, the unit of {quantity}.",
            ExohubWarning,
            stacklevel=3,
        )
        return 1.0
    raise ValidationError(
        f"channel {label!r} is in {unit!r}, which is not a unit of {quantity}; known: {', '.join(factors)}."
    )


def scale_to_si(values: np.ndarray, unit: str, quantity: str, label: str) -> np.ndarray:
    """Return ``values`` (in ``unit``) as float64 in the convention's unit of ``quantity``; overflow becomes inf."""
    factor = unit_factor(unit, quantity, label)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(values, dtype=np.float64) * factor
