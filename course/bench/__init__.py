"""Benchmarks: the solution under wrk against a bare-FastAPI ceiling, and the grader's speed."""
