"""Grading tests of step 5 (a package, so that file names may repeat across steps)."""
