"""MkDocs hook: tables generated from the course manifest, the grading tests and the solution.

A page asks for a table with an HTML comment on a line of its own:

    <!-- steps-table -->          the eight steps at a glance
    <!-- deliverable-map -->      every deliverable: step, title, files, points
    <!-- step-deliverables:N -->  step N's deliverables, linked to their sections
    <!-- step-files:N -->         the files step N creates or edits
    <!-- grader-checks:N -->      step N's grading tests, per deliverable, with points
    <!-- settings-table -->       every field of the solution's Settings

Everything is read from files (no network, nothing imported from the solution), so
the tables cannot drift from the code. An unknown placeholder, or a setting or a
workflow deliverable without its entry here, fails the build.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course.manifest import Manifest, Step, load_manifest  # noqa: E402

DELIVERABLE_FILES = Path(__file__).with_name("deliverable-files.toml")
SETTINGS_SOURCE = ROOT / "solution" / "app" / "core" / "config.py"
PLACEHOLDER = re.compile(r"^<!-- ([a-z-]+)(?::(\d+))? -->$", re.MULTILINE)

# What each setting means. A field of Settings missing here fails the build.
SETTING_MEANINGS = {
    "PROJECT_NAME": "Title of the API (OpenAPI, Swagger UI).",
    "PROJECT_DESCRIPTION": "Description shown in the OpenAPI document.",
    "VERSION": "Version reported by `/health` and OpenAPI.",
    "DEBUG": "Serves `/docs`, `/redoc` and the OpenAPI schema; Loguru's `diagnose` shows "
    "variable values in tracebacks. Never in production.",
    "ENVIRONMENT": "`development`, `testing`, `staging` or `production`; production refuses "
    "default secrets and `*` CORS with credentials.",
    "API_V1_PREFIX": "Prefix of every versioned route; starts with `/`, no trailing `/`.",
    "HOST": "Interface uvicorn binds to.",
    "PORT": "Port uvicorn listens on (1 to 65535).",
    "WORKERS": "uvicorn worker processes.",
    "RELOAD": "Restart uvicorn on code changes (development only).",
    "DATABASE_URL": "SQLAlchemy async URL: `sqlite+aiosqlite:///./app.db` or "
    "`postgresql+asyncpg://user:pass@host:5432/db`.",
    "DB_ECHO": "Log every SQL statement (parameters stay hidden).",
    "DB_POOL_SIZE": "Connections kept open (server databases only).",
    "DB_MAX_OVERFLOW": "Extra connections allowed above the pool size (server databases only).",
    "DB_POOL_TIMEOUT": "Seconds to wait for a free connection (server databases only).",
    "JWT_SECRET_KEY": "Secret that signs access tokens; ≥ 32 random characters in production.",
    "JWT_REFRESH_SECRET_KEY": "Separate secret that signs refresh tokens.",
    "JWT_ALGORITHM": "HMAC algorithm of the tokens; decoding accepts only this one.",
    "JWT_ACCESS_TOKEN_EXPIRE_MINUTES": "Lifetime of an access token.",
    "JWT_REFRESH_TOKEN_EXPIRE_DAYS": "Lifetime of a refresh token.",
    "CORS_ORIGINS": "Origins allowed to call the API from a browser (comma-separated).",
    "CORS_ALLOW_CREDENTIALS": "Whether browsers may send cookies and Authorization headers.",
    "CORS_ALLOW_METHODS": "HTTP methods allowed cross-origin (comma-separated).",
    "CORS_ALLOW_HEADERS": "Request headers allowed cross-origin (comma-separated).",
    "LOG_LEVEL": "Lowest level logged: TRACE, DEBUG, INFO, SUCCESS, WARNING, ERROR, CRITICAL.",
    "LOG_FORMAT": "`text` for people, `json` for one JSON object per line.",
    "FIRST_ADMIN_EMAIL": "Email of the administrator `scripts/seed.py` creates.",
    "FIRST_ADMIN_PASSWORD": "Password of that administrator; must be changed in production.",
}


# --- reading the sources -----------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One grading test function."""

    name: str
    deliverable: str
    points: int
    parametrized: bool
    module: str


@cache
def grading_checks(step: int) -> tuple[Check, ...]:
    """The grading tests of a step, read from their `@pytest.mark.grade(key, points)`."""
    checks = []
    for path in sorted((ROOT / "tests" / f"step_{step:02d}").glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            grade = None
            parametrized = False
            for decorator in node.decorator_list:
                if not isinstance(decorator, ast.Call):
                    continue
                target = ast.unparse(decorator.func)
                if target.endswith("mark.grade"):
                    key, points = (ast.literal_eval(arg) for arg in decorator.args)
                    grade = (key, points)
                elif target.endswith("mark.parametrize"):
                    parametrized = True
            if grade:
                checks.append(Check(node.name, grade[0], grade[1], parametrized, path.name))
    return tuple(checks)


@cache
def deliverable_files() -> dict[str, list[str]]:
    """The files of every deliverable, checked against the manifest and the solution."""
    data: dict[str, list[str]] = tomllib.loads(DELIVERABLE_FILES.read_text(encoding="utf-8"))
    manifest = load_manifest()
    keys = {d.key for s in manifest.steps for d in s.deliverables}
    unknown = sorted(set(data) - keys)
    missing = sorted(keys - set(data))
    if unknown or missing:
        raise PluginError(
            f"{DELIVERABLE_FILES.name}: unknown keys {unknown}, keys without files {missing}"
        )
    for key, files in data.items():
        for name in files:
            path = name.rstrip("/")
            if not (ROOT / "solution" / path).exists():
                raise PluginError(f"{DELIVERABLE_FILES.name}: {key}: no solution/{path}")
    return data


@dataclass(frozen=True)
class Setting:
    name: str
    type: str
    default: str
    group: str


def settings_fields() -> list[Setting]:
    """Every field of `Settings`, with its group (the comment above it) and default."""
    source = SETTINGS_SOURCE.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    [cls] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings"]
    constants = {
        t.id: ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name) and isinstance(n.value, ast.Constant)
    }
    aliases = {
        t.id: n.value
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name) and isinstance(n.value, ast.Subscript)
    }
    fields = []
    group = ""
    for node in cls.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        above = lines[node.lineno - 2].strip()
        if above.startswith("#"):
            group = above.lstrip("# ").split(":")[0].split(",")[0]
        fields.append(
            Setting(node.target.id, _type(node.annotation, aliases),
                    _default(node.value, constants), group)
        )  # fmt: skip
    return fields


def _type(annotation: ast.expr, aliases: dict[str, ast.expr]) -> str:
    """The annotation, with module-level aliases spelled out and `Annotated` unwrapped."""
    if isinstance(annotation, ast.Name) and annotation.id in aliases:
        annotation = aliases[annotation.id]
    if (
        isinstance(annotation, ast.Subscript)
        and ast.unparse(annotation.value) == "Annotated"
        and isinstance(annotation.slice, ast.Tuple)
    ):
        annotation = annotation.slice.elts[0]
    return ast.unparse(annotation).replace("|", "\\|")


def _default(value: ast.expr | None, constants: dict[str, Any]) -> str:
    if value is None:
        return "(required)"
    if isinstance(value, ast.Call):
        name = ast.unparse(value.func)
        if name == "Field":
            [default] = [k.value for k in value.keywords if k.arg == "default"]
            return _default(default, constants)
        if name == "SecretStr":
            [inner] = value.args
            if isinstance(inner, ast.Name) and inner.id in constants:
                return f"`{constants[inner.id]}` (development only)"
    try:
        literal = ast.literal_eval(value)
    except ValueError:
        return f"`{ast.unparse(value)}`"
    if isinstance(literal, list):
        return "`" + ",".join(literal) + "`"
    if isinstance(literal, bool):
        return f"`{str(literal).lower()}`"
    return f"`{literal}`"


# --- the tables --------------------------------------------------------------------


def _page_link(manifest: Manifest, step: Step, from_page: str, anchor: str = "") -> str:
    depth = from_page.count("/")
    target = "../" * depth + step.docs
    return target + (f"#{anchor}" if anchor else "")


def steps_table(manifest: Manifest, page: str) -> str:
    rows = ["| step | title | you build | deliverables | points |", "|---|---|---|---|---|"]
    for step in manifest.steps:
        keys = ", ".join(d.key for d in step.deliverables)
        link = _page_link(manifest, step, page)
        rows.append(
            f"| {step.number} | [{step.title}]({link}) | {step.goal} | {keys} | {step.points} |"
        )
    rows.append(f"| | **total** | | | **{manifest.points}** |")
    return "\n".join(rows)


def deliverable_map(manifest: Manifest, page: str) -> str:
    files = deliverable_files()
    rows = ["| deliverable | what | step | file(s) | points |", "|---|---|---|---|---|"]
    deliverables = [d for s in manifest.steps for d in s.deliverables]
    workflow = sorted((d for d in deliverables if d.is_workflow), key=_workflow_order)
    extras = [d for d in deliverables if not d.is_workflow]
    for d in [*workflow, *extras]:
        step = manifest.step(d.step)
        link = _page_link(manifest, step, page, d.anchor)
        paths = ", ".join(f"`{f}`" for f in files[d.key])
        rows.append(
            f"| **{d.key}** | [{d.title}]({link}) | {step.number} · {step.title} "
            f"| {paths} | {d.points} |"
        )
    return "\n".join(rows)


def _workflow_order(deliverable: Any) -> tuple[int, str]:
    number = re.match(r"D(\d+)", deliverable.key)
    return (int(number.group(1)) if number else 99, deliverable.key)


def step_deliverables(manifest: Manifest, number: int, page: str) -> str:
    step = manifest.step(number)
    files = deliverable_files()
    rows = ["| deliverable | what | file(s) | points |", "|---|---|---|---|"]
    for d in step.deliverables:
        paths = ", ".join(f"`{f}`" for f in files[d.key])
        rows.append(f"| **{d.key}** | [{d.title}](#{d.anchor}) | {paths} | {d.points} |")
    rows.append(f"| | **step {number}** | | **{step.points}** |")
    return "\n".join(rows)


def step_files(manifest: Manifest, number: int) -> str:
    return "\n".join(f"- `{pattern}`" for pattern in manifest.step(number).files)


def grader_checks(manifest: Manifest, number: int) -> str:
    step = manifest.step(number)
    checks = grading_checks(number)
    out = []
    for d in step.deliverables:
        mine = [c for c in checks if c.deliverable == d.key]
        if not mine:
            raise PluginError(f"step {number}: no grading test for {d.key}")
        out.append(f"**{d.key} — {d.title}** ({d.points} points, [read](#{d.anchor}))\n")
        out.append("| check | points | test |")
        out.append("|---|---|---|")
        for c in mine:
            what = c.name.removeprefix("test_").replace("_", " ")
            worth = f"{c.points} per case" if c.parametrized else str(c.points)
            out.append(f"| {what} | {worth} | `{c.module}::{c.name}` |")
        out.append("")
    return "\n".join(out)


def settings_table() -> str:
    out = []
    group = None
    for s in settings_fields():
        meaning = SETTING_MEANINGS.get(s.name)
        if meaning is None:
            raise PluginError(f"docs/hooks.py: Settings.{s.name} has no meaning in the table")
        if s.group != group:
            group = s.group
            out += ["", f"**{group}**", "", "| setting | type | default | meaning |",
                    "|---|---|---|---|"]  # fmt: skip
        out.append(f"| `{s.name}` | `{s.type}` | {s.default} | {meaning} |")
    return "\n".join(out).strip()


def render(markdown: str, page: str) -> str:
    """Replace every placeholder of a page's Markdown."""
    manifest = load_manifest()

    def replace(match: re.Match[str]) -> str:
        kind, number = match.group(1), match.group(2)
        step = int(number) if number else None
        if kind == "steps-table":
            return steps_table(manifest, page)
        if kind == "deliverable-map":
            return deliverable_map(manifest, page)
        if kind == "settings-table":
            return settings_table()
        if step is not None and 1 <= step <= len(manifest.steps):
            if kind == "step-deliverables":
                return step_deliverables(manifest, step, page)
            if kind == "step-files":
                return step_files(manifest, step)
            if kind == "grader-checks":
                return grader_checks(manifest, step)
        raise PluginError(f"{page}: unknown placeholder {match.group(0)}")

    return PLACEHOLDER.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return render(markdown, page.file.src_uri)
