"""The class gradebook: `gradebook.csv`, `summary.md` and the class statistics.

The CSV follows otter-grader's `final_grades.csv`: one row per submission, and a
first row that holds the points each column is worth, so a spreadsheet can turn
points into percentages without knowing the course.
"""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course.batch import OK, Outcome
from course.grading.report import tests_modified
from course.manifest import Manifest

POINTS_ROW_NAME = "POINTS POSSIBLE"


def step_points(report: dict[str, Any] | None, number: int) -> int | None:
    """Points a report earned in step `number`, None when the step was not graded."""
    for step in (report or {}).get("steps", []):
        if step["number"] == number:
            return int(step["points"])
    return None


@dataclass
class FailingCheck:
    """A check that failed for several submissions."""

    name: str
    nodeid: str
    step: int
    deliverable: str
    docs: str
    count: int
    message: str  # the most common message it gave


@dataclass
class ClassStats:
    """What the summary and the dashboard show about the class."""

    steps: list[int]
    submissions: int
    graded: int  # whose grading status is ok
    mean_percent: float
    median_percent: float
    full_marks: int
    step_complete: dict[int, float] = field(default_factory=dict)  # share with full marks
    step_mean: dict[int, float] = field(default_factory=dict)  # mean share of the points
    deliverable_rate: dict[str, float] = field(default_factory=dict)  # share with full marks
    statuses: Counter[str] = field(default_factory=Counter)
    failing: list[FailingCheck] = field(default_factory=list)


def grading_tests(outcome: Outcome) -> str:
    """ "modified" when the submission was graded with tests the course did not publish."""
    if outcome.report is None:
        return ""
    return "modified" if tests_modified(outcome.report) else "published"


def percent(outcome: Outcome) -> float:
    """The submission's score in percent (0 without a report)."""
    return float(outcome.report["percent"]) if outcome.report else 0.0


def class_stats(outcomes: list[Outcome], manifest: Manifest, steps: list[int]) -> ClassStats:
    """Pass rates per step and deliverable, and the most common failing checks."""
    count = len(outcomes) or 1
    scores = sorted(percent(o) for o in outcomes)
    median = statistics.median(scores) if scores else 0.0
    stats = ClassStats(
        steps=steps,
        submissions=len(outcomes),
        graded=sum(o.status == OK for o in outcomes),
        mean_percent=round(sum(scores) / count, 1),
        median_percent=round(median, 1),
        full_marks=sum(
            o.report is not None and o.report["points"] == o.report["max_points"] for o in outcomes
        ),
        statuses=Counter(o.status for o in outcomes),
    )
    for number in steps:
        possible = manifest.step(number).points
        earned = [step_points(o.report, number) or 0 for o in outcomes]
        stats.step_complete[number] = sum(e == possible for e in earned) / count
        stats.step_mean[number] = sum(earned) / (possible * count) if possible else 0.0
        for deliverable in manifest.step(number).deliverables:
            done = 0
            for outcome in outcomes:
                for step in (outcome.report or {}).get("steps", []):
                    for item in step["deliverables"]:
                        if item["key"] == deliverable.key and item["status"] == "pass":
                            done += 1
            stats.deliverable_rate[deliverable.key] = done / count
    failures: Counter[str] = Counter()
    messages: dict[str, Counter[str]] = {}
    seen: dict[str, dict[str, Any]] = {}
    for outcome in outcomes:
        for test in (outcome.report or {}).get("tests", []):
            if test["status"] in ("fail", "error"):
                failures[test["nodeid"]] += 1
                messages.setdefault(test["nodeid"], Counter())[test["message"] or ""] += 1
                seen[test["nodeid"]] = test
    for nodeid, times in failures.most_common(12):
        test = seen[nodeid]
        stats.failing.append(
            FailingCheck(
                name=test["name"], nodeid=nodeid, step=test["step"],
                deliverable=test["deliverable"], docs=test["docs"], count=times,
                message=messages[nodeid].most_common(1)[0][0],
            )
        )  # fmt: skip
    return stats


def write_csv(outcomes: list[Outcome], manifest: Manifest, steps: list[int], path: Path) -> None:
    """`gradebook.csv`: a points-possible row, then one row per submission."""
    columns = ["name", *(f"step_{n:02d}" for n in steps), "total", "percent", "status",
               "grading_tests"]  # fmt: skip
    possible = [manifest.step(n).points for n in steps]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerow([POINTS_ROW_NAME, *possible, sum(possible), 100.0, "", ""])
        for outcome in outcomes:
            earned = [step_points(outcome.report, n) for n in steps]
            writer.writerow(
                [
                    outcome.submission.name,
                    *("" if e is None else e for e in earned),
                    sum(e or 0 for e in earned),
                    percent(outcome),
                    outcome.status,
                    grading_tests(outcome),
                ]
            )


def summary_markdown(
    outcomes: list[Outcome], manifest: Manifest, stats: ClassStats, title: str
) -> str:
    """A readable class summary in Markdown: pass rates per step, problems, common failures."""
    lines = [
        f"# {title}",
        "",
        f"{stats.submissions} submissions · mean {stats.mean_percent}% · median "
        f"{stats.median_percent}% · {stats.full_marks} with full marks · "
        f"{stats.submissions - stats.graded} with grading problems",
        "",
        "## Pass rate per step",
        "",
        "| step | title | points | full marks | mean score |",
        "|---:|---|---:|---:|---:|",
    ]
    for number in stats.steps:
        step = manifest.step(number)
        lines.append(
            f"| {number} | {step.title} | {step.points} | "
            f"{stats.step_complete[number]:.0%} | {stats.step_mean[number]:.0%} |"
        )
    lines += ["", "## Submissions", "", "| name | points | percent | status | note |"]
    lines.append("|---|---:|---:|---|---|")
    for o in outcomes:
        points = f"{o.report['points']}/{o.report['max_points']}" if o.report else "—"
        note = o.detail.replace("|", "\\|").replace("\n", " ")[:120]
        if tests_modified(o.report):
            note = f"**grading tests modified** {note}".strip()
        lines.append(f"| {o.submission.name} | {points} | {percent(o)} | {o.status} | {note} |")
    if stats.failing:
        lines += ["", "## Most common failing checks", ""]
        lines += ["| failed for | step | check | hint |", "|---:|---:|---|---|"]
        for check in stats.failing:
            hint = check.message.replace("|", "\\|").replace("\n", " ")[:160]
            lines.append(
                f"| {check.count} | {check.step} | `{check.name}` | {hint} ([docs]({check.docs})) |"
            )
    return "\n".join(lines) + "\n"
