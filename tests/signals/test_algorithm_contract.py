"""Every signals algorithm keeps the BaseAlgorithm contract (gaitmap's TestAlgorithmMixin, in one parametrised test).

Parameters are the ``__init__`` arguments stored unchanged under their own names, so ``get_params``, ``set_params``,
``clone`` and ``repr`` work; the action method is named in ``_action_methods`` and exists.
"""

import importlib
import inspect
import pkgutil

import pytest

import exohub.signals
from exohub.signals.base import BaseAlgorithm


def _algorithms() -> list[type[BaseAlgorithm]]:
    for module in pkgutil.walk_packages(exohub.signals.__path__, "exohub.signals."):
        importlib.import_module(module.name)
    found, todo = set(), [BaseAlgorithm]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("exohub.signals") and not sub.__name__.startswith("Base"):
                found.add(sub)
    return sorted(found, key=lambda cls: cls.__name__)


def _instance(cls: type[BaseAlgorithm]) -> BaseAlgorithm:
    required = {
        name: parameter
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and parameter.default is inspect.Parameter.empty
    }
    values = {"cutoff_hz": 6.0}
    missing = set(required) - set(values)
    if missing:
        pytest.fail(f"{cls.__name__} needs a value for {sorted(missing)} in this test")
    return cls(**{name: values[name] for name in required})


ALGORITHMS = _algorithms()


def test_the_algorithms_are_found() -> None:
    names = {cls.__name__ for cls in ALGORITHMS}
    assert {"ImuEventDetection", "EmgProcessing", "StrideTimePhaseEstimation", "SignalQualityAssessment"} <= names


@pytest.mark.parametrize("cls", ALGORITHMS, ids=lambda cls: cls.__name__)
def test_parameters_pass_through_and_clone(cls: type[BaseAlgorithm]) -> None:
    algorithm = _instance(cls)
    params = algorithm.get_params()
    assert list(params) == cls._param_names()
    clone = algorithm.clone()
    assert type(clone) is cls and clone is not algorithm
    assert repr(clone) == repr(algorithm)
    with pytest.raises(ValueError, match="has no parameter"):
        algorithm.set_params(not_a_parameter=1)
    for action in cls._action_methods:
        assert callable(getattr(algorithm, action, None)), f"{cls.__name__} names {action!r} but has no such method"
