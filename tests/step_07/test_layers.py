"""Step 7, the dependency rule over the whole app, and app.core shared by every layer.

The learner's pyproject.toml may have no import-linter contracts: the grader reads
the imports of every module itself (relative imports and TYPE_CHECKING blocks too).
"""

import pytest

from course.grading.fixtures import Project
from course.grading.imports import CORE_FORBIDDEN, CORE_REASON, DEPENDENCY_RULE, layer_problem


@pytest.mark.grade("layers-api", 1)
@pytest.mark.parametrize("layer", list(DEPENDENCY_RULE))
def test_app_keeps_the_dependency_rule(project: Project, layer: str) -> None:
    problem = layer_problem(project.root, layer, DEPENDENCY_RULE[layer])
    assert problem is None, problem


@pytest.mark.grade("layers-api", 1)
def test_core_imports_no_layer(project: Project) -> None:
    problem = layer_problem(project.root, "app.core", CORE_FORBIDDEN, CORE_REASON)
    assert problem is None, problem
