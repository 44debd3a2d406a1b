"""Base classes of the signal algorithms: parameters in ``__init__``, one action per family, results end in ``_``.

Modelled on gaitmap/tpcp's ``Algorithm``: ``get_params``/``set_params``/``clone`` work from the ``__init__``
signature, so every algorithm can be configured, copied and swapped in a pipeline the same way.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any, ClassVar, Self


class BaseAlgorithm:
    """Parameters are the ``__init__`` arguments, stored unchanged under their own names.

    Subclasses name their action method in ``_action_methods``; the action validates its inputs, stores them, sets
    the results (attributes ending in ``_``) and returns ``self``. Parameters are checked in the action, never in
    ``__init__`` (scikit-learn's rule), so ``set_params`` and ``clone`` stay cheap and predictable.
    """

    _action_methods: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [
            name
            for name, parameter in signature.parameters.items()
            if name != "self" and parameter.kind not in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        ]

    def get_params(self) -> dict[str, Any]:
        """Return the parameters, as given to ``__init__``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        """Set parameters by name; an unknown name raises a ``ValueError`` listing the valid ones."""
        valid = self._param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {name!r}; valid parameters: {valid}.")
            setattr(self, name, value)
        return self

    def clone(self) -> Self:
        """Return a new, unfitted algorithm with deep copies of the parameters (nested algorithms cloned too)."""
        params = {
            name: value.clone() if isinstance(value, BaseAlgorithm) else copy.deepcopy(value)
            for name, value in self.get_params().items()
        }
        return type(self)(**params)

    def __repr__(self) -> str:
        params = ", ".join(f"{name}={value!r}" for name, value in self.get_params().items())
        return f"{type(self).__name__}({params})"


class BaseEventDetection(BaseAlgorithm):
    """Find gait events. ``detect`` sets ``events_``: a DataFrame with columns ``event`` and ``time_s``."""

    _action_methods = ("detect",)
    events_: Any


class BasePhaseEstimation(BaseAlgorithm):
    """Estimate continuous gait phase in [0, 1). ``estimate`` sets ``phase_``."""

    _action_methods = ("estimate",)
    phase_: Any


class BaseFilter(BaseAlgorithm):
    """Filter signals. ``filter`` sets ``filtered_data_``."""

    _action_methods = ("filter",)
    filtered_data_: Any
