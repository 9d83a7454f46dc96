"""The Clean Architecture dependency rule: inner layers never import outer ones."""

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SOLUTION_DIR

APP_DIR = SOLUTION_DIR / "app"

# layer -> the layers it must not import (COURSE-SPEC section 3, "Layers")
FORBIDDEN = {
    "app.domain": ("app.repository", "app.service", "app.api"),
    "app.repository": ("app.service", "app.api"),
    "app.service": ("app.api",),
}


def import_linter_contracts() -> list[dict[str, Any]]:
    pyproject = tomllib.loads((SOLUTION_DIR / "pyproject.toml").read_text())
    contracts: list[dict[str, Any]] = pyproject["tool"]["importlinter"]["contracts"]
    return contracts


def test_import_linter_contracts_are_all_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if not lint_imports.exists():
        pytest.skip(f"lint-imports is not installed next to {sys.executable}")
    pythonpath = os.pathsep.join(filter(None, [str(SOLUTION_DIR), os.environ.get("PYTHONPATH")]))
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=SOLUTION_DIR,
        env={**os.environ, "PYTHONPATH": pythonpath},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    contracts = import_linter_contracts()
    for contract in contracts:
        assert f"{contract['name']} KEPT" in result.stdout
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout


def test_import_linter_contracts_state_the_dependency_rule() -> None:
    contracts = import_linter_contracts()
    layers = next(contract for contract in contracts if contract["type"] == "layers")
    # Each entry may hold independent siblings: "app.api | app.middleware".
    position = {
        module.strip(): index
        for index, entry in enumerate(layers["layers"])
        for module in entry.split("|")
    }
    assert position["app.api"] < position["app.service"]
    assert position["app.service"] < position["app.repository"]
    assert position["app.repository"] < position["app.domain"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOLUTION_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` imports (at any depth, TYPE_CHECKING blocks included).

    `from a import b` counts as importing both `a` and `a.b`, since `b` may be a
    module; relative imports are resolved against `module`.
    """
    package = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                prefix = ".".join([*base, node.module] if node.module else base)
            else:
                prefix = node.module or ""
            found.add(prefix)
            found.update(f"{prefix}.{alias.name}" for alias in node.names)
    return found


def violations(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    folder = APP_DIR.joinpath(*layer.split(".")[1:])
    problems = []
    for path in sorted(folder.rglob("*.py")):
        name = module_name(path)
        imports = imported_modules(path.read_text(), name, is_package=path.stem == "__init__")
        problems.extend(
            f"{name} imports {imported}"
            for imported in sorted(imports)
            if any(imported == bad or imported.startswith(f"{bad}.") for bad in forbidden)
        )
    return problems


@pytest.mark.parametrize(("layer", "forbidden"), list(FORBIDDEN.items()))
def test_layer_imports_no_outer_layer(layer: str, forbidden: tuple[str, ...]) -> None:
    folder = APP_DIR.joinpath(*layer.split(".")[1:])
    assert list(folder.rglob("*.py")), f"{layer} has no modules"
    assert violations(layer, forbidden) == []


def test_import_scanner_sees_absolute_relative_and_from_imports() -> None:
    source = (
        "import app.api.deps\n"
        "from app import service\n"
        "from ..repository.base import BaseRepository\n"
        "from . import user\n"
        "if TYPE_CHECKING:\n"
        "    from app.api.v1 import router\n"
    )
    found = imported_modules(source, "app.domain.models.base")
    assert {
        "app.api.deps",
        "app.service",
        "app.domain.repository.base",
        "app.domain.models.user",
        "app.api.v1.router",
    } <= found
    assert imported_modules("from .. import api", "app.domain", is_package=True) >= {"app.api"}


def test_import_scanner_finds_the_repository_importing_the_domain() -> None:
    path = APP_DIR / "repository" / "user_repository.py"
    assert "app.domain.models.user" in imported_modules(path.read_text(), module_name(path))
