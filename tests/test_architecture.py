"""The package's shape: imports at module level (but optional extras), no private names across
modules, and the layers contract of ``pyproject.toml`` (checked by import-linter in CI)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lola_games"
OPTIONAL = ("axelrod", "ray", "stable_baselines3", "torchrl", "tensordict", "tensorboard",
            "torch.utils.tensorboard", "wandb")
"""Optional extras: imported where they are used, so that the package works without them."""

MODULES = sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports_in_functions(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if not any(name == o or name.startswith(o + ".") for o in OPTIONAL):
                    found.append((node.lineno, name))
    return found


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_imports_are_at_module_level(path: Path) -> None:
    found = _imports_in_functions(ast.parse(path.read_text()))
    assert not found, f"{_name(path)} imports inside functions: {found}"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_private_name_is_imported_from_another_module(path: Path) -> None:
    private = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lola_games"):
            private += [(node.lineno, f"{node.module}.{a.name}") for a in node.names
                        if a.name.startswith("_") and a.name != "__version__"]
    assert not private, f"{_name(path)} imports private names: {private}"


def test_the_checker_finds_what_it_looks_for() -> None:
    tree = ast.parse("def f():\n    import json\n    import ray\n")
    assert _imports_in_functions(tree) == [(2, "json")]
