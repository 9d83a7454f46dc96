"""Grading reports: `grade-report.json`, JUnit XML and the terminal scoreboard.

`grade-report.json` follows the shape of Exercism's test-runner results (version 3:
an overall status and one entry per test with name, status, message and output),
extended with the course's steps, deliverables and points. Its schema is
documented in the instructor guide and versioned by `schema_version`.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from course.grading.digest import Provenance
from course.grading.hints import HINT
from course.grading.runner import GradingRun, TestResult, conflict_message
from course.manifest import Manifest, load_manifest

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


# The last exception named in a message ("ModuleNotFoundError: No module named 'jose'"),
# the import failure it ends (LearnerImportError's "importing app.x failed: "), and
# where it happened ("(in <module>, app/core/security.py line 1)").
EXCEPTION_NAME = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Exit|Interrupt)\b: ")
IMPORT_FAILED = re.compile(r"importing ([\w.]+) failed: ")
LOCATION = re.compile(r" \(in (?:[^,()]+, )?(?P<where>[^\s,()]+ line \d+)\)")
MIN_SHARED = 2  # failed checks with one root cause: shown once above the scoreboard
SHOWN_CAUSES = 5  # at most this many above the scoreboard; the others' checks speak for themselves


def root_cause(message: str) -> tuple[str, str, str] | None:
    """The root error at the end of a failed check's message: (key, summary, text).

    The key is the innermost exception's type and text and the file and line it
    names (or, for an import that failed without one, that import's reason); the
    summary is the exception alone; the text runs from the innermost import failure
    to the end of the line, hints included. None when the message names no error.
    """
    errors = list(EXCEPTION_NAME.finditer(message))
    imports = list(IMPORT_FAILED.finditer(message))
    error = errors[-1] if errors else None
    last_import = imports[-1] if imports else None
    if error is not None and (last_import is None or error.start() >= last_import.end()):
        chained = last_import is not None and last_import.end() == error.start()
        start = last_import.start() if last_import is not None and chained else error.start()
        text = message[start:].split("\n", 1)[0].strip()
        rest = message[error.end() :].split("\n", 1)[0]
        own = rest.split(f" {HINT} ", 1)[0]
        location = LOCATION.search(own)
        own = own[: location.start()] if location else own
        summary = f"{error.group(0)}{own.strip().rstrip('.:;')}"
        where = f" ({location.group('where')})" if location else ""
        return summary + where, summary, text
    if last_import is not None:
        text = message[last_import.start() :].split("\n", 1)[0].strip()
        reason = text[last_import.end() - last_import.start() :].split(f" {HINT} ", 1)[0]
        return text, reason.strip(), text
    return None


def shared_causes(tests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Failed checks that share a root error (see `root_cause`), most checks first.

    Each: the cause as shown once (`message`), the error alone (`summary`), whether
    the checks could not run at all (an import failed, or every one was an error),
    and the node ids of the checks.
    """
    groups: dict[str, list[tuple[dict[str, Any], str, str]]] = {}
    for test in tests:
        if test["status"] in ("fail", "error") and test["message"]:
            found = root_cause(test["message"])
            if found is not None:
                key, summary, text = found
                groups.setdefault(key, []).append((test, summary, text))
    causes = []
    for members in groups.values():
        if len(members) < MIN_SHARED:
            continue
        [(text, _)] = Counter(m[2] for m in members).most_common(1)
        causes.append(
            {
                "message": text,
                "summary": members[0][1],
                "could_not_run": any(IMPORT_FAILED.search(m[2]) for m in members)
                or all(m[0]["status"] == "error" for m in members),
                "tests": [m[0]["nodeid"] for m in members],
            }
        )
    return sorted(causes, key=lambda c: -len(c["tests"]))


def build_report(run: GradingRun, manifest: Manifest) -> dict[str, Any]:
    """The report as a JSON-ready dictionary."""
    by_deliverable: dict[str, list[TestResult]] = {}
    for test in run.tests:
        by_deliverable.setdefault(test.deliverable, []).append(test)
    steps: list[dict[str, Any]] = []
    for number in run.steps:
        step = manifest.step(number)
        deliverables: list[dict[str, Any]] = []
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
    entries = [
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
    ]
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "status": status,
        "message": run.error,
        "target": str(run.target),
        "isolation": run.isolation,
        "grading": grading_provenance(),
        "graded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": run.duration,
        "points": earned,
        "max_points": possible,
        "percent": round(100 * earned / possible, 1) if possible else 0.0,
        "conflicts": [{"path": c.path, "line": c.line} for c in run.conflicts],
        "conflict_message": conflict_message(run.conflicts) if run.conflicts else None,
        # A conflict is the one cause of every failure already (conflict_message).
        "causes": [] if run.conflicts else shared_causes(entries),
        "steps": steps,
        "tests": entries,
    }


def grading_provenance() -> dict[str, Any]:
    """What the grade was made with: the course version and its grading files' digest."""
    provenance = Provenance.of_this_grader()
    return {
        "course_version": provenance.course_version,
        "digest": provenance.digest,
        "published_digest": provenance.published,
        "tests_modified": provenance.modified,
    }


def tests_modified(report: dict[str, Any] | None) -> bool:
    """Whether a report was made with grading tests or a grader the course did not publish."""
    return bool(report and report.get("grading", {}).get("tests_modified"))


TESTS_MODIFIED = (
    "grading tests modified: this grade was made with grading tests or a grader that differ "
    "from the ones this course version published"
)


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


def _cause_count(cause: dict[str, Any], number: int | None) -> str:
    """How many checks a shared cause stopped ("(2) 12 checks could not run")."""
    label = f"({number}) " if number else ""
    verb = "could not run" if cause["could_not_run"] else "failed with the same error"
    return f"{label}{len(cause['tests'])} checks {verb}"


def _cause_hint(cause: dict[str, Any], number: int | None) -> str:
    """A deliverable's hint when its first failure is a shared cause: a pointer to it."""
    verb = "could not run" if cause["could_not_run"] else "failed"
    return f"{verb}: {cause['summary']} (see {f'cause {number}' if number else 'above'})"


def _first_failures(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The first failed test of each deliverable."""
    first: dict[str, dict[str, Any]] = {}
    for test in report["tests"]:
        if test["status"] in ("fail", "error"):
            first.setdefault(test["deliverable"], test)
    return first


def verdict(report: dict[str, Any]) -> str:
    """One line: the score and what to do next (the last line of a grading run)."""
    if report["status"] == "error":
        return "Grading could not run; next: fix the problem above, then grade again."
    score = f"{report['points']}/{report['max_points']} points ({report['percent']:g}%)"
    conflicts = report.get("conflicts") or []
    if conflicts:
        first = conflicts[0]
        return (
            f"{score}; next: resolve the merge conflict in {first['path']} (line {first['line']})"
        )
    for step in report["steps"]:
        for item in step["deliverables"]:
            if item["status"] != "pass" and item["max_points"]:
                return (
                    f"{score}; next: step {step['number']}, {item['key']} {item['title']} — "
                    f"{item['docs']}"
                )
    manifest = load_manifest()
    graded = [step["number"] for step in report["steps"]]
    following = [s for s in manifest.steps if graded and s.number > max(graded)]
    if following:
        step = following[0]
        return f"{score}; next: step {step.number}, {step.title} — {manifest.docs_base}{step.docs}"
    return f"{score}; every check passes: nothing left to do"


def print_scoreboard(
    report: dict[str, Any], console: Console, *, footer: str | None = None
) -> None:
    """The terminal scoreboard: points and status per step and deliverable, the first hint
    of each, where to read, and last the score and what is next (`footer` just before).

    Learner and library text is printed as text, never read as Rich markup. Failed
    checks that share a root cause are counted on one line above the table, and their
    deliverables point at it. Links are printed whole, outside the table.
    """
    if tests_modified(report):
        console.print(Text(TESTS_MODIFIED, style="red bold"), soft_wrap=True)
    if report["status"] == "error":
        console.print(Text.assemble(("Grading could not run. ", "red bold"), report["message"]))
        if footer:
            console.print(Text(footer), soft_wrap=True)
        console.print(Text(verdict(report), style="bold"), soft_wrap=True)
        return
    causes = (report.get("causes") or [])[:SHOWN_CAUSES]
    numbered = len(causes) > 1
    cause_of = {nodeid: n for n, cause in enumerate(causes, 1) for nodeid in cause["tests"]}
    if report.get("conflicts"):
        blocked = sum(t["message"] == report["conflict_message"] for t in report["tests"])
        console.print(
            Text.assemble(
                (f"{blocked} checks could not run", "red bold"), ": ", report["conflict_message"]
            )
        )
    for number, cause in enumerate(causes, 1):
        count = _cause_count(cause, number if numbered else None)
        console.print(Text.assemble((count, "red bold"), ": ", cause["message"]))
    first = _first_failures(report)
    table = Table(title=Text(f"Grade · {report['target']}"), title_justify="left", expand=False)
    table.add_column("step / deliverable")
    table.add_column("points", justify="right")
    table.add_column("")
    table.add_column("first thing to fix", overflow="fold", max_width=70)
    reading: list[tuple[str, str]] = []
    for step in report["steps"]:
        table.add_row(
            Text(f"{step['number']} · {step['title']}", style="bold"),
            f"{step['points']}/{step['max_points']}",
            Text(STATUS_MARK[step["status"]], style=STATUS_STYLE[step["status"]]),
            "",
        )
        for item in step["deliverables"]:
            hint = Text()
            if item["first_failure"]:
                reading.append((item["key"], item["docs"]))
                test = first.get(item["key"])
                shared = cause_of.get(test["nodeid"]) if test else None
                if report.get("conflicts") and item["first_failure"] == report["conflict_message"]:
                    hint = Text("could not run: the merge conflict (see above)")
                elif shared is not None:
                    hint = Text(_cause_hint(causes[shared - 1], shared if numbered else None))
                else:
                    hint = Text(item["first_failure"])
            table.add_row(
                Text(f"  {item['key']}  {item['title']}"),
                f"{item['points']}/{item['max_points']}",
                Text(STATUS_MARK[item["status"]], style=STATUS_STYLE[item["status"]]),
                hint,
            )
    console.print(table)
    if reading:
        # Outside the table, on a line each, never wrapped: a link cut in two is no link.
        console.print(Text("Where to read:", style="bold"))
        width = max(len(key) for key, _ in reading)
        for key, docs in reading:
            console.print(Text(f"  {key:<{width}}  {docs}", style="dim"), soft_wrap=True)
    if footer:
        console.print(Text(footer), soft_wrap=True)
    console.print(Text(verdict(report), style="bold"), soft_wrap=True)


def scoreboard_markdown(report: dict[str, Any]) -> str:
    """The scoreboard as Markdown, for a CI job summary ($GITHUB_STEP_SUMMARY)."""
    if report["status"] == "error":
        return f"## Grade\n\nGrading could not run.\n\n```\n{report['message']}\n```\n"
    icon = {"pass": "✅", "partial": "🟡", "fail": "❌", "error": "❌"}
    lines = [f"## Grade: {report['points']}/{report['max_points']} ({report['percent']}%)", ""]
    if tests_modified(report):
        lines += [f"**⚠ {TESTS_MODIFIED}.**", ""]
    causes = (report.get("causes") or [])[:SHOWN_CAUSES]
    numbered = len(causes) > 1
    cause_of = {nodeid: n for n, cause in enumerate(causes, 1) for nodeid in cause["tests"]}
    for number, cause in enumerate(causes, 1):
        count = _cause_count(cause, number if numbered else None)
        lines += [f"**{count}:** {cause['message']}", ""]
    lines += ["| step / deliverable | points | | first thing to fix |", "|---|---:|---|---|"]
    first = _first_failures(report)
    for step in report["steps"]:
        lines.append(
            f"| **{step['number']} · {step['title']}** | {step['points']}/{step['max_points']} "
            f"| {icon[step['status']]} | |"
        )
        for item in step["deliverables"]:
            hint = ""
            if item["first_failure"]:
                test = first.get(item["key"])
                shared = cause_of.get(test["nodeid"]) if test else None
                text = item["first_failure"]
                if shared is not None:
                    text = _cause_hint(causes[shared - 1], shared if numbered else None)
                text = text.replace("|", "\\|").replace("\n", " ")[:200]
                hint = f"{text} ([read]({item['docs']}))"
            lines.append(
                f"| &nbsp;&nbsp;{item['key']} {item['title']} | "
                f"{item['points']}/{item['max_points']} | {icon[item['status']]} | {hint} |"
            )
    return "\n".join(lines) + "\n"
