"""Grading tests of step 8 (a package, so that file names may repeat across steps)."""
