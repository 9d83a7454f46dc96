"""Dependencies you can reproduce: two locks, the sessions install from them, safe floors.

uv.lock pins the workshop's tooling (the dependency groups of the root pyproject.toml,
the solution among them, editable), solution/uv.lock the solution as a project of its
own. Every nox session installs from uv.lock (`uv sync --locked`), a lock that no longer
matches its pyproject.toml fails here, and the solution's floors stay above every
release with a published advisory. .github/workflows/newest-deps.yml tries the newest
releases every week.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from course.manifest import REPO_ROOT

SOLUTION = REPO_ROOT / "solution"
NOXFILE = REPO_ROOT / "noxfile.py"
WORKFLOW = REPO_ROOT / ".github" / "workflows" / "newest-deps.yml"
CI_RUN = REPO_ROOT / ".ci" / "run"

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


def locked_versions(root: Path) -> dict[str, Version]:
    lock = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
    return {
        canonicalize_name(package["name"]): Version(package["version"])
        for package in lock["package"]
        if "version" in package
    }


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


@pytest.mark.parametrize("root", [REPO_ROOT, SOLUTION], ids=["tooling", "solution"])
def test_the_locked_versions_are_past_every_advisory(root: Path) -> None:
    locked = locked_versions(root)
    for name, (fixed, advisories) in ADVISORIES.items():
        assert name in locked, f"{root.name}/uv.lock pins no {name}"
        assert locked[name] >= Version(fixed), (
            f"{root.name}/uv.lock pins {name} {locked[name]}, before {fixed}: {advisories}"
        )


# --- the locks -----------------------------------------------------------------------


def uv() -> list[str]:
    """The uv the `locks` group pins (in this environment), else the one on PATH."""
    try:
        from uv import find_uv_bin

        return [find_uv_bin()]
    except ImportError:
        found = shutil.which("uv")
        if found is None:
            pytest.skip("needs uv (the `locks` group: nox -s tests installs it)")
        return [found]


@pytest.mark.parametrize("root", [REPO_ROOT, SOLUTION], ids=["tooling", "solution"])
def test_the_lock_matches_its_pyproject(root: Path) -> None:
    """`uv lock --check`: offline, since an unchanged lock needs nothing from the index."""
    result = subprocess.run(
        [*uv(), "lock", "--check", "--offline", "--project", str(root)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (
        f"{root.relative_to(REPO_ROOT.parent)}/uv.lock is stale: run `uv lock` in "
        f"{root.name}/ and commit it.\n{result.stderr}"
    )


def test_the_locked_python_admits_the_course() -> None:
    for root in (REPO_ROOT, SOLUTION):
        lock = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
        assert lock["requires-python"] == ">=3.11", root
        registries = {
            package["source"].get("registry")
            for package in lock["package"]
            if "registry" in package.get("source", {})
        }
        assert registries == {"https://pypi.org/simple"}, f"{root}: {registries}"


def test_every_locked_distribution_has_a_hash() -> None:
    for root in (REPO_ROOT, SOLUTION):
        lock = tomllib.loads((root / "uv.lock").read_text(encoding="utf-8"))
        for package in lock["package"]:
            if "registry" not in package.get("source", {}):
                continue  # the solution itself, a path
            files = [package["sdist"]] if "sdist" in package else []
            files += package.get("wheels", [])
            assert files, f"{package['name']}: nothing to install"
            for file in files:
                assert file.get("hash", "").startswith("sha256:"), (package["name"], file)


def test_the_tooling_project_is_virtual_and_names_the_solution_editable() -> None:
    config = pyproject(REPO_ROOT)
    assert config["tool"]["uv"]["package"] is False
    source = config["tool"]["uv"]["sources"][pyproject(SOLUTION)["project"]["name"]]
    assert source == {"path": "solution", "editable": True}


# --- the sessions install from uv.lock -------------------------------------------------


def noxfile_sessions() -> dict[str, ast.FunctionDef]:
    """The session functions of noxfile.py, by session name."""
    found: dict[str, ast.FunctionDef] = {}
    for node in ast.parse(NOXFILE.read_text(encoding="utf-8")).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            if ast.unparse(target) != "nox.session":
                continue
            name = node.name
            for keyword in call.keywords if call else []:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    name = str(keyword.value.value)
            found[name] = node
    return found


def calls(node: ast.AST) -> list[str]:
    return [ast.unparse(call.func) for call in ast.walk(node) if isinstance(call, ast.Call)]


def test_every_session_installs_from_the_lock() -> None:
    sessions = noxfile_sessions()
    expected = {"serve", "lint", "tests", "grade", "watch", "start", "next", "checkpoints",
                "diff", "bench", "docs", "notebooks"}  # fmt: skip
    assert expected <= sessions.keys()
    for name, function in sessions.items():
        made = calls(function)
        assert "install" in made, f"nox -s {name} installs nothing from uv.lock"
        assert "session.install" not in made, f"nox -s {name} installs past uv.lock"


def test_the_install_helper_syncs_the_locked_groups() -> None:
    text = NOXFILE.read_text(encoding="utf-8")
    tree = ast.parse(text)
    (helper,) = (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "install")
    source = ast.get_source_segment(text, helper) or ""
    assert "session.install" not in source
    for needed in ('"uv", "sync", "--locked"', "UV_PROJECT_ENVIRONMENT", '"solution"'):
        assert needed in source, f"install() in noxfile.py lost {needed}"


def test_the_grader_runs_without_the_reference_app() -> None:
    """The grader imports the learner's `app`: the reference one must not be installed."""
    sessions = noxfile_sessions()
    for name in ("grade", "watch", "next", "docs", "start", "diff", "checkpoints"):
        installs = [
            call for call in ast.walk(sessions[name])
            if isinstance(call, ast.Call) and ast.unparse(call.func) == "install"
        ]  # fmt: skip
        assert installs, name
        for call in installs:
            keywords = {k.arg: ast.unparse(k.value) for k in call.keywords}
            assert keywords.get("solution") == "False", f"nox -s {name} installs the solution"


def test_the_groups_the_sessions_name_exist() -> None:
    groups = pyproject(REPO_ROOT)["dependency-groups"].keys()
    for name, function in noxfile_sessions().items():
        for call in ast.walk(function):
            if isinstance(call, ast.Call) and ast.unparse(call.func) == "install":
                for argument in call.args[1:]:
                    assert isinstance(argument, ast.Constant), name
                    assert argument.value in groups, f"nox -s {name}: no group {argument.value}"


# --- the weekly run on the newest releases ---------------------------------------------


def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_newest_deps_workflow_runs_weekly_and_on_demand() -> None:
    data = workflow()
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(triggers, dict)
    assert "workflow_dispatch" in triggers
    (schedule,) = triggers["schedule"]
    fields = schedule["cron"].split()
    assert len(fields) == 5 and fields[2:4] == ["*", "*"] and fields[4] != "*", (
        f"not weekly: {schedule['cron']}"
    )
    assert data["permissions"] == {"contents": "read"}


def run_scripts() -> str:
    steps = [step for job in workflow()["jobs"].values() for step in job["steps"]]
    return "\n".join(str(step.get("run", "")) for step in steps)


def test_the_workflow_upgrades_both_locks_and_runs_the_test_command() -> None:
    scripts = run_scripts()
    assert re.search(r"^\s*uv lock --upgrade", scripts, re.MULTILINE)
    assert "cd solution && uv lock --upgrade" in scripts
    assert "bash .ci/run" in scripts
    assert "pipefail" in scripts  # tee must not hide the failure
    assert "nox -s tests" in CI_RUN.read_text(encoding="utf-8")


def test_the_workflow_names_only_existing_sessions() -> None:
    sessions = noxfile_sessions().keys()
    text = run_scripts() + "\n" + CI_RUN.read_text(encoding="utf-8")
    named = re.findall(r"nox -s ([\w-]+)", text)
    assert named
    for name in named:
        assert name in sessions, f"nox -s {name}: no such session in noxfile.py"


def test_the_workflow_uses_only_official_actions_pinned() -> None:
    steps = [step for job in workflow()["jobs"].values() for step in job["steps"]]
    used = [step["uses"] for step in steps if "uses" in step]
    assert used
    for action in used:
        name, _, ref = action.partition("@")
        assert name.startswith("actions/"), f"{action}: not an official action"
        assert re.fullmatch(r"v\d+|[0-9a-f]{40}", ref), f"{action}: pin a major or a SHA"


def test_the_workflow_uploads_the_upgraded_locks_and_the_log() -> None:
    steps = [step for job in workflow()["jobs"].values() for step in job["steps"]]
    (upload,) = (s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    paths = upload["with"]["path"]
    for needed in ("reports/newest-deps/", "uv.lock", "solution/uv.lock"):
        assert needed in paths
    scripts = run_scripts()
    for written in ("locks.diff", "upgrades.txt", "ci.log"):
        assert f"reports/newest-deps/{written}" in scripts
