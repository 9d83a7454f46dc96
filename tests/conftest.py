"""Shared by every test under tests/: the grader's plugin, the grading fixtures, a browser."""

pytest_plugins = ["course.grading.plugin", "course.grading.fixtures", "tests.browser"]
