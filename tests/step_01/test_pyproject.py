"""Step 1, D2: pyproject.toml declares the project, its dependencies and its tools."""

import re
import tomllib
from typing import Any

import pytest
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from course.grading.fixtures import Project

RUNTIME = ["fastapi", "uvicorn", "sqlalchemy", "alembic", "pydantic-settings", "loguru",
           "pyjwt", "pwdlib", "aiosqlite", "asyncpg", "email-validator"]  # fmt: skip
DEV = ["pytest", "httpx", "ruff", "mypy"]
COURSE_PYTHON = "3.11"  # the Python the course runs on (CI, the Docker image)
# Every 3.11 release: ">=3.11.4" is fine too, it admits the current ones.
COURSE_PYTHONS = [f"{COURSE_PYTHON}.{micro}" for micro in range(30)]
OLDER_PYTHON = "3.10"
OLDER_PYTHONS = [f"{OLDER_PYTHON}.{micro}" for micro in range(30)]


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
    """The course runs on Python 3.11: requires-python must admit it (`>=3.12` would make
    pip refuse to install the project there) and refuse 3.10, whose standard library
    lacks what the code uses (`datetime.UTC`, `enum.StrEnum`)."""
    requires = str(load(project).get("project", {}).get("requires-python", ""))
    try:
        specifiers = SpecifierSet(requires)
    except InvalidSpecifier:
        pytest.fail(
            f'expected requires-python to be a version specifier such as ">=3.11", '
            f"found {requires!r}"
        )
    admitted = [version for version in COURSE_PYTHONS if specifiers.contains(version)]
    assert admitted, (
        f"expected requires-python to admit Python {COURSE_PYTHON}, the course's Python "
        f'(write ">={COURSE_PYTHON}"), found {requires!r}, which pip would refuse to '
        f"install on Python {COURSE_PYTHON}"
    )
    assert requires and not any(map(specifiers.contains, OLDER_PYTHONS)), (
        f'expected requires-python = ">={COURSE_PYTHON}" (Python {COURSE_PYTHON} or newer), '
        f"found {requires!r}, which admits Python {OLDER_PYTHON}"
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
