"""The solution's floors stay above every release with a published advisory."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from course.manifest import REPO_ROOT

SOLUTION = REPO_ROOT / "solution"

# The first release of each package past its published advisories, and those advisories.
# Lowering a floor in solution/pyproject.toml (or in the grader's `grade` group) below one
# of these fails here.
ADVISORIES: dict[str, tuple[str, list[str]]] = {
    "pyjwt": ("2.13.0", [
        "CVE-2024-53861 (2.10.1: a partial issuer string matched)",
        "CVE-2026-32597 (2.12.0: unknown `crit` header extensions accepted)",
        "CVE-2026-48524 (2.13.0: unbounded JWKS fetches for unknown key ids)",
    ]),
    "python-multipart": ("0.0.26", [
        "CVE-2024-24762 (0.0.7: ReDoS in the Content-Type options)",
        "CVE-2024-53981 (0.0.18: CR/LF before the boundary, a DoS)",
        "CVE-2026-24486 (0.0.22: path traversal with UPLOAD_KEEP_FILENAME)",
        "CVE-2026-40347 (0.0.26: large preamble or epilogue, a DoS)",
    ]),
    "starlette": ("1.3.0", [
        "CVE-2024-47874 (0.40.0: multipart fields without a size limit)",
        "CVE-2025-54121 (0.47.2: UploadFile rollover blocking the event loop)",
        "CVE-2025-62727 (0.49.1: quadratic Range header parsing in FileResponse)",
        "CVE-2026-48710 (1.0.1: the Host header poisoning request.url.path)",
        "CVE-2026-54282 (1.3.0: a path moving request.url's host)",
    ]),
    "fastapi": ("0.109.1", ["CVE-2024-24762 (0.109.1: the python-multipart ReDoS)"]),
    "uvicorn": ("0.11.7", [
        "CVE-2020-7694 (0.11.7: ANSI escapes in the log)",
        "CVE-2020-7695 (0.11.7: CRLF injection in headers)",
    ]),
    "pydantic": ("2.4.0", ["CVE-2024-3772 (2.4.0: ReDoS in email validation)"]),
    "asyncpg": ("0.21.0", ["CVE-2020-17446 (0.21.0: a crafted server reply to the array decoder)"]),
}  # fmt: skip


def requirements(entries: list[Any]) -> dict[str, Requirement]:
    """The plain requirement strings of a dependency list (group includes left out)."""
    found = (Requirement(entry) for entry in entries if isinstance(entry, str))
    return {canonicalize_name(req.name): req for req in found}


def floor(requirement: Requirement) -> Version | None:
    """The version a `>=` (or `==`) specifier starts at."""
    bounds = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==")]
    return max(bounds, default=None)


def pyproject(root: Path) -> dict[str, Any]:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))


# --- the floors ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ADVISORIES))
def test_the_solutions_floor_is_past_every_advisory(name: str) -> None:
    fixed, advisories = ADVISORIES[name]
    declared = requirements(pyproject(SOLUTION)["project"]["dependencies"])
    assert name in declared, f"solution/pyproject.toml no longer asks for {name}"
    lowest = floor(declared[name])
    assert lowest is not None and lowest >= Version(fixed), (
        f"solution/pyproject.toml admits {name} {declared[name].specifier}: "
        f"it must start at {fixed} or later, past " + "; ".join(advisories)
    )


@pytest.mark.parametrize("name", sorted(ADVISORIES))
def test_the_graders_floor_is_the_solutions(name: str) -> None:
    """The grader runs the learner's code with the `grade` group: the same floors."""
    grade = requirements(pyproject(REPO_ROOT)["dependency-groups"]["grade"])
    solution = requirements(pyproject(SOLUTION)["project"]["dependencies"])
    if name not in grade:
        pytest.skip(f"the grade group does not name {name}")
    assert floor(grade[name]) == floor(solution[name]), (
        f"the grade group asks for {grade[name]}, the solution for {solution[name]}"
    )
