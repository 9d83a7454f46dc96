"""The reference solution earns full marks, and the manifest agrees with the tests."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from course.grading.report import build_report
from course.grading.runner import grade, isolation
from course.manifest import REPO_ROOT, load_manifest

MANIFEST = load_manifest()
STEP_TESTS = sorted((REPO_ROOT / "tests").glob("step_*/**/*.py"))


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    """Every grading test as the plugin declares it (collection only: no learner code runs)."""
    events = tmp_path_factory.mktemp("collect") / "events.jsonl"
    subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", f"--grade-results={events}",
         *[step.test_dir for step in MANIFEST.steps]],
        cwd=REPO_ROOT, check=True, capture_output=True,
    )  # fmt: skip
    [event] = [json.loads(line) for line in events.read_text().splitlines()]
    tests: list[dict[str, object]] = event["tests"]
    return tests


def test_manifest_points_are_the_sum_of_the_grading_tests(
    collected: list[dict[str, object]],
) -> None:
    points = Counter[str]()
    for test in collected:
        points[str(test["deliverable"])] += int(test["points"])  # type: ignore[call-overload]
    for step in MANIFEST.steps:
        for deliverable in step.deliverables:
            assert deliverable.points == points[deliverable.key], (
                f"course.toml gives {deliverable.key} {deliverable.points} points, "
                f"its tests add up to {points[deliverable.key]}"
            )


def test_every_deliverable_has_tests_and_there_are_at_least_120(
    collected: list[dict[str, object]],
) -> None:
    keys = {test["deliverable"] for test in collected}
    missing = [d.key for s in MANIFEST.steps for d in s.deliverables if d.key not in keys]
    assert not missing, f"deliverables without grading tests: {missing}"
    assert len(collected) >= 120


@pytest.mark.parametrize("path", STEP_TESTS, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_grading_assertions_all_explain_themselves(path: Path) -> None:
    tree = ast.parse(path.read_text())
    bare = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert) and not node.msg]
    assert not bare, f"{path.name}: asserts without a message for the learner on lines {bare}"


def test_grading_tests_import_no_learner_code_at_module_level() -> None:
    offenders = []
    for path in STEP_TESTS:
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n == "app" or n.startswith("app.")]
    assert not offenders, f"learner code imported at module level: {offenders}"


def full_marks(database_url: str | None, tmp_path: Path) -> None:
    run = grade(REPO_ROOT / "solution", MANIFEST, work_dir=tmp_path, database_url=database_url)
    report = build_report(run, MANIFEST)
    jsonschema.validate(
        report, json.loads((REPO_ROOT / "course/grading/grade-report.schema.json").read_text())
    )
    assert report["isolation"] == isolation(), "in the sandbox wherever there can be one"
    failed = [f"{t.nodeid}: {t.message}" for t in run.tests if t.status != "pass"]
    assert not failed, "the solution must pass every check:\n" + "\n".join(failed)
    assert report["points"] == report["max_points"] == MANIFEST.points


def test_solution_earns_full_marks_on_sqlite(tmp_path: Path) -> None:
    full_marks(None, tmp_path)


# On PostgreSQL, in the sandbox: tests/grader/test_sandbox.py.
