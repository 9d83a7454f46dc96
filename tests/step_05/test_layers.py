"""Step 5, the dependency rule for repositories: they import no service and no api."""

import pytest

from course.grading.fixtures import Project
from course.grading.imports import DEPENDENCY_RULE, layer_problem


@pytest.mark.grade("layers-repository", 1)
@pytest.mark.parametrize("forbidden", DEPENDENCY_RULE["app.repository"])
def test_repository_imports_no_outer_layer(project: Project, forbidden: str) -> None:
    problem = layer_problem(project.root, "app.repository", forbidden)
    assert problem is None, problem
