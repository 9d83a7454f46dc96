"""The benchmark's one table, its goals, and the JSON and Markdown files."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from course.bench.grader_speed import GraderSpeed
from course.bench.scenarios import CONNECTIONS, LOGIN_CLIENTS, Row

COLUMNS = (
    "endpoint",
    "conns",
    "req/s",
    "x ceil",
    "p50 ms",
    "x ceil",
    "p99 ms",
    "x ceil",
    "non-2xx",
    "RSS MB",
    "x ceil",
)


# The peers' measurements (the issue's table): the bare-FastAPI ceiling and the
# fastapi/full-stack-fastapi-template backend on PostgreSQL, in req/s.
PEER_CEILING_RPS = 9300
TEMPLATE_RPS = {"current user": 740, "list 20 users": 320}


@dataclass
class Goal:
    """One goal from the issue, and whether this run met it."""

    name: str
    target: str
    measured: str
    met: bool


def _ratio(value: float, ceiling: float | None) -> str:
    return f"{value / ceiling:.2f}" if ceiling else "-"


def table_rows(rows: list[Row]) -> list[list[str]]:
    """Every row as text, each figure next to its ratio to the ceiling's same figure."""
    ceiling = {(r.name, r.connections): r for r in rows if r.target == "ceiling"}
    # A row without a ceiling of its own name compares with the ceiling run at the same
    # number of connections (latency probes: 1 client), else with the 32-connection one.
    by_connections = {r.connections: r for r in ceiling.values()}
    out = []
    for row in rows:
        base = (
            ceiling.get((row.name, row.connections))
            or by_connections.get(row.connections)
            or ceiling.get(("health", CONNECTIONS))
        )
        same = row.target == "ceiling"
        out.append(
            [
                f"{'/ping (ceiling) ' if same else ''}{row.name}",
                str(row.connections),
                f"{row.rps:,.1f}",
                "1" if same else _ratio(row.rps, base and base.rps),
                f"{row.p50_ms:.2f}",
                "1" if same else _ratio(row.p50_ms, base and base.p50_ms),
                f"{row.p99_ms:.2f}",
                "1" if same else _ratio(row.p99_ms, base and base.p99_ms),
                str(row.non_2xx + row.socket_errors),
                f"{row.rss_mb:.0f}",
                "1" if same else _ratio(row.rss_mb, base and base.rss_mb),
            ]
        )
    return out


def grader_rows(grader: GraderSpeed) -> list[tuple[str, str, str]]:
    """The grader's runs as (run, wall s, ratio to the floor), for both tables."""
    return [
        ("floor: pytest collecting an empty file", f"{grader.floor_s:.2f}", "1"),
        (
            f"all steps warm ({grader.points})",
            f"{grader.all_steps_s:.1f}",
            _ratio(grader.all_steps_s, grader.floor_s),
        ),
        (
            f"step {grader.slowest_step} alone (the slowest)",
            f"{grader.slowest_step_s:.1f}",
            _ratio(grader.slowest_step_s, grader.floor_s),
        ),
        (
            f"batch of {grader.batch_copies} solutions",
            f"{grader.batch_s:.1f}",
            f"{grader.batch_per_minute:.2f} submissions/min",
        ),
    ]


def goals(
    rows: list[Row], peak_login_rss: float, backend: str, grader: GraderSpeed | None
) -> list[Goal]:
    """The issue's goals against this run."""
    by = {(r.target, r.name): r for r in rows}
    result: list[Goal] = []
    ceiling = by.get(("ceiling", "health"))
    health = by.get(("solution", "health"))
    if ceiling and health:
        ratio = health.rps / ceiling.rps
        result.append(Goal("health vs ceiling", "≥ 0.6 x ceiling", f"{ratio:.2f} x", ratio >= 0.6))
    for name, peer_rps in TEMPLATE_RPS.items():
        row = by.get(("solution", name))
        if row and ceiling:
            # The peers' figures come from a faster machine: scale them by this run's ceiling.
            floor = 2 * peer_rps / PEER_CEILING_RPS * ceiling.rps
            where = (
                "" if backend == "postgresql" else f" (on {backend}; the goal is for PostgreSQL)"
            )
            result.append(
                Goal(
                    name,
                    f"≥ 2 x the template: {peer_rps} of {PEER_CEILING_RPS:,} req/s at its "
                    f"ceiling, so ≥ {floor:,.0f} req/s at this run's",
                    f"{row.rps:,.0f} req/s ({row.rps / floor * 2:.2f} x the template){where}",
                    row.rps >= floor,
                )
            )
    alone = by.get(("solution", "health p99, 1 client"))
    loaded = by.get(("solution", f"health p99, 1 client + {LOGIN_CLIENTS} logging in"))
    if alone and loaded:
        factor = loaded.p99_ms / alone.p99_ms
        result.append(
            Goal(
                f"health p99 while {LOGIN_CLIENTS} log in",
                "≤ 3 x alone",
                f"{alone.p99_ms:.2f} → {loaded.p99_ms:.2f} ms ({factor:.1f} x)",
                factor <= 3,
            )
        )
    if peak_login_rss:
        result.append(
            Goal(
                "server RSS, 32 concurrent logins",
                "≤ 300 MB",
                f"{peak_login_rss:.0f} MB peak",
                peak_login_rss <= 300,
            )
        )
    if grader:
        result.append(
            Goal(
                "grading solution/ warm",
                "< 5 s",
                f"{grader.all_steps_s:.1f} s (step {grader.slowest_step} alone: "
                f"{grader.slowest_step_s:.1f} s)",
                grader.all_steps_s < 5,
            )
        )
    return result


def print_report(
    console: Console,
    title: str,
    rows: list[Row],
    goal_list: list[Goal],
    grader: GraderSpeed | None = None,
) -> None:
    """The tables and the goals on the terminal."""
    if rows:
        table = Table(title=title)
        for column in COLUMNS:
            table.add_column(column, justify="left" if column == "endpoint" else "right")
        for line in table_rows(rows):
            table.add_row(*line)
        console.print(table)
    if grader:
        table = Table(title="The grader, warm")
        for column in ("run", "wall s", "x floor"):
            table.add_column(column, justify="left" if column == "run" else "right")
        for line in grader_rows(grader):
            table.add_row(*line)
        console.print(table)
    for goal in goal_list:
        mark = "[green]met[/]" if goal.met else "[red]missed[/]"
        console.print(f"{mark}  {goal.name}: {goal.measured} (goal {goal.target})")


def markdown(
    title: str,
    meta: dict[str, Any],
    rows: list[Row],
    goal_list: list[Goal],
    grader: GraderSpeed | None,
) -> str:
    """The same report as Markdown."""
    lines = [f"# {title}", ""]
    lines += [f"- {key}: {value}" for key, value in meta.items()]
    if rows:
        lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(line) + " |" for line in table_rows(rows)]
    if grader:
        lines += [
            "",
            "| grader | wall s | x floor |",
            "|---|---|---|",
            *("| " + " | ".join(line) + " |" for line in grader_rows(grader)),
            "",
            f"Time in each step's tests (s): {grader.step_test_seconds}",
        ]
    if goal_list:
        lines += ["", "| goal | target | measured | |", "|---|---|---|---|"]
        lines += [
            f"| {g.name} | {g.target} | {g.measured} | {'met' if g.met else 'missed'} |"
            for g in goal_list
        ]
    return "\n".join(lines) + "\n"


def write(
    out_dir: Path,
    stem: str,
    title: str,
    meta: dict[str, Any],
    rows: list[Row],
    goal_list: list[Goal],
    grader: GraderSpeed | None,
    peak_login_rss: float,
) -> list[Path]:
    """Write `<stem>.json` and `<stem>.md` under `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = {
        "meta": meta,
        "rows": [row.as_dict() for row in rows],
        "peak_login_rss_mb": peak_login_rss,
        "grader": asdict(grader) if grader else None,
        "goals": [asdict(goal) for goal in goal_list],
    }
    json_path, md_path = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    md_path.write_text(markdown(title, meta, rows, goal_list, grader))
    return [json_path, md_path]
