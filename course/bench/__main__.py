"""`python -m course.bench [--sqlite] [--quick] [--no-grader] [grader]` (what `nox -s bench` runs).

Default: the solution on PostgreSQL (a throwaway database on the server TEST_POSTGRES_URL
names, else a throwaway local cluster) against the bare-FastAPI ceiling, then the
grader's speed. `--sqlite` uses the embedded default instead; `--quick` shortens every
run for a smoke test; `grader` measures only the grader.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from course.bench import load, report
from course.bench.grader_speed import GraderSpeed, measure
from course.bench.scenarios import CONNECTIONS, SOLUTION, Bench
from course.manifest import REPO_ROOT

OUT_DIR = REPO_ROOT / "reports" / "bench"
FULL_SECONDS, QUICK_SECONDS = 10.0, 2.0


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """A URL of an empty database for the run, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        return
    from course.databases import throwaway_database

    server = os.environ.get("TEST_POSTGRES_URL")
    if server:
        with throwaway_database(server, prefix="bench") as url:
            yield url
        return
    from course.pgcluster import throwaway_cluster

    with throwaway_cluster() as cluster:
        yield cluster.url


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when it ran (missed goals are findings, not failures)."""
    parser = argparse.ArgumentParser(prog="nox -s bench --", description=__doc__)
    parser.add_argument("what", nargs="?", choices=["all", "grader"], default="all")
    parser.add_argument("--sqlite", action="store_true", help="the embedded SQLite default")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS:g} s runs")
    parser.add_argument("--no-grader", action="store_true", help="skip the grader's speed")
    args = parser.parse_args(argv)
    console = Console()
    backend = "sqlite" if args.sqlite else "postgresql"
    seconds = QUICK_SECONDS if args.quick else FULL_SECONDS
    measure_http = args.what == "all"
    if measure_http and not load.wrk_available():
        console.print(f"[yellow]{load.INSTALL_HINT}[/]; nothing measured.")
        return 0
    bench: Bench | None = None
    grader: GraderSpeed | None = None
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        if measure_http:
            bench = Bench(seconds, workdir)
            console.print(f"Ceiling: bare FastAPI /ping ({seconds:g} s per run)")
            bench.ceiling()
            console.print(f"Solution on {backend}")
            with database(backend, workdir) as url:
                bench.solution(url)
    if args.what == "grader" or not (args.no_grader or args.quick):
        console.print("Grader: grading solution/ (a warm-up, all steps, the slowest step, a batch)")
        grader = measure(SOLUTION)
    rows = bench.rows if bench else []
    peak = bench.peak_login_rss_mb if bench else 0.0
    goal_list = report.goals(rows, peak, backend, grader)
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": backend if measure_http else "-",
        "wrk": f"-t1 -c{CONNECTIONS} -d{seconds:g}s (latency probes -c1)",
        "server": "uvicorn, 1 worker, --no-access-log, pinned to core 0; wrk on core 1",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        "peak RSS under 32 concurrent logins (MB)": peak,
    }
    title = "Benchmark: the solution against a bare FastAPI ceiling"
    report.print_report(console, f"{title} ({backend})", rows, goal_list, grader)
    stem = "grader" if not measure_http else f"bench-{backend}{'-quick' if args.quick else ''}"
    for path in report.write(OUT_DIR, stem, title, meta, rows, goal_list, grader, peak):
        console.print(f"Wrote {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
