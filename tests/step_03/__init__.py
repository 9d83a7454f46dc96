"""Grading tests of step 3 (a package, so that file names may repeat across steps)."""
