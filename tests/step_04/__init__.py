"""Grading tests of step 4 (a package, so that file names may repeat across steps)."""
