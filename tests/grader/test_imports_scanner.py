"""The grader's import scanner (course/grading/imports.py) sees every way a module imports."""

from __future__ import annotations

from pathlib import Path

from course.grading.imports import imported_modules, layer_problem

SOURCE = """
import app.api.deps
from app import service
from ..repository.base import BaseRepository
from . import user
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from app.api.v1 import router

def later():
    import importlib
    from app.middleware.logging import RequestLoggingMiddleware
    return importlib.import_module("app.service.user_service")
"""


def test_scanner_sees_absolute_relative_nested_and_dynamic_imports() -> None:
    found = imported_modules(SOURCE, "app.domain.models.base")
    assert {
        "app.api.deps",
        "app.service",
        "app.domain.repository.base",
        "app.domain.models.user",
        "app.api.v1.router",
        "app.middleware.logging",
        "app.service.user_service",
    } <= found


def test_scanner_resolves_relative_imports_of_a_package() -> None:
    assert "app.api" in imported_modules("from .. import api", "app.domain", is_package=True)
    assert "app.service.x" in imported_modules("from ..service import x", "app.repository.user")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_layer_problem_names_the_file_line_and_import(tmp_path: Path) -> None:
    write(tmp_path, {
        "app/__init__.py": "",
        "app/repository/__init__.py": "",
        "app/repository/user_repository.py": "import os\nfrom ..service.user_service import X\n",
    })  # fmt: skip
    problem = layer_problem(tmp_path, "app.repository", ("app.service", "app.api"))
    assert problem is not None
    assert "app/repository/user_repository.py line 2 imports app.service.user_service" in problem
    assert layer_problem(tmp_path, "app.repository", "app.api") is None


def test_layer_problem_reports_a_missing_layer_and_unreadable_files(tmp_path: Path) -> None:
    assert "no Python file" in str(layer_problem(tmp_path, "app.service", "app.api"))
    write(tmp_path, {"app/service/broken.py": "def (:\n"})
    assert "cannot be read as Python" in str(layer_problem(tmp_path, "app.service", "app.api"))
