"""Step 1, D21: .gitignore keeps secrets, environments and caches out of git.

Checked with git's own matching (`git check-ignore`), so negations, folders and
globs count exactly as git reads them.
"""

import shutil
import subprocess

import pytest

from course.grading.fixtures import Project

IGNORED = [
    ".env", ".env.local", ".env.production", ".venv/bin/python", "venv/lib/x.py",
    "app/__pycache__/main.cpython-311.pyc", "app/core/config.pyc", ".pytest_cache/v/x",
    ".mypy_cache/x.json", "htmlcov/index.html", ".coverage", "uploads/avatar.png",
    "docker-compose.override.yml", ".DS_Store", "dist/app-1.0.tar.gz", "build/lib/x.py",
    "app.egg-info/PKG-INFO", ".idea/workspace.xml", ".vscode/settings.json",
]  # fmt: skip
KEPT = [
    ".env.example", "app/main.py", "app/core/config.py", "alembic/versions/0001_users.py",
    "pyproject.toml", "README.md", "docker/Dockerfile", "tests/unit/test_x.py",
]  # fmt: skip


@pytest.fixture(scope="module")
def ignored(project: Project, tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Which of IGNORED + KEPT the learner's .gitignore ignores, as git decides."""
    if shutil.which("git") is None:
        pytest.fail("git is needed to check .gitignore; install git")
    if not project.exists(".gitignore"):
        pytest.fail("expected a .gitignore at the project root, found none")
    repo = tmp_path_factory.mktemp("gitignore")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    shutil.copy(project.path(".gitignore"), repo / ".gitignore")
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=repo, input="\n".join(IGNORED + KEPT), capture_output=True, text=True,
    )  # fmt: skip
    return set(result.stdout.split())


@pytest.mark.grade("D21", 1)
def test_gitignore_exists(project: Project) -> None:
    assert project.exists(".gitignore"), "expected a .gitignore at the project root, found none"


@pytest.mark.grade("D21", 1)
@pytest.mark.parametrize("path", IGNORED)
def test_gitignore_ignores(ignored: set[str], path: str) -> None:
    assert path in ignored, f"expected .gitignore to ignore {path}, but git would commit it"


@pytest.mark.grade("D21", 1)
@pytest.mark.parametrize("path", KEPT)
def test_gitignore_keeps(ignored: set[str], path: str) -> None:
    assert path not in ignored, f"expected git to keep {path}, but .gitignore ignores it"
