"""Package attributes imported on first use (PEP 562): importing a package then costs only what is used from it."""

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package`` that import ``exports`` (module -> names) when used.

    ``from package import Name`` and ``package.Name`` import the module that defines ``Name`` then, once: the value
    is stored in the package's namespace, so later lookups do not come back here. Write the same names under
    ``if TYPE_CHECKING:`` and in ``__all__`` so that type checkers and readers see them.
    """
    module_of = {name: module for module, names in exports.items() for name in names}

    def getattr_(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def dir_() -> list[str]:
        return sorted({*vars(sys.modules[package]), *module_of})

    return getattr_, dir_
