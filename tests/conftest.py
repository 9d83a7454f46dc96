"""Shared by every test under tests/: the grader's plugin and the grading fixtures."""

pytest_plugins = ["course.grading.plugin", "course.grading.fixtures"]
