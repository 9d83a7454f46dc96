"""Every notebook is stored clean and runs without error against the solution (nbclient)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from course.manifest import REPO_ROOT, Step, load_manifest
from course.notebooks import execute, notebook_paths

pytest.importorskip("nbclient", reason="the notebook tools are not installed (group notebooks)")
pytest.importorskip("ipykernel", reason="ipykernel is not installed (group notebooks)")

MANIFEST = load_manifest()


@pytest.mark.parametrize("step", MANIFEST.steps, ids=lambda s: s.slug)
def test_every_step_has_its_notebook(step: Step) -> None:
    assert (REPO_ROOT / "notebooks" / f"{step.slug}.ipynb").is_file()


def test_notebooks_match_their_generator_and_have_no_outputs() -> None:
    result = subprocess.run(
        [sys.executable, "notebooks/generate.py", "--check"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for path in notebook_paths():
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            assert not cell.get("outputs"), f"{path.name} is stored with outputs"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.stem)
def test_notebook_runs_against_the_solution(path: Path) -> None:
    solution = REPO_ROOT / "solution"
    before = sorted(p.name for p in solution.iterdir())
    execute(path, timeout=120)
    assert sorted(p.name for p in solution.iterdir()) == before, "a notebook wrote into solution/"
