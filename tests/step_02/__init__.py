"""Grading tests of step 2 (a package, so that file names may repeat across steps)."""
