"""Grading tests of step 7 (a package, so that file names may repeat across steps)."""
