"""`nox -s next`: a workspace moves from step N to step N+1 and keeps the learner's code.

- a learner who finished step N exactly as the reference did lands on checkpoint N+1;
- a learner who wrote every line of step N differently gets every new file and
  TODO of step N+1 merged in without a conflict, and keeps every line they wrote;
- an edit where step N+1 changes the same lines gives conflict markers, a backup,
  and a grade that names the conflict;
- on an incomplete step it refuses and says what is left; --force moves on.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from course.__main__ import main
from course.advance import Action, WorkspaceState, apply, plan
from course.checkpoints import GUIDE, Recipe, Stage, build, tree_files
from course.grading.report import build_report, print_scoreboard
from course.grading.runner import grade
from course.manifest import load_manifest

MANIFEST = load_manifest()
MOVES = [step.number for step in MANIFEST.steps][:-1]
MINE = b"  # mine"
TODO_LINE = re.compile(rb"^.*TODO\(step \d+\).*$", re.MULTILINE)


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Stage]:
    return build(MANIFEST, tmp_path_factory.mktemp("stages"))


def copy_files(files: dict[str, bytes], root: Path) -> Path:
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


def rewritten_by_a_learner(start: dict[str, bytes], end: dict[str, bytes]) -> dict[str, bytes]:
    """`end` with every line the step wrote (not in its checkpoint `start`) written differently."""
    learner = {}
    for name, content in end.items():
        lines = content.splitlines(keepends=True)
        before = start.get(name, b"").splitlines(keepends=True)
        matcher = difflib.SequenceMatcher(a=before, b=lines, autojunk=False)
        written = {
            index
            for tag, _, _, j1, j2 in matcher.get_opcodes()
            if tag != "equal"
            for index in range(j1, j2)
        }
        learner[name] = b"".join(
            line.rstrip(b"\n") + MINE + b"\n" if i in written and line.strip() else line
            for i, line in enumerate(lines)
        )
    return learner


def workspace_at_end_of(
    number: int, stages: dict[int, Stage], root: Path, *, rewrite: bool
) -> Path:
    start = tree_files(stages[number].checkpoint)
    end = tree_files(stages[number].end)
    files = rewritten_by_a_learner(start, end) if rewrite else end
    copy_files({**files, GUIDE: start[GUIDE]}, root)
    WorkspaceState(number).write(root)
    return root


@pytest.mark.parametrize("number", MOVES)
def test_the_reference_end_of_a_step_moves_onto_the_next_checkpoint(
    number: int, stages: dict[int, Stage], tmp_path: Path
) -> None:
    workspace = workspace_at_end_of(number, stages, tmp_path / "ws", rewrite=False)
    changes = plan(workspace, stages[number].end, stages[number + 1].checkpoint, "next")
    assert not [c for c in changes if c.action in (Action.CONFLICT, Action.MERGE, Action.KEEP)]
    apply(workspace, changes)
    moved = tree_files(workspace)
    moved.pop(".checkpoint.toml")
    assert moved == tree_files(stages[number + 1].checkpoint)


@pytest.mark.parametrize("number", MOVES)
def test_a_learner_who_wrote_every_line_differently_merges_without_conflict(
    number: int, stages: dict[int, Stage], tmp_path: Path
) -> None:
    workspace = workspace_at_end_of(number, stages, tmp_path / "ws", rewrite=True)
    before = tree_files(workspace)
    changes = plan(workspace, stages[number].end, stages[number + 1].checkpoint, "next")
    conflicts = [
        f"{c.path} (lines {c.conflict_lines})" for c in changes if c.action is Action.CONFLICT
    ]
    assert not conflicts, (
        f"step {number + 1}'s scaffolding touches lines a learner writes in step {number} or "
        f"before: move its TODOs beside the learner's code (course/checkpoints/): {conflicts}"
    )
    apply(workspace, changes)
    after = tree_files(workspace)
    checkpoint = tree_files(stages[number + 1].checkpoint)
    assert after.keys() - {".checkpoint.toml"} == checkpoint.keys(), (
        "next and start must give the same files"
    )
    for name, content in before.items():
        mine = [line for line in content.splitlines() if line.endswith(MINE)]
        kept = Counter(after.get(name, b"").splitlines())
        lost = [line for line in mine if not kept[line]]
        assert not lost, f"{name}: the learner's lines were lost: {lost[:3]}"
    todos = Counter(m for content in after.values() for m in TODO_LINE.findall(content))
    wanted = Counter(m for content in checkpoint.values() for m in TODO_LINE.findall(content))
    assert todos == wanted, "next must bring the same TODOs as the checkpoint"


def test_an_edit_where_the_next_step_changes_the_same_lines_gives_a_conflict(
    stages: dict[int, Stage],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    workspace = workspace_at_end_of(2, stages, tmp_path / "ws", rewrite=False)
    router = workspace / "app/api/v1/health_router.py"
    # Step 3 adds imports on both sides of this line: the learner changed it too.
    mine = "from app.core.config import settings  # one place for configuration\n"
    router.write_text(router.read_text().replace("from app.core.config import settings\n", mine))
    assert main(["next", str(workspace), "--force"]) == 0
    out = capsys.readouterr().out
    assert "CONFLICT" in out and "app/api/v1/health_router.py" in out
    assert "need you" in out and "<<<<<<< your code" in out
    merged = router.read_text()
    assert "<<<<<<< your code\n" in merged and ">>>>>>> step 3\n" in merged and mine in merged
    [backup] = tmp_path.glob("ws.backup-*")
    assert mine in (backup / "app/api/v1/health_router.py").read_text()
    assert WorkspaceState.read(workspace) == WorkspaceState(3)

    run = grade(workspace, MANIFEST, [2], work_dir=tmp_path / "reports")
    report = build_report(run, MANIFEST)
    line = merged.splitlines().index("<<<<<<< your code") + 1
    assert report["conflicts"] == [{"path": "app/api/v1/health_router.py", "line": line}]
    failed = [t for t in run.tests if t.status != "pass"]
    assert failed and all(t.message == report["conflict_message"] for t in failed)
    assert f"app/api/v1/health_router.py (line {line})" in report["conflict_message"]
    console = Console(record=True, width=200)
    print_scoreboard(report, console)
    assert f"{len(failed)} checks could not run: unresolved merge conflict" in console.export_text()


def test_next_refuses_an_incomplete_step_and_says_what_is_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    workspace = tmp_path / "ws"
    assert main(["start", "2", str(workspace)]) == 0
    capsys.readouterr()
    before = tree_files(workspace)
    assert main(["next", str(workspace)]) == 1
    out = capsys.readouterr().out
    assert "Step 2 is not complete yet" in out and "--force" in out
    assert "D3" in out and "read:" in out, "the scoreboard says what is left, with hints"
    assert tree_files(workspace) == before, "a refused move writes nothing"
    assert not list(tmp_path.glob("ws.backup-*"))

    assert main(["next", str(workspace), "--dry-run", "--force"]) == 0
    assert "Dry run" in capsys.readouterr().out
    assert tree_files(workspace) == before

    assert main(["next", str(workspace), "--force"]) == 0
    assert WorkspaceState.read(workspace) == WorkspaceState(3)
    assert (workspace / "app/core/database.py").is_file()
    assert "TODO(step 2)" in (workspace / "app/main.py").read_text(), "unfinished work stays"


def test_a_workspace_without_its_state_file_is_told_how_to_say_its_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace = tmp_path / "ws"
    assert main(["start", "3", str(workspace)]) == 0
    (workspace / ".checkpoint.toml").unlink()
    capsys.readouterr()
    assert main(["next", str(workspace)]) == 2
    assert "nox -s next -- --from 3" in capsys.readouterr().out


@pytest.mark.parametrize("number", MOVES)
def test_the_next_step_never_rewrites_a_file_the_learner_wrote_whole(
    number: int, stages: dict[int, Stage]
) -> None:
    """A file a learner wrote from nothing (or from a starter) has no line in common with
    the reference to anchor a merge: any change to it is a conflict."""
    whole = set()
    for earlier in range(1, number + 1):
        start, end = tree_files(stages[earlier].checkpoint), tree_files(stages[earlier].end)
        whole |= {name for name in end if name not in start}
        whole |= set(Recipe.load(earlier).exercise.starters)
    before, after = tree_files(stages[number].end), tree_files(stages[number + 1].checkpoint)
    rewritten = sorted(
        name for name in whole if before.get(name) and after.get(name, before[name]) != before[name]
    )
    assert not rewritten, (
        f"step {number + 1}'s scaffolding changes files a learner wrote whole in steps 1 to "
        f"{number}; put its TODOs in the step's own files instead: {rewritten}"
    )
