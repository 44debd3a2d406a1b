"""The layers depend downward only (STYLE.md §1): checked by importing in a fresh interpreter and by reading imports."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SOURCE = Path(__file__).parents[1] / "src" / "exohub"

HEAVY = ("fastapi", "starlette", "sqlalchemy", "alembic", "torch", "flwr", "typer", "pydantic", "jinja2")

# layer -> exohub packages it may import (besides itself, _utils and exceptions)
ALLOWED: dict[str, set[str]] = {
    "signals": set(),
    "control": {"signals"},
    "ml": {"signals"},
    "federated": {"ml", "signals"},
    "sharing": {"signals"},
    "web": {"federated", "ml", "signals", "sharing", "control"},  # DESIGN.md: web -> federated, sharing, control
    "cli": {"web", "ml", "signals", "federated", "sharing", "control"},
}
# layers that must import without any web framework, database, torch or Flower
LIGHT = ("signals", "control", "sharing")


def _layers_present() -> list[str]:
    return [layer for layer in ALLOWED if (SOURCE / layer).is_dir()]


def _exohub_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        found.update(name.split(".")[1] for name in names if name.startswith("exohub.") and name.count(".") >= 1)
    return found


@pytest.mark.parametrize("layer", _layers_present())
def test_layer_imports_only_lower_layers(layer: str) -> None:
    allowed = ALLOWED[layer] | {layer, "_utils", "exceptions"}
    wrong = {
        f"{path.relative_to(SOURCE)} imports exohub.{target}"
        for path in (SOURCE / layer).rglob("*.py")
        for target in _exohub_imports(path) - allowed
    }
    assert not wrong, sorted(wrong)


@pytest.mark.parametrize("layer", [layer for layer in LIGHT if (SOURCE / layer).is_dir()] + ["_utils", "exceptions"])
def test_light_layers_pull_in_no_heavy_module(layer: str) -> None:
    code = f"import sys, exohub.{layer}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == [], f"importing exohub.{layer} loaded {loaded}"


def test_importing_exohub_is_light() -> None:
    heavy = ("pandas", "numpy", *HEAVY)
    code = f"import sys, exohub; print(' '.join(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []


def test_nothing_imports_web_but_cli() -> None:
    wrong = [
        str(path.relative_to(SOURCE))
        for layer in _layers_present()
        if layer not in {"web", "cli"}
        for path in (SOURCE / layer).rglob("*.py")
        if "web" in _exohub_imports(path)
    ]
    assert not wrong
