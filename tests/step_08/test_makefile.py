"""Step 8, D19: the Makefile's targets, and what each one runs (`make -n`, nothing executed).

Only `make help` really runs: it prints. Everything happens in the grader's copy of
the project. Without `make` on the machine, the recipes are read as written.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

TARGETS = [
    "help",
    "install",
    "dev",
    "test",
    "lint",
    "format",
    "migrate-up",
    "migrate-down",
    "migrate-create",
    "migrate-history",
    "seed",
    "docker-up",
    "docker-down",
    "docker-build",
    "clean",
]
# Variables a migrate-create target may want for the message.
MAKE_VARIABLES = [
    "m=grader probe",
    "message=grader probe",
    "msg=grader probe",
    "name=grader probe",
    "MSG=grader probe",
    "M=grader probe",
]
RECIPES = {
    "migrate-up": (r"alembic\s+upgrade\s+head", "alembic upgrade head"),
    "migrate-down": (r"alembic\s+downgrade\s+\S+", "alembic downgrade -1"),
    "migrate-create": (
        r"alembic\s+revision\b.*--autogenerate|alembic\s+revision\b.*\s-m\b",
        "alembic revision --autogenerate -m ...",
    ),
    "migrate-history": (r"alembic\s+history", "alembic history"),
    "seed": (r"scripts[./]seed", "python -m scripts.seed"),
    "test": (r"\bpytest\b", "pytest"),
    "dev": (r"\buvicorn\b[^\n]*app\.main:app|\bfastapi\s+dev\b", "uvicorn app.main:app --reload"),
    "lint": (r"\bruff\b", "ruff check"),
    "docker-up": (r"\bdocker[\s-]compose\b[^\n]*\bup\b", "docker compose ... up"),
    "docker-build": (r"\bdocker\b[^\n]*\bbuild\b", "docker build (or docker compose build)"),
}


def makefile(root: Path) -> str:
    path = root / "Makefile"
    if not path.is_file():
        pytest.fail("expected a Makefile at the project root, found none")
    return path.read_text(encoding="utf-8", errors="replace")


def defined_targets(source: str) -> set[str]:
    targets: set[str] = set()
    for line in source.splitlines():
        match = re.match(r"^([A-Za-z0-9_.%/ -]+?)\s*::?(?!=)", line)
        if match and not line.startswith("\t"):
            targets.update(match.group(1).split())
    return targets


def written_recipe(source: str, target: str) -> str:
    """The recipe lines under `target:` as written (no variable expansion)."""
    lines = source.splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^([A-Za-z0-9_.%/ -]+?)\s*::?(?!=)", line)
        if match and target in match.group(1).split():
            recipe = []
            for following in lines[index + 1 :]:
                if not following.startswith("\t"):
                    break
                recipe.append(following.strip())
            return "\n".join(recipe)
    return ""


def run_make(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    make = shutil.which("make")
    assert make is not None, "expected `make` on the grading machine"
    return subprocess.run(
        [make, "--no-print-directory", "-f", "Makefile", *args, *MAKE_VARIABLES],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def recipe(root: Path, target: str) -> str:
    """What `make -n target` would run (or the recipe as written, without make)."""
    source = makefile(root)
    if target not in defined_targets(source):
        pytest.fail(f"expected a `{target}` target in the Makefile, found none")
    if shutil.which("make") is None:
        return written_recipe(source, target)
    result = run_make(root, "-n", target)
    if result.returncode != 0:
        error = (result.stderr.strip().splitlines() or ["no message"])[-1]
        pytest.fail(f"expected `make -n {target}` to work, found: {error}")
    return result.stdout


@pytest.mark.grade("D19", 2)
def test_makefile_defines_every_target(work_copy: Path) -> None:
    missing = [target for target in TARGETS if target not in defined_targets(makefile(work_copy))]
    assert not missing, f"expected the Makefile to define the targets: {', '.join(missing)}"


@pytest.mark.grade("D19", 1)
def test_make_help_lists_the_targets(work_copy: Path) -> None:
    recipe(work_copy, "help")
    if shutil.which("make") is None:
        return  # the target exists; listing it needs make
    result = run_make(work_copy, "help")
    assert result.returncode == 0, (
        f"expected `make help` to succeed, found: {result.stderr.strip()[-200:]}"
    )
    listed = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", result.stdout)  # without colours
    missing = [t for t in TARGETS if not re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", listed)]
    assert not missing, f"expected `make help` to list every target; it leaves out: {missing}"


@pytest.mark.grade("D19", 1)
@pytest.mark.parametrize("target", list(RECIPES))
def test_make_target_runs_the_right_tool(work_copy: Path, target: str) -> None:
    pattern, example = RECIPES[target]
    commands = recipe(work_copy, target)
    assert re.search(pattern, commands), (
        f"expected `make {target}` to run {example}, found: {commands.strip()[:200] or 'nothing'}"
    )


@pytest.mark.grade("D19", 1)
def test_make_dev_serves_without_the_server_header(work_copy: Path) -> None:
    commands = recipe(work_copy, "dev")
    assert "--no-server-header" in commands.split(), (
        "expected `make dev` to start uvicorn with --no-server-header, as the container does: "
        f"uvicorn otherwise names itself in every response, found: {commands.strip()[:200]}"
    )
