"""How long grading the solution takes once the caches are warm."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from course.manifest import REPO_ROOT


@dataclass
class GraderSpeed:
    """Warm wall times of `python -m course grade solution`, in seconds."""

    all_steps_s: float
    slowest_step: int
    slowest_step_s: float
    step_test_seconds: dict[int, float]  # time spent in each step's tests, from the report
    points: str


def _grade(target: Path, reports: Path, *steps: int) -> float:
    """Grade `target` (all steps, or `steps`) and return the wall time."""
    command = [sys.executable, "-m", "course", "grade", str(target), "--reports", str(reports)]
    for step in steps:
        command += ["--step", str(step)]
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO_ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def measure(target: Path) -> GraderSpeed:
    """Grade once to warm up (bytecode, page cache), then time all steps and the slowest."""
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        reports = Path(tmp)
        _grade(target, reports)
        all_steps = _grade(target, reports)
        report = json.loads((reports / "grade-report.json").read_text())
        per_step: Counter[int] = Counter()
        for test in report["tests"]:
            per_step[test["step"]] += test["duration_s"]
        slowest = max(per_step, key=lambda step: per_step[step])
        slowest_s = _grade(target, reports, slowest)
    return GraderSpeed(
        all_steps_s=all_steps,
        slowest_step=slowest,
        slowest_step_s=slowest_s,
        step_test_seconds={step: round(s, 2) for step, s in sorted(per_step.items())},
        points=f"{report['points']}/{report['max_points']}",
    )
