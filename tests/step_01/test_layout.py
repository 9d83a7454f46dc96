"""Step 1, D1: the Clean Architecture folder layout."""

import pytest

from course.grading.fixtures import Project

PACKAGES = [
    "app",
    "app/core",
    "app/domain",
    "app/domain/models",
    "app/domain/schemas",
    "app/repository",
    "app/service",
    "app/api",
    "app/api/v1",
    "app/middleware",
    "app/utils",
]
FOLDERS = ["alembic", "tests/unit", "tests/integration", "docker", "scripts"]


@pytest.mark.grade("D1", 1)
@pytest.mark.parametrize("package", PACKAGES)
def test_layer_package_exists_with_init(project: Project, package: str) -> None:
    assert project.path(package).is_dir(), f"expected the folder {package}/, found none"
    assert project.exists(f"{package}/__init__.py"), (
        f"expected {package}/__init__.py so that {package.replace('/', '.')} is a package, "
        "found none"
    )
