"""Show a reviewer a submission's files for one step beside the reference.

The reference for step N is the project right after step N: checkpoint N+1, or
the solution for the last step. Output: a unified diff in the terminal and a
side-by-side HTML page.
"""

from __future__ import annotations

import difflib
import html
from dataclasses import dataclass
from pathlib import Path

from course.checkpoints import SOLUTION, STEPS
from course.manifest import Manifest, Step


@dataclass(frozen=True)
class FileDiff:
    """One file of a step, in the submission and in the reference."""

    path: str
    submitted: list[str] | None  # None: the submission lacks the file
    reference: list[str] | None

    @property
    def same(self) -> bool:
        """Whether the submission matches the reference exactly."""
        return self.submitted == self.reference


def reference_for(step: Step, manifest: Manifest) -> Path:
    """The project right after `step`: the next checkpoint, or the solution after the last."""
    if step.number == len(manifest.steps):
        return SOLUTION
    return STEPS / manifest.step(step.number + 1).slug


def _read(path: Path) -> list[str] | None:
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)


def step_files(step: Step, *roots: Path) -> list[str]:
    """The files of `step` present in any of `roots` (patterns expanded)."""
    found = {
        path.relative_to(root).as_posix()
        for root in roots
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    return sorted(name for name in found if step.declares(name))


def diff_step(target: Path, step: Step, manifest: Manifest) -> list[FileDiff]:
    """Every file of `step`, submitted and reference."""
    reference = reference_for(step, manifest)
    return [
        FileDiff(name, _read(target / name), _read(reference / name))
        for name in step_files(step, target, reference)
    ]


def unified(diffs: list[FileDiff], target_label: str) -> str:
    """A unified diff (reference -> submission) of the files that differ."""
    chunks = []
    for item in diffs:
        if item.same:
            continue
        chunks.extend(
            difflib.unified_diff(
                item.reference or [], item.submitted or [],
                fromfile=f"reference/{item.path}", tofile=f"{target_label}/{item.path}",
            )
        )  # fmt: skip
    return "".join(chunks)


def html_page(sections: list[tuple[Step, list[FileDiff]]], target_label: str) -> str:
    """A self-contained side-by-side comparison page."""
    maker = difflib.HtmlDiff(tabsize=4, wrapcolumn=90)
    body = []
    for step, diffs in sections:
        body.append(f"<h2>Step {step.number}: {html.escape(step.title)}</h2>")
        for item in diffs:
            state = "identical" if item.same else (
                "missing in the submission" if item.submitted is None else "differs"
            )  # fmt: skip
            body.append(f"<h3><code>{html.escape(item.path)}</code> — {state}</h3>")
            if not item.same:
                body.append(
                    maker.make_table(
                        item.reference or [], item.submitted or [],
                        "reference", html.escape(target_label), context=True, numlines=3,
                    )
                )  # fmt: skip
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Review: {html.escape(target_label)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
table.diff {{ font-family: ui-monospace, monospace; font-size: 13px; border-collapse: collapse; }}
.diff_header {{ background: #eee; }} td.diff_header {{ text-align: right; padding: 0 .4rem; }}
.diff_next {{ background: #ddd; }} .diff_add {{ background: #d7f5d7; }}
.diff_chg {{ background: #fff2b3; }} .diff_sub {{ background: #f9d0d0; }}
</style></head><body>
<h1>Review of {html.escape(target_label)}</h1>
<p>Left: the reference (the project right after each step). Right: the submission.</p>
{"".join(body)}
</body></html>
"""
