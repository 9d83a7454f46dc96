"""How long grading takes once the caches are warm, and how many submissions a batch grades."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from course.grading.runner import PLUGINS
from course.manifest import REPO_ROOT

BATCH_COPIES = 4  # enough to keep every core busy twice on a 2-core machine


@dataclass
class GraderSpeed:
    """Warm wall times of `python -m course grade`, in seconds, and batch throughput."""

    floor_s: float  # pytest starting and collecting nothing: the same run's baseline
    all_steps_s: float
    slowest_step: int
    slowest_step_s: float
    step_test_seconds: dict[int, float]  # time spent in each step's tests, from the report
    points: str
    batch_copies: int
    batch_s: float
    batch_per_minute: float


def _timed(
    command: list[str],
    *,
    cwd: Path = REPO_ROOT,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> float:
    """Run `command` to its end and return the wall time."""
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=check, capture_output=True)
    return time.perf_counter() - started


def _grade(target: Path, reports: Path, *steps: int) -> float:
    """Grade `target` (all steps, or `steps`) and return the wall time."""
    command = [sys.executable, "-m", "course", "grade", str(target), "--reports", str(reports)]
    for step in steps:
        command += ["--step", str(step)]
    return _timed(command)


def _floor(workdir: Path) -> float:
    """The wall time of pytest collecting an empty file: what any grading pays at least.

    pytest loads the same plugins as in a grading run, and no others.
    """
    empty = workdir / "test_nothing.py"
    empty.write_text("")
    plugins = [arg for plugin in PLUGINS for arg in ("-p", plugin)]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugins, str(empty)]
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    # Exit status 5 is "no tests collected", which is the point.
    return _timed(command, cwd=workdir, env=env, check=False)


def _batch(target: Path, workdir: Path, copies: int) -> float:
    """Grade `copies` copies of `target` as one class; return the wall time."""
    klass = workdir / "class"
    ignore = shutil.ignore_patterns(".venv", "__pycache__", "*.db", ".mypy_cache", ".ruff_cache")
    for n in range(copies):
        shutil.copytree(target, klass / f"copy-{n + 1}", ignore=ignore)
    command = [sys.executable, "-m", "course", "grade", "--class", str(klass)]
    command += ["--reports", str(workdir / "class-reports"), "--jobs", str(os.cpu_count() or 1)]
    return _timed(command)


def measure(target: Path, *, batch_copies: int = BATCH_COPIES) -> GraderSpeed:
    """Grade once to warm up (bytecode, page cache), then time all steps, the slowest, a batch."""
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        workdir = Path(tmp)
        reports = workdir / "reports"
        _grade(target, reports)
        floor = _floor(workdir)
        all_steps = _grade(target, reports)
        report = json.loads((reports / "grade-report.json").read_text())
        per_step: Counter[int] = Counter()
        for test in report["tests"]:
            per_step[test["step"]] += test["duration_s"]
        slowest = max(per_step, key=lambda step: per_step[step])
        slowest_s = _grade(target, reports, slowest)
        batch_s = _batch(target, workdir, batch_copies)
    return GraderSpeed(
        floor_s=round(floor, 2),
        all_steps_s=round(all_steps, 2),
        slowest_step=slowest,
        slowest_step_s=round(slowest_s, 2),
        step_test_seconds={step: round(s, 2) for step, s in sorted(per_step.items())},
        points=f"{report['points']}/{report['max_points']}",
        batch_copies=batch_copies,
        batch_s=round(batch_s, 1),
        batch_per_minute=round(batch_copies * 60 / batch_s, 2),
    )
