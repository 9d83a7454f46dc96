"""Grading tests of step 6 (a package, so that file names may repeat across steps)."""
