"""Command line of the workshop's tooling (the nox sessions call it).

python -m course grade [TARGET] [--step N ...] [--strict] [--database postgresql]
python -m course start N [--force]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from rich.console import Console

from course.manifest import REPO_ROOT, load_manifest

WORKSPACE = REPO_ROOT / "workspace"
REPORTS = REPO_ROOT / "reports"


def grade_command(args: argparse.Namespace) -> int:
    """Grade one target and write its reports."""
    from course.databases import throwaway_database
    from course.grading.report import build_report, print_scoreboard, write_json, write_junit
    from course.grading.runner import grade

    console = Console()
    manifest = load_manifest()
    target = Path(args.target).resolve()
    if not target.is_dir():
        console.print(f"[red]Nothing to grade at {target}[/]: no such folder.")
        if target == WORKSPACE:
            console.print("Create your workspace first:  nox -s start -- 1")
        return 2
    for number in args.step or []:
        if not 1 <= number <= len(manifest.steps):
            console.print(f"[red]There is no step {number}[/] (steps 1 to {len(manifest.steps)}).")
            return 2
    out = Path(args.reports) if args.reports else REPORTS / target.name
    out.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        database_url = None
        if args.database == "postgresql":
            server = os.environ.get("TEST_POSTGRES_URL")
            if not server:
                console.print("[red]--database postgresql needs TEST_POSTGRES_URL[/]")
                return 2
            database_url = stack.enter_context(throwaway_database(server))
        with console.status(f"Grading {target.name} ..."):
            run = grade(
                target,
                manifest,
                args.step,
                work_dir=out,
                test_timeout=args.timeout,
                database_url=database_url,
            )
    report = build_report(run, manifest)
    write_json(report, out / "grade-report.json")
    write_junit(report, out / "junit.xml")
    print_scoreboard(report, console)
    console.print(f"Reports: {_shown(out / 'grade-report.json')}, {_shown(out / 'junit.xml')}")
    if report["status"] == "error":
        return 2
    if args.strict and report["points"] < report["max_points"]:
        return 1
    return 0


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def start_command(args: argparse.Namespace) -> int:
    """Create `workspace/` from checkpoint N."""
    console = Console()
    manifest = load_manifest()
    try:
        step = manifest.step(args.step)
    except KeyError as exc:
        console.print(f"[red]{exc.args[0]}[/]")
        return 2
    checkpoint = REPO_ROOT / "steps" / step.slug
    if not checkpoint.is_dir():
        console.print(
            f"[red]Checkpoint {step.number} ({step.slug}) does not exist yet[/]: the starting "
            "checkpoints under steps/ are not part of this version of the workshop. "
            "You can grade any project folder meanwhile: nox -s grade -- PATH"
        )
        return 2
    if WORKSPACE.exists():
        if not args.force:
            console.print(
                f"[red]{_shown(WORKSPACE)} already exists[/] and holds your work. "
                f"To replace it with checkpoint {step.number}, run again with --force "
                "(your current workspace is then moved to a backup folder first)."
            )
            return 1
        backup = WORKSPACE.with_name(f"workspace.backup-{datetime.now():%Y%m%d-%H%M%S}")
        WORKSPACE.rename(backup)
        console.print(f"Moved your previous workspace to {_shown(backup)}")
    shutil.copytree(checkpoint, WORKSPACE)
    console.print(
        f"[green]workspace/ now holds checkpoint {step.number}: {step.title}.[/]\n"
        f"Read docs/{step.docs}, then check your work with: nox -s grade -- --step {step.number}"
    )
    return 0


def checkpoints_command(args: argparse.Namespace) -> int:
    """Regenerate steps/ from the solution, or (--check) only compare."""
    import tempfile

    from course.checkpoints import STEPS, RecipeError, compare, generate

    console = Console()
    manifest = load_manifest()
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "steps"
        try:
            generate(manifest, fresh)
        except RecipeError as exc:
            console.print(f"[red]A checkpoint recipe no longer fits the solution:[/] {exc}")
            return 1
        if args.check:
            differences = compare(fresh, STEPS) if STEPS.exists() else ["steps/ (missing)"]
            if differences:
                console.print("[red]steps/ is out of date[/]; run `nox -s checkpoints`:")
                for line in differences:
                    console.print(f"  {line}")
                return 1
            console.print("[green]steps/ matches the solution and the recipes.[/]")
            return 0
        if STEPS.exists():
            shutil.rmtree(STEPS)
        shutil.copytree(fresh, STEPS)
    console.print(f"Wrote {len(manifest.steps)} checkpoints under {_shown(STEPS)}")
    return 0


def diff_command(args: argparse.Namespace) -> int:
    """Show a submission's files for a step beside the reference."""
    from rich.syntax import Syntax

    from course.diff import diff_step, html_page, unified

    console = Console()
    manifest = load_manifest()
    target = Path(args.target).resolve()
    if not target.is_dir():
        console.print(f"[red]Nothing to compare at {target}[/]: no such folder.")
        return 2
    steps = [manifest.step(args.step)] if args.step else list(manifest.steps)
    sections = [(step, diff_step(target, step, manifest)) for step in steps]
    for step, diffs in sections:
        changed = [d for d in diffs if not d.same]
        console.rule(
            f"Step {step.number}: {step.title} — {len(changed)} of {len(diffs)} files differ"
        )
        text = unified(diffs, target.name)
        if text:
            console.print(Syntax(text, "diff", theme="ansi_dark", word_wrap=True))
    out = REPORTS / f"diff-{target.name}{f'-step-{args.step}' if args.step else ''}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html_page(sections, target.name), encoding="utf-8")
    console.print(f"Side by side: {_shown(out)}")
    return 0


def points_command(args: argparse.Namespace) -> int:
    """Sum the grading tests' points per deliverable; --write puts them into course.toml."""
    import json
    import re
    import subprocess
    import tempfile
    from collections import Counter

    from course.manifest import MANIFEST_PATH

    manifest = load_manifest()
    with tempfile.TemporaryDirectory() as scratch:
        events = Path(scratch) / "events.jsonl"
        subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", f"--grade-results={events}",
             *[step.test_dir for step in manifest.steps]],
            cwd=REPO_ROOT, check=True, capture_output=True,
        )  # fmt: skip
        [event] = [json.loads(line) for line in events.read_text().splitlines()]
    points = Counter[str]()
    for test in event["tests"]:
        points[test["deliverable"]] += test["points"]
    text = MANIFEST_PATH.read_text(encoding="utf-8")
    for step in manifest.steps:
        for deliverable in step.deliverables:
            mark = "" if deliverable.points == points[deliverable.key] else "   (manifest: "
            mark += f"{deliverable.points})" if mark else ""
            print(f"step {step.number}  {deliverable.key:18} {points[deliverable.key]:4}{mark}")
            text = re.sub(
                rf'(\{{ key = "{re.escape(deliverable.key)}",.*?points = )\d+',
                rf"\g<1>{points[deliverable.key]}",
                text,
            )
    print(f"total {sum(points.values())} points in {len(event['tests'])} tests")
    if args.write:
        MANIFEST_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {MANIFEST_PATH.relative_to(REPO_ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the command."""
    parser = argparse.ArgumentParser(prog="python -m course", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    grade = commands.add_parser("grade", help="grade a project folder")
    grade.add_argument("target", nargs="?", default=str(WORKSPACE), help="default: workspace/")
    grade.add_argument("--step", type=int, action="append", help="grade only this step")
    grade.add_argument("--strict", action="store_true", help="exit 1 unless every check passes")
    grade.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    grade.add_argument("--timeout", type=float, default=20, help="seconds per check")
    grade.add_argument("--reports", help="folder for the reports (default: reports/TARGET)")
    grade.set_defaults(func=grade_command)

    start = commands.add_parser("start", help="create workspace/ from checkpoint N")
    start.add_argument("step", type=int)
    start.add_argument("--force", action="store_true", help="replace (and back up) workspace/")
    start.set_defaults(func=start_command)

    checkpoints = commands.add_parser("checkpoints", help="regenerate steps/ from the solution")
    checkpoints.add_argument("--check", action="store_true", help="only compare; exit 1 on drift")
    checkpoints.set_defaults(func=checkpoints_command)

    diff = commands.add_parser("diff", help="compare a submission's step files with the reference")
    diff.add_argument("target", nargs="?", default=str(WORKSPACE), help="default: workspace/")
    diff.add_argument("--step", type=int, help="one step (default: every step)")
    diff.set_defaults(func=diff_command)

    points = commands.add_parser("points", help="sum the tests' points per deliverable")
    points.add_argument("--write", action="store_true", help="update course/course.toml")
    points.set_defaults(func=points_command)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
