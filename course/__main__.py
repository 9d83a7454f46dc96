"""Command line of the workshop's tooling (the nox sessions call it).

python -m course grade [TARGET] [--step N ...] [--strict] [--database postgresql]
python -m course grade DIR1 DIR2 ... | --class DIR     (batch: a gradebook and a dashboard)
python -m course watch [TARGET]
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
BATCH_MEMORY_MB = 4096
BATCH_OUTPUT_MB = 100


def grade_command(args: argparse.Namespace) -> int:
    """Grade one target, or a batch (several targets or --class folders)."""
    if len(args.targets) > 1 or args.classes:
        return batch_command(args)
    args.target = args.targets[0] if args.targets else str(WORKSPACE)
    return grade_one(args)


def grade_one(args: argparse.Namespace) -> int:
    """Grade one target and write its reports."""
    from course.grading.report import (
        build_report,
        print_scoreboard,
        scoreboard_markdown,
        write_json,
        write_junit,
    )
    from course.grading.runner import Limits, grade

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
            from course.databases import throwaway_database  # SQLAlchemy: only when needed

            database_url = stack.enter_context(throwaway_database(server))
        with console.status(f"Grading {target.name} ..."):
            run = grade(
                target,
                manifest,
                args.step,
                work_dir=out,
                test_timeout=args.timeout,
                budget=args.budget,
                database_url=database_url,
                limits=Limits(memory_mb=args.memory, output_mb=args.max_output),
            )
    report = build_report(run, manifest)
    write_json(report, out / "grade-report.json")
    write_junit(report, out / "junit.xml")
    print_scoreboard(report, console)
    if args.summary_md:
        with Path(args.summary_md).open("a", encoding="utf-8") as summary:
            summary.write(scoreboard_markdown(report))
    console.print(f"Reports: {_shown(out / 'grade-report.json')}, {_shown(out / 'junit.xml')}")
    if report["status"] == "error":
        return 2
    if args.strict and report["points"] < report["max_points"]:
        return 1
    return 0


def batch_command(args: argparse.Namespace) -> int:
    """Grade many submissions in parallel; write the gradebook and the dashboard."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from course.batch import OK, BatchOptions, Outcome, discover, grade_batch
    from course.dashboard import write_pages
    from course.gradebook import class_stats, summary_markdown, write_csv

    console = Console()
    manifest = load_manifest()
    missing = [t for t in [*args.targets, *args.classes] if not Path(t).is_dir()]
    if missing:
        console.print(f"[red]Nothing to grade at {', '.join(missing)}[/]: no such folder.")
        return 2
    submissions = discover([Path(t) for t in args.targets], [Path(c) for c in args.classes])
    if not submissions:
        console.print("[red]No submissions found[/] (a class folder holds one folder each).")
        return 2
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.reports) if args.reports else REPORTS / f"class-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    options = BatchOptions(
        steps=args.step,
        test_timeout=args.timeout,
        budget=args.budget,
        # A batch runs unknown code unattended: limits are on unless set to 0.
        memory_mb=BATCH_MEMORY_MB if args.memory is None else args.memory,
        output_mb=BATCH_OUTPUT_MB if args.max_output is None else args.max_output,
        jobs=args.jobs or os.cpu_count() or 1,
        database=args.database,
    )
    console.print(
        f"Grading {len(submissions)} submissions, {options.jobs} at a time "
        f"(budget {options.budget:.0f} s, memory {options.memory_mb or 'unlimited'} MB each)"
    )
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[green]{task.fields[done]} done[/] · [red]{task.fields[failed]} failed[/] · "
                   "[cyan]{task.fields[running]} running[/]"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:  # fmt: skip
        task = progress.add_task("grading", total=len(submissions), done=0, failed=0, running=0)

        shown: list[Outcome] = []

        def update(finished: list[Outcome], running: int) -> None:
            failed = sum(o.status != OK for o in finished)
            progress.update(
                task, completed=len(finished), done=len(finished) - failed, failed=failed,
                running=running,
            )  # fmt: skip
            for outcome in finished[len(shown) :]:
                shown.append(outcome)
                if outcome.status != OK:
                    progress.console.print(
                        f"  [red]{outcome.submission.name}: {outcome.status}[/] "
                        f"{outcome.detail[:100]}"
                    )

        outcomes = grade_batch(submissions, out, options, update)
    steps = sorted(args.step or [s.number for s in manifest.steps])
    stats = class_stats(outcomes, manifest, steps)
    title = f"Class grades · {stamp}"
    write_csv(outcomes, manifest, steps, out / "gradebook.csv")
    summary = summary_markdown(outcomes, manifest, stats, title)
    (out / "summary.md").write_text(summary, encoding="utf-8")
    dashboard = write_pages(outcomes, manifest, stats, out, title)
    if args.summary_md:
        with Path(args.summary_md).open("a", encoding="utf-8") as file:
            file.write(summary)
    console.print(
        f"[bold]{len(outcomes)} graded[/]: mean {stats.mean_percent}%, "
        f"{stats.full_marks} with full marks, {len(outcomes) - stats.graded} with grading problems."
    )
    console.print(
        f"Gradebook: {_shown(out / 'gradebook.csv')} · summary: {_shown(out / 'summary.md')}"
    )
    console.print(f"Dashboard: {_shown(dashboard)}")
    return 0


def watch_command(args: argparse.Namespace) -> int:
    """Re-grade the current step whenever a file in the target changes."""
    from course.watch import watch

    target = Path(args.target).resolve()
    if not target.is_dir():
        Console().print(f"[red]Nothing to watch at {target}[/]: no such folder.")
        return 2
    watch(target, load_manifest(), test_timeout=args.timeout)
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
    grade.add_argument(
        "targets", nargs="*", metavar="TARGET", help="default: workspace/; several: a batch"
    )
    grade.add_argument(
        "--class", dest="classes", action="append", default=[], metavar="DIR",
        help="a folder whose sub-folders are submissions (batch)",
    )  # fmt: skip
    grade.add_argument("--step", type=int, action="append", help="grade only this step")
    grade.add_argument("--strict", action="store_true", help="exit 1 unless every check passes")
    grade.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    grade.add_argument("--timeout", type=float, default=20, help="seconds per check")
    grade.add_argument("--budget", type=float, default=600, help="seconds per submission")
    grade.add_argument("--memory", type=int, help="MB of memory for the code under test")
    grade.add_argument("--max-output", type=int, help="MB of output the code under test may write")
    grade.add_argument("--jobs", type=int, help="batch: submissions at a time (default: cores)")
    grade.add_argument("--summary-md", help="append a Markdown scoreboard to this file")
    grade.add_argument(
        "--reports", help="folder for the reports (default: reports/TARGET, reports/class-TIME)"
    )
    grade.set_defaults(func=grade_command)

    watch = commands.add_parser("watch", help="re-grade the current step on every save")
    watch.add_argument("target", nargs="?", default=str(WORKSPACE), help="default: workspace/")
    watch.add_argument("--timeout", type=float, default=20, help="seconds per check")
    watch.set_defaults(func=watch_command)

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
