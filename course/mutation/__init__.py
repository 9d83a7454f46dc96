"""Mutation testing of the grading tests, with Cosmic Ray.

Cosmic Ray changes one thing at a time in a copy of the solution (a `<` to `<=`, a
`True` to `False`, a decorator removed, ...) and runs a test command on each change:
here, the grader on the steps that own the changed file. A change the grader does not
notice is a survivor, a blind spot of the grading tests, unless it is triaged as
equivalent (the code means the same) or as not something the course teaches.
`python -m course mutation [--step N]` (`nox -s mutation`) runs it and writes the
table on the site.
"""
