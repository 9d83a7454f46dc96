"""The mutation run: its plan, its filter of annotations, a real session, the table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from course.manifest import REPO_ROOT, load_manifest
from course.mutation import table
from course.mutation.plan import Unit, mutated_files, units
from course.mutation.results import (
    Mutant,
    Outcome,
    StepResult,
    Triage,
    Verdict,
    load_results,
    load_triage,
    score,
)
from course.mutation.run import mutate
from course.mutation.session import annotation_spans
from course.mutation.verdict import main as verdict
from tests.grader.submissions import edited_solution

SOLUTION = REPO_ROOT / "solution"
MANIFEST = load_manifest()


def test_every_mutated_file_is_in_one_unit_counted_by_its_last_owner() -> None:
    planned = units(MANIFEST, SOLUTION)
    files = [file for unit in planned for file in unit.files]
    assert sorted(files) == mutated_files(SOLUTION)
    for unit in planned:
        for file in unit.files:
            owners = tuple(step.number for step in MANIFEST.steps if step.declares(file))
            assert unit.steps == owners and unit.step == owners[-1], file
    [main] = [unit for unit in planned if "app/main.py" in unit.files]
    assert main.steps == (2, 3, 7), "app/main.py is written in steps 2 and 3, finished in 7"


def test_only_changes_inside_annotations_are_skipped() -> None:
    source = (
        "def f(a: int | None, b=1 | 2) -> str | None:\n"
        "    x: list[int] | None = 3 | 4\n"
        "    return a\n"
    )
    spans = annotation_spans(source)

    def inside(line: int, column: int) -> bool:
        return any(start <= (line, column) < end for start, end in spans)

    assert inside(1, 13)  # the | of `int | None`
    assert not inside(1, 26)  # the | of `1 | 2`, a default value
    assert inside(1, 38)  # the | of the return annotation
    assert inside(2, 17) and not inside(2, 28)  # the annotation, not the value


def mutant(outcome: Outcome, code: str = "x = 1", operator: str = "core/NumberReplacer") -> Mutant:
    return Mutant(file="app/x.py", line=1, operator=operator, occurrence=0, code=code,
                  outcome=outcome)  # fmt: skip


def test_the_score_counts_killed_of_what_the_triage_leaves() -> None:
    result = StepResult(step=2, tool="cosmic-ray", date="2026-01-01T00:00:00+00:00", mutants=(
        mutant(Outcome.KILLED), mutant(Outcome.KILLED), mutant(Outcome.KILLED),
        mutant(Outcome.SKIPPED), mutant(Outcome.ERROR),
        mutant(Outcome.SURVIVED, code="y = 2"), mutant(Outcome.SURVIVED, code="z = 3"),
        mutant(Outcome.SURVIVED, code="w = 4"),
    ))  # fmt: skip
    triage = [
        Triage("app/x.py", "core/NumberReplacer", "y = 2", Verdict.EQUIVALENT, "same"),
        Triage("app/x.py", "core/NumberReplacer", "z = 3", Verdict.NOT_TAUGHT, "not taught"),
        Triage("app/x.py", "core/AddNot", "w = 4", Verdict.EQUIVALENT, "another operator"),
    ]
    row = score(result, triage)
    assert (row.mutants, row.killed, row.errors, row.equivalent, row.not_taught) == (7, 3, 1, 1, 1)
    assert [m.code for m in row.survivors] == ["w = 4"]
    assert row.ratio == pytest.approx(3 / 5)


def test_a_real_session_grades_each_mutant_of_a_file(tmp_path: Path) -> None:
    file = "app/domain/models/login_failure.py"
    [result] = mutate({4}, 1, work=tmp_path, solution=SOLUTION, only=(file,))
    assert result.step == 4 and result.mutants, "expected Cosmic Ray to make mutants"
    assert {m.file for m in result.mutants} == {file}
    assert Outcome.ERROR not in {m.outcome for m in result.mutants}
    length = [m for m in result.mutants if "String(255)" in m.code]
    assert length and all(m.outcome is Outcome.KILLED for m in length), (
        "expected the step 4 checks to kill String(255) made String(254) or String(256)"
    )


def test_a_mistake_that_shows_on_postgresql_only_is_killed(tmp_path: Path) -> None:
    # SQLite stores no time zone: only PostgreSQL's `alembic check` sees it lost.
    column = 'sa.Column("deleted_at", sa.DateTime(timezone={}), nullable=True)'
    migration = "alembic/versions/0001_create_users_table.py"
    edit = (migration, column.format(True), column.format(False))
    copy = edited_solution("naive deleted_at", (edit,), tmp_path / "copy")
    args = [str(copy), "--step", "8", "--strict", "--reports", str(tmp_path / "reports")]
    on_sqlite = subprocess.run([sys.executable, "-m", "course", "grade", *args], check=False)
    assert on_sqlite.returncode == 0, "expected SQLite's grading to miss the naive timestamp"
    assert verdict(args) == 1, "expected PostgreSQL's grading to kill the naive timestamp"


def test_the_published_tables_match_the_results_and_the_triage() -> None:
    results, triage = load_results(), load_triage()
    for path, expected in (
        (table.PAGE, table.render(MANIFEST, results, triage)),
        (table.DETAILS, table.render_details(results, triage)),
    ):
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path.name} is stale: python -m course mutation --report-only"
        )


def test_every_triaged_survivor_is_still_a_survivor() -> None:
    survivors = [
        m for result in load_results() for m in result.mutants if m.outcome is Outcome.SURVIVED
    ]
    stale = [t for t in load_triage() if not any(t.covers(m) for m in survivors)]
    assert not stale, f"triage entries that explain no survivor any more: {stale}"


def test_a_unit_names_its_steps() -> None:
    assert Unit(steps=(2, 3, 7), files=("app/main.py",)).name == "steps-2-3-7"
