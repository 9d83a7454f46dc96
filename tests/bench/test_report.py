"""The benchmark's table compares each figure with the right ceiling run."""

from __future__ import annotations

from course.bench.grader_speed import GraderSpeed
from course.bench.report import goals, markdown, table_rows
from course.bench.scenarios import Row

CEILING = [
    Row("health", "ceiling", 32, 10_000.0, 3.0, 6.0, 0, 0, 40.0),
    Row("health p99, 1 client", "ceiling", 1, 2_000.0, 0.4, 1.0, 0, 0, 40.0),
]


def row(name: str, connections: int, rps: float, p99: float) -> Row:
    return Row(name, "solution", connections, rps, p99 / 2, p99, 0, 0, 80.0)


def ratios(rows: list[Row], name: str) -> dict[str, str]:
    line = next(line for line in table_rows(rows) if line[0] == name)
    return {"rps": line[3], "p99": line[7]}


def test_throughput_rows_compare_with_the_32_connection_ceiling() -> None:
    rows = [*CEILING, row("health", 32, 6_000.0, 12.0), row("current user", 32, 2_500.0, 18.0)]
    assert ratios(rows, "health") == {"rps": "0.60", "p99": "2.00"}
    assert ratios(rows, "current user") == {"rps": "0.25", "p99": "3.00"}


def test_single_client_probes_compare_with_the_single_client_ceiling() -> None:
    rows = [
        *CEILING,
        row("health p99, 1 client", 1, 1_000.0, 2.0),
        row("health p99, 1 client + 4 logging in", 1, 500.0, 5.0),
    ]
    assert ratios(rows, "health p99, 1 client") == {"rps": "0.50", "p99": "2.00"}
    assert ratios(rows, "health p99, 1 client + 4 logging in") == {"rps": "0.25", "p99": "5.00"}


def test_the_latency_goal_compares_the_loaded_probe_with_the_probe_alone() -> None:
    rows = [
        *CEILING,
        row("health p99, 1 client", 1, 1_000.0, 2.0),
        row("health p99, 1 client + 4 logging in", 1, 500.0, 5.0),
    ]
    [goal] = [g for g in goals(rows, 0.0, "postgresql", None) if "log in" in g.name]
    assert (goal.met, goal.measured) == (True, "2.00 → 5.00 ms (2.5 x)")
    assert "health p99, 1 client + 4 logging in" in markdown("t", {}, rows, [goal], None)


def test_throughput_goals_scale_the_templates_figures_by_this_runs_ceiling() -> None:
    # The peers' ceiling was 9,300 req/s; this run's is 10,000, so the template's 740 req/s
    # for the current user becomes 796, and the goal (twice that) 1,591.
    rows = [*CEILING, row("current user", 32, 1_600.0, 20.0), row("list 20 users", 32, 600.0, 50.0)]
    met = {g.name: g.met for g in goals(rows, 0.0, "postgresql", None)}
    assert met["current user"] is True
    assert met["list 20 users"] is False  # the goal is 2 x 320 x 10,000 / 9,300 = 688


def test_the_grader_table_gives_each_run_its_ratio_to_the_floor() -> None:
    grader = GraderSpeed(
        floor_s=1.0, all_steps_s=15.0, slowest_step=7, slowest_step_s=7.5,
        step_test_seconds={7: 6.0}, points="418/418", batch_copies=4, batch_s=48.0,
        batch_per_minute=5.0,
    )  # fmt: skip
    text = markdown("t", {}, [], [], grader)
    assert "| all steps warm (418/418) | 15.0 | 15.00 |" in text
    assert "| step 7 alone (the slowest) | 7.5 | 7.50 |" in text
    assert "| batch of 4 solutions | 48.0 | 5.00 submissions/min |" in text
