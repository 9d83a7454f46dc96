"""Hints that say why: a library the grader does not provide, a database the settings
do not name, the order of the middleware, an update that writes None, and long ids
shown by their length. Each grades a copy of the solution with one mistake."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from course.__main__ import main
from course.grading.runner import grade
from course.manifest import REPO_ROOT, load_manifest
from tests.grader.submissions import copy_solution, edited_solution
from tests.step_08.conftest import gist

MANIFEST = load_manifest()
REPORT_SCHEMA = json.loads(
    (REPO_ROOT / "course" / "grading" / "grade-report.schema.json").read_text()
)


def grade_group() -> list[str]:
    """The distributions of pyproject.toml's `grade` dependency group."""
    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    return [re.split(r"[\[<>=~! ]", e)[0] for e in data["dependency-groups"]["grade"]
            if isinstance(e, str)]  # fmt: skip


def failed(target: Path, step: int, tmp_path: Path) -> dict[str, str]:
    """Grade one step of `target`: the message of every failed check, by test name."""
    run = grade(target, MANIFEST, [step], work_dir=tmp_path / "reports")
    assert run.error is None, run.error
    return {t.name: t.message for t in run.tests if t.status in ("fail", "error")}


def test_a_library_the_grader_lacks_is_named_with_the_grade_group_and_the_pitfall(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    target = copy_solution(tmp_path / "submission")
    security = target / "app/core/security.py"
    security.write_text("from jose import jwt  # the workflow's library\n" + security.read_text())
    reports = tmp_path / "reports"
    assert main(["grade", str(target), "--step", "6", "--reports", str(reports)]) == 0
    printed = capsys.readouterr().out
    report = json.loads((reports / "grade-report.json").read_text())
    jsonschema.validate(report, REPORT_SCHEMA)

    messages = [t["message"] for t in report["tests"] if t["status"] in ("fail", "error")]
    assert len(messages) > 10
    for message in messages:
        assert "No module named 'jose'" in message
        assert "jose is not one of the libraries the grader runs your code with" in message
        assert all(name in message for name in grade_group()), "name the grade group's libraries"
        assert "docs/steps/06-security-services.md#d14-security" in message, "link the pitfall"
    chained = "importing app.api.deps failed: importing app.core.security failed"
    assert any(chained in m for m in messages), "the JSON keeps each check's whole message"

    [cause] = report["causes"]
    assert len(cause["tests"]) == len(messages)
    text = " ".join(printed.split())
    assert text.count(f"{len(messages)} checks could not run: importing app.core.security") == 1
    assert text.count("jose is not one of the libraries") == 1, "said once, not per deliverable"
    last = printed.rstrip().splitlines()[-1]
    assert re.fullmatch(
        r"\d+/\d+ points \([\d.]+%\); next: step 6, D14 Security: hashing and tokens — "
        r"docs/steps/06-security-services\.md#d14-security",
        last,
    ), last


def test_a_subprocess_that_lacks_a_library_is_told_the_same() -> None:
    root = Path("/tmp/project")
    # python-jose: in no environment of the course (the tests' own env has passlib, for
    # the pitfall checks, so passlib would not be missing here).
    output = (
        "Traceback (most recent call last):\n"
        f'  File "{root}/app/core/security.py", line 1, in <module>\n'
        "    from jose import jwt\n"
        "ModuleNotFoundError: No module named 'jose'\n"
    )
    said = gist(output, root)
    assert said.startswith("ModuleNotFoundError: No module named 'jose' (in app/core/")
    assert "jose is not one of the libraries" in said and "pwdlib" in said
    assert "docs/steps/06-security-services.md#d14-security" in said
    installed = gist(output.replace("'jose'", "'sqlalchemy.nothing'"), root)
    assert "not one of the libraries" not in installed, "an installed library is not missing"
    refused = gist("Traceback (most recent call last):\nOSError: Connect call failed", root)
    assert "DATABASE_URL" in refused


def test_a_database_that_cannot_be_opened_points_at_database_url(tmp_path: Path) -> None:
    target = edited_solution("own database URL", (
        ("app/core/database.py", "make_url(url or config.DATABASE_URL)",
         'make_url(url or "sqlite+aiosqlite:////no-such-folder/app.db")'),
    ), tmp_path / "submission")  # fmt: skip
    messages = failed(target, 3, tmp_path)
    assert messages, "a database that cannot be opened must fail checks"
    opened = [m for m in messages.values() if "unable to open database file" in m]
    assert opened, messages
    for message in opened:
        assert "DATABASE_URL setting" in message, message
        assert "database.py line" not in message, "point at the setting, not at the line"


def test_step_7_hints_say_why(tmp_path: Path) -> None:
    logging, request_id = "RequestLoggingMiddleware)\n", "RequestIDMiddleware)\n"
    headers = "    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.HSTS_ENABLED)\n"
    target = edited_solution("request id inside the request log", (
        ("app/main.py", f"add_middleware({logging}{headers}    app.add_middleware({request_id}",
         f"add_middleware({request_id}{headers}    app.add_middleware({logging}"),
        ("app/middleware/request_id.py",
         "if incoming is not None and VALID_REQUEST_ID.fullmatch(incoming):", "if incoming:"),
    ), tmp_path / "submission")  # fmt: skip
    messages = failed(target, 7, tmp_path)
    logged = messages["test_one_log_line_per_request_with_method_path_status_duration_and_id"]
    assert "request-id middleware must be the outermost" in logged
    assert "added last runs first" in logged and "add_middleware" in logged
    invalid = messages["test_an_invalid_incoming_request_id_is_replaced"]
    assert "a 129-character id (rrrr…)" in invalid, invalid
    assert "r" * 20 not in invalid, "a long id is shown by its length, not silently cut"


def test_update_user_writing_none_is_told_to_send_only_the_given_fields(tmp_path: Path) -> None:
    target = edited_solution("update_user sends model_dump()", (
        ("app/service/user_service.py",
         "values = data.model_dump(exclude_unset=True, exclude_none=True)",
         "values = data.model_dump()"),
        ("app/service/user_service.py", 'if "role" in values:', 'if values.get("role"):'),
    ), tmp_path / "submission")  # fmt: skip
    messages = failed(target, 6, tmp_path)
    updated = messages["test_update_user_changes_only_the_given_fields"]
    assert "IntegrityError" in updated and "model_dump(exclude_unset=True)" in updated, updated
