"""Grading reports: `grade-report.json`, JUnit XML and the terminal scoreboard.

`grade-report.json` follows the shape of Exercism's test-runner results (version 3:
an overall status and one entry per test with name, status, message and output),
extended with the course's steps, deliverables and points. Its schema is
documented in the instructor guide and versioned by `schema_version`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from course.grading.runner import GradingRun, TestResult, conflict_message
from course.manifest import Manifest

SCHEMA = "clean-fastapi-workshop/grade-report"
SCHEMA_VERSION = 1
STATUS_STYLE = {"pass": "green", "partial": "yellow", "fail": "red", "error": "red"}
STATUS_MARK = {"pass": "✔", "partial": "◐", "fail": "✘", "error": "✘"}


def _status(earned: int, possible: int) -> str:
    if possible and earned == possible:
        return "pass"
    return "partial" if earned else "fail"


def _first_failure(tests: list[TestResult]) -> TestResult | None:
    return next((t for t in tests if t.status in ("fail", "error")), None)


def build_report(run: GradingRun, manifest: Manifest) -> dict[str, Any]:
    """The report as a JSON-ready dictionary."""
    by_deliverable: dict[str, list[TestResult]] = {}
    for test in run.tests:
        by_deliverable.setdefault(test.deliverable, []).append(test)
    steps = []
    for number in run.steps:
        step = manifest.step(number)
        deliverables = []
        for deliverable in step.deliverables:
            tests = by_deliverable.get(deliverable.key, [])
            earned = sum(t.points for t in tests if t.status == "pass")
            possible = sum(t.points for t in tests)
            failure = _first_failure(tests)
            deliverables.append(
                {
                    "key": deliverable.key,
                    "title": deliverable.title,
                    "points": earned,
                    "max_points": possible,
                    "status": _status(earned, possible),
                    "docs": manifest.docs_link(deliverable),
                    "first_failure": failure.message if failure else None,
                }
            )
        earned = sum(d["points"] for d in deliverables)
        possible = sum(d["max_points"] for d in deliverables)
        steps.append(
            {
                "number": number,
                "slug": step.slug,
                "title": step.title,
                "points": earned,
                "max_points": possible,
                "status": _status(earned, possible),
                "deliverables": deliverables,
            }
        )
    earned = sum(s["points"] for s in steps)
    possible = sum(s["max_points"] for s in steps)
    if run.error:
        status = "error"
    else:
        status = "pass" if all(t.status == "pass" for t in run.tests) else "fail"
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "status": status,
        "message": run.error,
        "target": str(run.target),
        "graded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": run.duration,
        "points": earned,
        "max_points": possible,
        "percent": round(100 * earned / possible, 1) if possible else 0.0,
        "conflicts": [{"path": c.path, "line": c.line} for c in run.conflicts],
        "conflict_message": conflict_message(run.conflicts) if run.conflicts else None,
        "steps": steps,
        "tests": [
            {
                "name": t.name,
                "nodeid": t.nodeid,
                "step": t.step,
                "deliverable": t.deliverable,
                "points": t.points,
                "status": t.status,
                "message": t.message or None,
                "output": t.output or None,
                "docs": manifest.docs_link(manifest.deliverable(t.deliverable)),
                "duration_s": t.duration,
            }
            for t in run.tests
        ],
    }


def write_json(report: dict[str, Any], path: Path) -> None:
    """Write `grade-report.json`."""
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_junit(report: dict[str, Any], path: Path) -> None:
    """Write the results as JUnit XML, one test suite per step."""
    suites = ET.Element("testsuites", name="grade", tests=str(len(report["tests"])))
    for step in report["steps"]:
        tests = [t for t in report["tests"] if t["step"] == step["number"]]
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=f"step {step['number']:02d} {step['title']}",
            tests=str(len(tests)),
            failures=str(sum(t["status"] == "fail" for t in tests)),
            errors=str(sum(t["status"] == "error" for t in tests)),
            skipped=str(sum(t["status"] == "skip" for t in tests)),
        )
        for test in tests:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"step_{step['number']:02d}.{test['deliverable']}",
                name=test["name"],
                time=str(test["duration_s"]),
            )
            if test["status"] in ("fail", "error"):
                kind = "failure" if test["status"] == "fail" else "error"
                node = ET.SubElement(case, kind, message=test["message"] or "")
                node.text = f"{test['message']}\nRead: {test['docs']}"
            elif test["status"] == "skip":
                ET.SubElement(case, "skipped", message=test["message"] or "")
            if test["output"]:
                ET.SubElement(case, "system-out").text = test["output"]
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def print_scoreboard(report: dict[str, Any], console: Console) -> None:
    """The terminal scoreboard: points and status per step and deliverable, and the first hint."""
    if report["status"] == "error":
        console.print(f"[red bold]Grading could not run.[/] {report['message']}")
        return
    if report.get("conflicts"):
        blocked = sum(t["message"] == report["conflict_message"] for t in report["tests"])
        console.print(
            f"[red bold]{blocked} checks could not run[/]: "
            f"{escape(report['conflict_message'])}"
        )
    table = Table(title=f"Grade · {report['target']}", title_justify="left", expand=False)
    table.add_column("step / deliverable")
    table.add_column("points", justify="right")
    table.add_column("")
    table.add_column("first thing to fix", overflow="fold", max_width=70)
    for step in report["steps"]:
        table.add_row(
            Text(f"{step['number']} · {step['title']}", style="bold"),
            f"{step['points']}/{step['max_points']}",
            Text(STATUS_MARK[step["status"]], style=STATUS_STYLE[step["status"]]),
            "",
        )
        for item in step["deliverables"]:
            hint = ""
            if item["first_failure"]:
                hint = f"{item['first_failure']}\n[dim]read: {item['docs']}[/]"
            table.add_row(
                f"  {item['key']}  {item['title']}",
                f"{item['points']}/{item['max_points']}",
                Text(STATUS_MARK[item["status"]], style=STATUS_STYLE[item["status"]]),
                hint,
            )
    console.print(table)
    console.print(
        f"[bold]Total: {report['points']}/{report['max_points']} ({report['percent']}%)[/] "
        f"in {report['duration_s']} s"
    )


def scoreboard_markdown(report: dict[str, Any]) -> str:
    """The scoreboard as Markdown, for a CI job summary ($GITHUB_STEP_SUMMARY)."""
    if report["status"] == "error":
        return f"## Grade\n\nGrading could not run.\n\n```\n{report['message']}\n```\n"
    icon = {"pass": "✅", "partial": "🟡", "fail": "❌", "error": "❌"}
    lines = [
        f"## Grade: {report['points']}/{report['max_points']} ({report['percent']}%)",
        "",
        "| step / deliverable | points | | first thing to fix |",
        "|---|---:|---|---|",
    ]
    for step in report["steps"]:
        lines.append(
            f"| **{step['number']} · {step['title']}** | {step['points']}/{step['max_points']} "
            f"| {icon[step['status']]} | |"
        )
        for item in step["deliverables"]:
            hint = ""
            if item["first_failure"]:
                text = item["first_failure"].replace("|", "\\|").replace("\n", " ")[:200]
                hint = f"{text} ([read]({item['docs']}))"
            lines.append(
                f"| &nbsp;&nbsp;{item['key']} {item['title']} | "
                f"{item['points']}/{item['max_points']} | {icon[item['status']]} | {hint} |"
            )
    return "\n".join(lines) + "\n"
