"""The whole course in one workspace: a learner's own code from step 1 to step 8.

`tests/journey/learner/step_NN/` holds what an independent learner wrote in step N:
the complete files of that step, in their own words (other names, other order,
other constructs than the reference). The journey starts the workspace with
`start 1`, writes step 1, and from then on moves only with `next`. After each
step it is graded: full marks on every step so far. After each `next` every line
the learner wrote is still there.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from course.__main__ import main
from course.advance import WorkspaceState
from course.checkpoints import SOLUTION, tree_files
from course.checkpoints import STEPS as STEPS_DIR
from course.grading.report import build_report
from course.grading.runner import grade
from course.manifest import load_manifest

MANIFEST = load_manifest()
LEARNER = Path(__file__).parents[1] / "journey" / "learner"
STEPS = [step.number for step in MANIFEST.steps]


def learner_files(number: int) -> dict[str, bytes]:
    """What the learner wrote in step `number`: complete files by project path."""
    return tree_files(LEARNER / f"step_{number:02d}")


def own_lines(content: bytes, given: bytes) -> Counter[bytes]:
    """The lines of a learner's file that its checkpoint did not give them."""
    return Counter(content.splitlines()) - Counter(given.splitlines())


def test_a_learner_keeps_their_own_code_from_step_1_to_step_8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line of output
    workspace = tmp_path / "workspace"
    assert main(["start", "1", str(workspace)]) == 0
    written: dict[str, Counter[bytes]] = {}  # the learner's own lines, per file
    latest: dict[str, bytes] = {}  # the latest content the learner wrote, per file
    actions: Counter[str] = Counter()
    for number in STEPS:
        if number > 1:
            assert main(["next", str(workspace)]) == 0, capsys.readouterr().out[-3000:]
            out = capsys.readouterr().out
            actions.update(
                word
                for line in out.splitlines()
                for word in ("merged in", "CONFLICT")
                if word in line
            )
            assert WorkspaceState.read(workspace) == WorkspaceState(number)
            moved = tree_files(workspace)
            for name, mine in written.items():
                # An empty placeholder (alembic/.gitkeep) makes way for the step's real files.
                placeholder = not latest[name]
                assert name in moved or placeholder, (
                    f"step {number}: next lost the learner's {name}"
                )
                lost = mine - Counter(moved.get(name, b"").splitlines())
                assert not lost, f"step {number}: next lost lines of {name}: {list(lost)[:3]}"
        checkpoint_files = tree_files(workspace)
        for name, content in learner_files(number).items():
            path = workspace / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            mine = own_lines(content, checkpoint_files.get(name, b""))
            latest[name] = content
            written[name] = mine + written.get(name, Counter()) & Counter(content.splitlines())
        run = grade(workspace, MANIFEST, list(range(1, number + 1)), work_dir=tmp_path / "reports")
        report = build_report(run, MANIFEST)
        missing = [f"step {t.step} {t.name}: {t.message}" for t in run.tests if t.status != "pass"]
        assert run.error is None and not missing, (
            f"after step {number}, the learner's own code must earn full marks:\n"
            + "\n".join(missing[:10])
        )
        assert report["points"] == report["max_points"]
    with capsys.disabled():
        print(f"\njourney: {dict(actions)} file merges reported by next")


def _bodies(tree: ast.Module) -> dict[str, str]:
    """Every function's body (docstring left out) by qualified name, as an AST dump."""
    found: dict[str, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                body = child.body
                if (
                    body
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                ):
                    body = body[1:]
                found[prefix + child.name] = "\n".join(ast.dump(statement) for statement in body)
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")

    visit(tree, "")
    return found


def test_the_learner_wrote_their_own_code_not_the_reference() -> None:
    copied = []
    for step in MANIFEST.steps:
        for name, content in learner_files(step.number).items():
            reference, given = SOLUTION / name, STEPS_DIR / step.slug / name
            if not name.endswith(".py") or not reference.is_file():
                continue
            theirs = _bodies(ast.parse(reference.read_text(encoding="utf-8")))
            # Code the checkpoint hands out as it is (an __init__ storing its argument) is
            # the learner's only if they chose to rewrite it.
            handed_out = (
                _bodies(ast.parse(given.read_text(encoding="utf-8"))) if given.is_file() else {}
            )
            for function, body in _bodies(ast.parse(content)).items():
                if handed_out.get(function) == theirs.get(function):
                    continue
                if theirs.get(function) == body and "\n" in body:
                    copied.append(f"step {step.number} {name}: {function}")
    assert not copied, "the journey's learner must not copy the reference:\n" + "\n".join(copied)
