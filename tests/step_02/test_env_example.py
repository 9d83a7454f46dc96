"""Step 2, D4: `.env.example` documents every setting and is a valid configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from course.grading.fixtures import Project
from tests.step_02.conftest import SETTING_GROUPS

# `NAME=value`, possibly commented out (`# NAME=value`) to show an optional setting.
ASSIGNMENT = re.compile(r"^\s*(?:#\s*)?(?:export\s+)?([A-Z][A-Z0-9_]*)\s*=", re.MULTILINE)


def named_settings(project: Project) -> set[str]:
    return set(ASSIGNMENT.findall(project.read(".env.example")))


@pytest.mark.grade("D4", 2)
def test_env_example_names_every_setting(project: Project) -> None:
    named = named_settings(project)
    missing = {
        group: [n for n in names if n not in named] for group, names in SETTING_GROUPS.items()
    }
    missing = {group: names for group, names in missing.items() if names}
    assert not missing, (
        f"expected .env.example to show every setting (NAME=value), missing: {missing}"
    )


@pytest.mark.grade("D4", 2)
def test_env_example_loads_cleanly_into_settings(project: Project, clean_env: Path) -> None:
    from pydantic import ValidationError

    from app.core.config import Settings

    if not project.exists(".env.example"):
        pytest.fail("expected the file .env.example, but the project has none")
    try:
        settings = Settings(_env_file=project.path(".env.example"))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
        pytest.fail(f"expected .env.example to load into Settings, found errors: {problems}")
    lists = [
        name
        for name in ("CORS_ORIGINS", "CORS_ALLOW_METHODS", "CORS_ALLOW_HEADERS")
        if not isinstance(getattr(settings, name, None), list)
    ]
    assert not lists, f"expected {lists} from .env.example to load as lists, found other types"
