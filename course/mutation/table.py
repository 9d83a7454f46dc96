"""The mutation results as the site shows them (`docs/reference/mutation-results.md`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from course.manifest import REPO_ROOT, Manifest
from course.mutation.results import GOAL, Mutant, Score, StepResult, Triage, score

# The scores, for everyone; the survivors and the triage quote the solution's code, so
# their page sits in a reference box, withheld from a graded class's site.
PAGE = REPO_ROOT / "docs" / "reference" / "mutation-results.md"
DETAILS = REPO_ROOT / "docs" / "reference" / "mutation-survivors.md"
HEADER = (
    "<!-- Written by `python -m course mutation` (nox -s mutation) from docs/mutation/*.json "
    "and course/mutation-triage.toml; do not edit. -->"
)


def _code(text: str) -> str:
    """`text` as inline code in a table cell."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _row(manifest: Manifest, row: Score, result: StepResult) -> str:
    step = manifest.step(row.step)
    # A step with no Python code of its own to mutate (step 1) has no score to show.
    ratio = f"{row.ratio:.0%}" if row.counted else "—"
    met = ("✔" if row.ratio >= GOAL else "✘") if row.counted else "—"
    return (
        f"| {step.number} · {step.title} | {row.mutants} | {row.killed} | {len(row.survivors)} "
        f"| {row.equivalent} | {row.not_taught} | {row.errors} | {ratio} | {met} "
        f"| {result.date[:10]} |"
    )


def _survivor(mutant: Mutant) -> str:
    return f"| `{mutant.file}:{mutant.line}` | {mutant.operator} | {_code(mutant.code)} |"


def render(manifest: Manifest, results: Sequence[StepResult], triage: Sequence[Triage]) -> str:
    """The scores: a row per step."""
    by_step = {result.step: result for result in results}
    lines = [
        HEADER,
        "",
        "| step | mutants | killed | survived | equivalent | not taught | errors "
        f"| killed of the rest | ≥ {GOAL:.0%} | run |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for step in manifest.steps:
        result = by_step.get(step.number)
        if result is None:
            lines.append(f"| {step.number} · {step.title} | not run yet | | | | | | | | |")
            continue
        lines.append(_row(manifest, score(result, triage), result))
    tools = sorted({result.tool for result in results})
    lines += ["", f"Mutants made by {', '.join(tools) or 'Cosmic Ray'}, each graded by its "
              "steps' checks on SQLite and, if it passes there, on PostgreSQL; skipped (not "
              "counted): changes inside type annotations."]  # fmt: skip
    return "\n".join(lines) + "\n"


def render_details(results: Sequence[StepResult], triage: Sequence[Triage]) -> str:
    """The survivors left to triage, then the triaged ones with their reasons."""
    left = [mutant for result in results for mutant in score(result, triage).survivors]
    lines = [HEADER, "", "**Survivors to triage**", ""]
    if left:
        lines += ["| where | operator | line |", "|---|---|---|"]
        lines += [_survivor(mutant) for mutant in left]
    else:
        lines.append("None: a check kills every mutant that is not explained below.")
    lines += ["", "**Triaged survivors**", ""]
    if triage:
        lines += ["| file | line | operator | verdict | why |", "|---|---|---|---|---|"]
        lines += [
            f"| `{t.file}` | {_code(t.code)} | {t.operator} | {t.verdict.value} | {t.reason} |"
            for t in triage
        ]
    else:
        lines.append("None yet.")
    return "\n".join(lines) + "\n"


def write(text: str, path: Path = PAGE) -> Path:
    """Write a page; return its path."""
    path.write_text(text, encoding="utf-8")
    return path
