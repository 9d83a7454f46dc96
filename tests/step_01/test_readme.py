"""Step 1: a README that tells a newcomer what the project is and how to run it."""

import re

import pytest

from course.grading.fixtures import Project


@pytest.mark.grade("readme", 1)
def test_readme_has_a_title_and_some_substance(project: Project) -> None:
    text = project.read("README.md")
    assert re.search(r"^#\s+\S", text, re.MULTILINE), "expected README.md to start with a # title"
    assert len(text.split()) >= 30, (
        f"expected README.md to say what the project is and how to run it; it has only "
        f"{len(text.split())} words"
    )


@pytest.mark.grade("readme", 1)
def test_readme_says_how_to_install_and_run(project: Project) -> None:
    text = project.read("README.md").lower()
    assert "install" in text, "expected README.md to say how to install the project"
    assert re.search(r"uvicorn|make (dev|run)|fastapi (dev|run)", text), (
        "expected README.md to show the command that starts the server (e.g. uvicorn app.main:app)"
    )
