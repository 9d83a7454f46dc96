"""The workshop's own tooling: the course manifest and the grader."""
