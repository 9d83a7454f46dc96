"""A class's reports (gradebook, summary, dashboard) from graded submissions, and merging them.

A batch writes them once it has graded every submission. `merge` writes them again from
the report folders of several batches, say one per machine of a fan-out: the result is
what one batch of all those submissions writes, because both start from the same
per-submission folders (`outcome.json` beside each submission's reports).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from course.batch import OUTCOME_FILE, Outcome
from course.dashboard import write_pages
from course.gradebook import ClassStats, class_stats, summary_markdown, write_csv
from course.manifest import Manifest

GRADEBOOK, SUMMARY = "gradebook.csv", "summary.md"


class MergeProblem(Exception):
    """Report folders that cannot make one class: nothing graded, or graded differently."""


@dataclass(frozen=True)
class ClassReports:
    """What `write` produced."""

    stats: ClassStats
    gradebook: Path
    summary: str  # the summary's Markdown, also written to `summary_path`
    summary_path: Path
    dashboard: Path


def steps_of(outcomes: Sequence[Outcome]) -> list[int]:
    """The steps every outcome was graded on; MergeProblem if they differ."""
    graded = {tuple(outcome.steps) for outcome in outcomes}
    if len(graded) != 1:
        shown = " and ".join(sorted(", ".join(map(str, steps)) or "none" for steps in graded))
        raise MergeProblem(f"the submissions were graded on different steps ({shown})")
    return list(graded.pop())


def write(outcomes: list[Outcome], manifest: Manifest, out: Path, title: str) -> ClassReports:
    """Write `gradebook.csv`, `summary.md`, `dashboard.html` and the pages into `out`."""
    steps = steps_of(outcomes)
    stats = class_stats(outcomes, manifest, steps)
    write_csv(outcomes, manifest, steps, out / GRADEBOOK)
    summary = summary_markdown(outcomes, manifest, stats, title)
    (out / SUMMARY).write_text(summary, encoding="utf-8")
    dashboard = write_pages(outcomes, manifest, stats, out, title)
    return ClassReports(stats, out / GRADEBOOK, summary, out / SUMMARY, dashboard)


def load(folder: Path) -> list[Outcome]:
    """The outcomes of one batch's report folder, by submission name."""
    outcomes = []
    for out_dir in sorted(p for p in folder.iterdir() if (p / OUTCOME_FILE).is_file()):
        try:
            outcomes.append(Outcome.load(out_dir))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MergeProblem(f"{out_dir / OUTCOME_FILE} cannot be read: {exc}") from exc
    return outcomes


def merge(sources: Sequence[Path], out: Path) -> list[Outcome]:
    """Copy every submission's folder of `sources` into `out`; return their outcomes by name.

    A name found in two sources is a MergeProblem (the same submission graded twice, or
    two that a single batch would have told apart): the gradebook would count it twice.
    """
    found: dict[str, tuple[Path, Outcome]] = {}
    for source in sources:
        if not source.is_dir():
            raise MergeProblem(f"{source} is not a folder of batch reports")
        batch = load(source)
        if not batch:
            raise MergeProblem(f"{source} holds no graded submission ({OUTCOME_FILE} in a folder)")
        for outcome in batch:
            name = outcome.submission.name
            if name in found:
                raise MergeProblem(f"{name} is in both {found[name][0]} and {source}")
            found[name] = source, outcome
    outcomes = [found[name][1] for name in sorted(found)]
    steps_of(outcomes)
    out.mkdir(parents=True, exist_ok=True)
    merged = []
    for outcome in outcomes:
        target = out / outcome.submission.name
        if target.resolve() != outcome.out_dir.resolve():
            if target.exists():
                raise MergeProblem(f"{target} already exists: merge into a new folder")
            shutil.copytree(outcome.out_dir, target)
        merged.append(replace(outcome, out_dir=target))
    return merged
