"""Step 4, the dependency rule for the domain: models and schemas import no outer layer."""

import pytest

from course.grading.fixtures import Project
from course.grading.imports import DEPENDENCY_RULE, layer_problem


@pytest.mark.grade("layers-domain", 1)
@pytest.mark.parametrize("forbidden", DEPENDENCY_RULE["app.domain"])
def test_domain_imports_no_outer_layer(project: Project, forbidden: str) -> None:
    problem = layer_problem(project.root, "app.domain", forbidden)
    assert problem is None, problem
