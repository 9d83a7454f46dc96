"""Step 6, the dependency rule for services: they import nothing from the api."""

import pytest

from course.grading.fixtures import Project
from course.grading.imports import layer_problem


@pytest.mark.grade("layers-service", 2)
def test_service_imports_nothing_from_the_api(project: Project) -> None:
    problem = layer_problem(project.root, "app.service", "app.api")
    assert problem is None, problem
