"""Step 1, D2: pyproject.toml declares the project, its dependencies and its tools."""

import re
import tomllib
from typing import Any

import pytest

from course.grading.fixtures import Project

RUNTIME = ["fastapi", "uvicorn", "sqlalchemy", "alembic", "pydantic-settings", "loguru",
           "pyjwt", "pwdlib", "aiosqlite", "asyncpg", "email-validator"]  # fmt: skip
DEV = ["pytest", "httpx", "ruff", "mypy"]


def requirement_name(requirement: str) -> str:
    """`SQLAlchemy[asyncio]>=2` -> `sqlalchemy` (PEP 503 normalised)."""
    name = re.split(r"[\s\[<>=!~;@]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def load(project: Project) -> dict[str, Any]:
    try:
        return tomllib.loads(project.read("pyproject.toml"))
    except tomllib.TOMLDecodeError as exc:
        pytest.fail(f"pyproject.toml is not valid TOML: {exc}")


def dev_requirements(data: dict[str, Any]) -> set[str]:
    """Development requirements, from optional-dependencies or dependency groups."""
    names: set[str] = set()
    for group in data.get("project", {}).get("optional-dependencies", {}).values():
        names |= {requirement_name(r) for r in group}
    for group in data.get("dependency-groups", {}).values():
        names |= {requirement_name(r) for r in group if isinstance(r, str)}
    return names


@pytest.mark.grade("D2", 2)
def test_pyproject_parses_and_names_the_project(project: Project) -> None:
    data = load(project)
    meta = data.get("project")
    assert isinstance(meta, dict), "expected a [project] table in pyproject.toml, found none"
    for key in ("name", "version", "description"):
        assert meta.get(key), f"expected [project] to set {key}, found nothing"


@pytest.mark.grade("D2", 1)
def test_pyproject_requires_python_311_or_newer(project: Project) -> None:
    requires = load(project).get("project", {}).get("requires-python", "")
    assert re.search(r">=\s*3\.(1[1-9]|[2-9]\d)", requires), (
        f'expected requires-python = ">=3.11" (or newer), found {requires!r}'
    )


@pytest.mark.grade("D2", 1)
@pytest.mark.parametrize("package", RUNTIME)
def test_pyproject_declares_runtime_dependency(project: Project, package: str) -> None:
    declared = {
        requirement_name(r) for r in load(project).get("project", {}).get("dependencies", [])
    }
    assert package in declared, (
        f"expected {package} in [project] dependencies, found only: {', '.join(sorted(declared))}"
    )


@pytest.mark.grade("D2", 1)
def test_pyproject_declares_dev_dependencies(project: Project) -> None:
    declared = dev_requirements(load(project))
    missing = [name for name in DEV if name not in declared]
    assert not missing, (
        "expected the development tools in [project.optional-dependencies] or "
        f"[dependency-groups]; missing: {', '.join(missing)}"
    )


@pytest.mark.grade("D2", 1)
@pytest.mark.parametrize("tool", ["ruff", "mypy", "pytest", "coverage"])
def test_pyproject_configures_tool(project: Project, tool: str) -> None:
    tools = load(project).get("tool", {})
    assert tool in tools, f"expected a [tool.{tool}...] section in pyproject.toml, found none"


@pytest.mark.grade("D2", 1)
def test_pyproject_mypy_is_strict(project: Project) -> None:
    mypy = load(project).get("tool", {}).get("mypy", {})
    assert mypy.get("strict") is True, "expected strict = true under [tool.mypy]"
