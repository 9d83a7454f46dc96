"""Command line of the workshop's tooling (the nox sessions call it).

python -m course grade [TARGET] [--step N ...] [--strict] [--database postgresql]
python -m course grade DIR1 DIR2 ... | --class DIR     (batch: a gradebook and a dashboard)
python -m course gradebook merge REPORTS1 REPORTS2 ... [--reports OUT]   (one class from batches)
python -m course watch [TARGET]
python -m course start N [--force]
python -m course next [TARGET] [--force] [--dry-run]   (step N to N+1, keeping your code)
python -m course docs [--check]     (the generated sections of the docs pages, in place)
python -m course mutation [--step N ...] [--report-only]   (Cosmic Ray over the solution)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from course.manifest import REPO_ROOT, load_manifest

if TYPE_CHECKING:
    from course.advance import FileChange
    from course.class_reports import ClassReports

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
    from course.grading.runner import BUBBLEWRAP, Limits, grade, isolation, sandbox_problem

    console = Console()
    manifest = load_manifest()
    target = Path(args.target).resolve()
    if not target.is_dir():
        console.print(f"[red]Nothing to grade at {escape(str(target))}[/]: no such folder.")
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
            # SQLAlchemy: only when needed. A private cluster the sandbox can reach.
            from course.databases import DatabaseUnavailable, grading_database

            try:
                database_url = stack.enter_context(
                    grading_database(sandboxed=isolation() == BUBBLEWRAP)
                )
            except DatabaseUnavailable as exc:
                console.print(Text(f"--database postgresql: {exc}", style="red"))
                return 2
        with console.status(Text(f"Grading {target.name} ...")):
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
    unsandboxed = (
        f"isolation: none — the code under test ran unsandboxed, with the grader's network, "
        f"files and environment ({sandbox_problem()})" if run.isolation != BUBBLEWRAP else ""
    )  # fmt: skip
    if args.summary_md:
        note = f"\n**{unsandboxed}**\n" if unsandboxed else ""
        with Path(args.summary_md).open("a", encoding="utf-8") as summary:
            summary.write(scoreboard_markdown(report) + note)
    # The score and what is next come last: the line a learner reads when it ends.
    reports = f"Reports: {_shown(out / 'grade-report.json')}, {_shown(out / 'junit.xml')}"
    if unsandboxed:
        console.print(Text(unsandboxed, style="yellow bold"), soft_wrap=True)
    print_scoreboard(report, console, footer=f"{reports} (graded in {report['duration_s']} s, "
                     f"isolation: {run.isolation})")  # fmt: skip
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

    from course import class_reports
    from course.batch import OK, BatchOptions, Outcome, discover, grade_batch
    from course.grading.runner import BUBBLEWRAP, isolation, sandbox_problem

    console = Console()
    manifest = load_manifest()
    missing = [t for t in [*args.targets, *args.classes] if not Path(t).is_dir()]
    if missing:
        console.print(f"[red]Nothing to grade at {escape(', '.join(missing))}[/]: no such folder.")
        return 2
    submissions = discover([Path(t) for t in args.targets], [Path(c) for c in args.classes])
    if not submissions:
        console.print("[red]No submissions found[/] (a class folder holds one folder each).")
        return 2
    stamp, out = _class_folder(args.reports)
    out.mkdir(parents=True, exist_ok=True)
    options = BatchOptions(
        steps=args.step or (),
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
        f"(budget {options.budget:.0f} s, memory {options.memory_mb or 'unlimited'} MB each, "
        f"isolation: {isolation()})"
    )
    if isolation() != BUBBLEWRAP:
        console.print(Text(f"isolation: none — every submission's code runs unsandboxed, with "
                           f"this machine's network, files and rights ({sandbox_problem()})",
                           style="yellow bold"), soft_wrap=True)  # fmt: skip
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
                        Text.assemble(
                            (f"  {outcome.submission.name}: {outcome.status}", "red"),
                            f" {outcome.detail[:100]}",
                        )
                    )

        outcomes = grade_batch(submissions, out, options, update)
    written = class_reports.write(outcomes, manifest, out, f"Class grades · {stamp}")
    _report_class(console, written, args.summary_md)
    return 0


def _class_folder(reports: str | None) -> tuple[str, Path]:
    """The time stamp of a class's reports and their folder (`reports`, else one named for it)."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return stamp, Path(reports) if reports else REPORTS / f"class-{stamp}"


def _report_class(console: Console, written: ClassReports, summary_md: str | None) -> None:
    """Append the summary to `summary_md` (if any); say where the class's reports are."""
    stats = written.stats
    if summary_md:
        with Path(summary_md).open("a", encoding="utf-8") as file:
            file.write(written.summary)
    console.print(
        f"[bold]{stats.submissions} graded[/]: mean {stats.mean_percent}%, "
        f"{stats.full_marks} with full marks, {stats.submissions - stats.graded} with grading "
        "problems."
    )
    console.print(
        Text(f"Gradebook: {_shown(written.gradebook)} · summary: {_shown(written.summary_path)}")
    )
    console.print(Text(f"Dashboard: {_shown(written.dashboard)}"))


def gradebook_command(args: argparse.Namespace) -> int:
    """`gradebook merge`: one class's reports from the report folders of several batches."""
    from course import class_reports

    console = Console()
    stamp, out = _class_folder(args.reports)
    try:
        outcomes = class_reports.merge([Path(source) for source in args.sources], out)
    except class_reports.MergeProblem as problem:
        console.print(Text(f"Nothing merged: {problem}.", style="red"))
        return 2
    title = f"Class grades · {stamp} · merged from {len(args.sources)} batches"
    written = class_reports.write(outcomes, load_manifest(), out, title)
    _report_class(console, written, args.summary_md)
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
    """Create `workspace/` (or another folder) from checkpoint N."""
    from course.advance import WorkspaceState, backup_path

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
    workspace = Path(args.target).resolve()
    if workspace.exists():
        if not args.force:
            console.print(
                f"[red]{_shown(workspace)} already exists[/] and holds your work. "
                "To carry on to the next step with your code, run: nox -s next. "
                f"To replace it with checkpoint {step.number}, run again with --force "
                "(your current workspace is then moved to a backup folder first)."
            )
            return 1
        backup = backup_path(workspace)
        workspace.rename(backup)
        console.print(f"Moved your previous workspace to {_shown(backup)}")
    shutil.copytree(checkpoint, workspace)
    WorkspaceState(step.number).write(workspace)
    console.print(
        f"[green]{_shown(workspace)} now holds checkpoint {step.number}: {step.title}.[/]\n"
        f"Read {_shown(workspace)}/STEP.md and docs/{step.docs}, then check your work with: "
        f"nox -s grade -- --step {step.number}"
    )
    return 0


def next_command(args: argparse.Namespace) -> int:
    """Move a workspace from its step to the next one, merging the new scaffolding in."""
    import tempfile

    from course.advance import Action, WorkspaceState, apply, back_up, guess_checkpoint, plan
    from course.checkpoints import RecipeError, build

    console = Console()
    manifest = load_manifest()
    target = Path(args.target).resolve()
    if not target.is_dir():
        console.print(f"[red]Nothing to move on at {target}[/]: no such folder.")
        if target == WORKSPACE:
            console.print("Create your workspace first:  nox -s start -- 1")
        return 2
    state = WorkspaceState.read(target)
    number = args.from_step or (state.checkpoint if state else None)
    if number is None:
        guess = guess_checkpoint(target)
        console.print(
            f"[red]{_shown(target)} does not say which step it is on[/] (no {_shown(target)}/"
            ".checkpoint.toml). "
            + (f"Its TODOs are step {guess}'s: nox -s next -- --from {guess}" if guess else
               "Say which step you have finished: nox -s next -- --from N")
        )  # fmt: skip
        return 2
    if not 1 <= number < len(manifest.steps):
        console.print(f"[red]There is no step after step {number}.[/]")
        return 2
    if not args.force and not _step_complete(target, number, args.timeout, console):
        console.print(
            f"[red]Step {number} is not complete yet[/]: the checks above say what is left. "
            "`nox -s watch` re-grades on every save. To move on anyway: nox -s next -- --force"
        )
        return 1
    following = manifest.step(number + 1)
    with tempfile.TemporaryDirectory(prefix="course-next-") as scratch:
        try:
            stages = build(manifest, Path(scratch))
        except RecipeError as exc:
            console.print(f"[red]The course's checkpoints cannot be built:[/] {exc}")
            return 2
        changes = plan(target, stages[number].end, stages[number + 1].checkpoint,
                       f"step {number + 1}")  # fmt: skip
    _print_changes(changes, console)
    if args.dry_run:
        console.print(f"Dry run: nothing was written. Without --dry-run, {_shown(target)} "
                      f"moves to step {number + 1}.")  # fmt: skip
        return 0
    backup = back_up(target)
    apply(target, changes)
    WorkspaceState(number + 1).write(target)
    console.print(f"Your workspace before the move is kept in {_shown(backup)}")
    conflicts = [c for c in changes if c.action is Action.CONFLICT]
    if conflicts:
        console.print(
            f"[yellow bold]{len(conflicts)} file(s) need you[/]: step {number + 1} changes lines "
            "you changed too. In each file, between `<<<<<<< your code` and `>>>>>>> step "
            f"{number + 1}`, keep what both sides need, then delete the three marker lines "
            "(<<<<<<<, =======, >>>>>>>). The grader names any conflict left."
        )
    console.print(
        f"[green]{_shown(target)} is on step {number + 1}: {following.title}.[/] "
        f"Read {_shown(target)}/STEP.md, then: nox -s grade -- --step {number + 1}"
    )
    return 0


def _step_complete(target: Path, number: int, timeout: float, console: Console) -> bool:
    """Grade one step of `target`; print the scoreboard unless it earns full marks."""
    from course.grading.report import build_report, print_scoreboard
    from course.grading.runner import grade

    manifest = load_manifest()
    with console.status(f"Grading step {number} of {target.name} before moving on ..."):
        run = grade(target, manifest, [number], work_dir=REPORTS / target.name,
                    test_timeout=timeout)  # fmt: skip
    report = build_report(run, manifest)
    if report["status"] != "error" and report["points"] == report["max_points"]:
        console.print(f"[green]Step {number} is complete[/]: {report['points']}/"
                      f"{report['max_points']} points.")  # fmt: skip
        return True
    print_scoreboard(report, console)
    return False


def _print_changes(changes: list[FileChange], console: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    from course.advance import Action

    notes = {
        Action.ADD: "new in this step",
        Action.UPDATE: "you had not changed it: the new version",
        Action.MERGE: "your code, with this step's changes merged in",
        Action.CONFLICT: "CONFLICT: your code and this step's changes meet",
        Action.REMOVE: "no longer part of the project (you had not changed it)",
        Action.KEEP: "no longer part of the project, but you changed it: kept",
    }
    if not changes:
        console.print("No file changes: this step adds nothing to your files.")
        return
    table = Table(title="Files", title_justify="left")
    table.add_column("file")
    table.add_column("what happens")
    for change in changes:
        note = notes[change.action]
        if change.conflict_lines:
            note += f" (line {', '.join(map(str, change.conflict_lines))})"
        style = "yellow" if change.action is Action.CONFLICT else ""
        table.add_row(escape(change.path), note, style=style)
    console.print(table)


def serve_command(args: argparse.Namespace) -> int:
    """Run a learner's project: its tables (as far as its step allows), then uvicorn."""
    from rich.markup import escape

    from course.serve import serve

    console = Console()
    target = Path(args.target).resolve()
    if not target.is_dir():
        console.print(f"[red]Nothing to serve at {target}[/]: no such folder.")
        return 2
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    console.print(
        f"API: http://{host}:{port}/api/v1/health · Swagger UI: http://{host}:{port}/docs"
    )
    return serve(target, ["--host", host, "--port", port, *args.uvicorn_args],
                 lambda text: console.print(escape(text)))  # fmt: skip


def digest_command(args: argparse.Namespace) -> int:
    """Print the grading files' digest; --write publishes it, --check compares."""
    from course.grading.digest import PUBLISHED, compute_digest

    digest = compute_digest()
    published = PUBLISHED.read_text(encoding="utf-8").strip() if PUBLISHED.exists() else ""
    if args.write:
        PUBLISHED.write_text(digest + "\n", encoding="utf-8")
        print(f"wrote {PUBLISHED.relative_to(REPO_ROOT)}: {digest}")
        return 0
    print(digest)
    if args.check and digest != published:
        print(f"{PUBLISHED.relative_to(REPO_ROOT)} is out of date: python -m course digest --write")
        return 1
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


def docs_command(args: argparse.Namespace) -> int:
    """Rewrite the generated sections of the docs pages, or (--check) only compare."""
    from course.docs_tables import DocsError, pages, sections, update_docs

    console = Console(soft_wrap=True)
    try:
        changed = update_docs(write=not args.check)
    except DocsError as exc:
        console.print(Text.assemble(("The docs' generated sections cannot be made: ", "red"),
                                    str(exc)))  # fmt: skip
        return 1
    for result in changed:
        if args.check:
            for drift in result.drifts:
                console.print(Text(f"  {drift}"))
            continue
        names = ", ".join(
            d.section.name + (" (new)" if d.section.placeholder else "") for d in result.drifts
        )
        console.print(Text(f"  docs/{result.page}: updated {names}"))
    if args.check and changed:
        console.print("[red]The docs' generated sections are out of date[/]; run "
                      "`python -m course docs` (or `nox -s checkpoints`).")  # fmt: skip
        return 1
    count = sum(len(sections(page.read_text(encoding="utf-8"))) for page in pages())
    state = "match" if args.check else "now match"
    console.print(f"[green]{count} generated sections in docs/ {state} the manifest, the "
                  "grading tests and the solution.[/]")  # fmt: skip
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
    from course.advance import WorkspaceState

    state = WorkspaceState.read(target)
    # A workspace says which step it is on: the steps after it are not written yet.
    last = state.checkpoint if state else len(manifest.steps)
    steps = [manifest.step(args.step)] if args.step else list(manifest.steps)[:last]
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


def mutation_command(args: argparse.Namespace) -> int:
    """Mutation-test the grading tests (Cosmic Ray), then write the table on the site."""
    from course.mutation.run import main as run_mutation

    return run_mutation(set(args.step) if args.step else None, args.jobs,
                        report_only=args.report_only)  # fmt: skip


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
    start.add_argument("target", nargs="?", default=str(WORKSPACE), help="default: workspace/")
    start.add_argument("--force", action="store_true", help="replace (and back up) workspace/")
    start.set_defaults(func=start_command)

    move = commands.add_parser("next", help="move a workspace on to the next step, with your code")
    move.add_argument("target", nargs="?", default=str(WORKSPACE), help="default: workspace/")
    move.add_argument("--force", action="store_true", help="move on though the step is incomplete")
    move.add_argument("--dry-run", action="store_true", help="list the changes, write nothing")
    move.add_argument(
        "--from",
        dest="from_step",
        type=int,
        metavar="N",
        help="the step the workspace is on (when it has no .checkpoint.toml)",
    )
    move.add_argument("--timeout", type=float, default=20, help="seconds per check")
    move.set_defaults(func=next_command)

    run = commands.add_parser("serve", help="run a project's own app (default: workspace/)")
    run.add_argument("target", nargs="?", default=str(WORKSPACE), help="default: workspace/")
    run.add_argument("uvicorn_args", nargs=argparse.REMAINDER, help="passed on to uvicorn")
    run.set_defaults(func=serve_command)

    gradebook = commands.add_parser("gradebook", help="a class's reports from several batches")
    gradebook_actions = gradebook.add_subparsers(dest="action", required=True)
    merge = gradebook_actions.add_parser(
        "merge", help="one gradebook, summary and dashboard from the report folders of batches"
    )
    merge.add_argument("sources", nargs="+", metavar="REPORTS", help="a batch's report folder")
    merge.add_argument("--reports", help="where to write (default: reports/class-TIME/)")
    merge.add_argument("--summary-md", help="also append the summary to this Markdown file")
    merge.set_defaults(func=gradebook_command)

    digest = commands.add_parser("digest", help="the digest of the grading tests and grader")
    digest.add_argument("--write", action="store_true", help="publish it (course/grading/DIGEST)")
    digest.add_argument("--check", action="store_true", help="exit 1 unless it is published")
    digest.set_defaults(func=digest_command)

    checkpoints = commands.add_parser("checkpoints", help="regenerate steps/ from the solution")
    checkpoints.add_argument("--check", action="store_true", help="only compare; exit 1 on drift")
    checkpoints.set_defaults(func=checkpoints_command)

    docs = commands.add_parser("docs", help="rewrite the generated sections of docs/ pages")
    docs.add_argument("--check", action="store_true", help="only compare; exit 1 on drift")
    docs.set_defaults(func=docs_command)

    diff = commands.add_parser("diff", help="compare a submission's step files with the reference")
    diff.add_argument("target", nargs="?", default=str(WORKSPACE), help="default: workspace/")
    diff.add_argument("--step", type=int, help="one step (default: every step up to the current)")
    diff.set_defaults(func=diff_command)

    points = commands.add_parser("points", help="sum the tests' points per deliverable")
    points.add_argument("--write", action="store_true", help="update course/course.toml")
    points.set_defaults(func=points_command)

    mutation = commands.add_parser(
        "mutation", help="mutation-test the grading tests with Cosmic Ray; write the table"
    )
    mutation.add_argument("--step", type=int, action="append", help="only this step (repeatable)")
    mutation.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="sessions at a time"
    )
    mutation.add_argument(
        "--report-only", action="store_true", help="write the table from the last results"
    )
    mutation.set_defaults(func=mutation_command)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
