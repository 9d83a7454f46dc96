"""Hints that explain an error in the course's terms, for the grader's messages.

- A module the learner's code imports that the grader's environment does not have:
  say which libraries the code runs with (the `grade` dependency group of the
  workshop's pyproject.toml), and link the course's pitfall about it, if any.
- A database that cannot be opened: the DATABASE_URL setting names the database,
  so that is where to look, not the line of database.py that connected.
- A long value a check generated (a 129-character request id): shown by its length.

Everything here reads the repository (pyproject.toml, docs/, the manifest) and
never the learner's files.
"""

from __future__ import annotations

import importlib.util
import os
import re
import tomllib
from collections.abc import Iterator
from functools import cache

from course.manifest import REPO_ROOT, load_manifest

GRADE_GROUP = "grade"  # the dependency group the grader runs the learner's code with
LEARNER_PACKAGE = "app"  # the package a project's code lives in (learner_code.PACKAGE)
REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
PITFALL = re.compile(
    r'^!!! warning "Pitfall: (?P<title>[^"]*)"\n(?P<body>(?:(?: {4}.*)?\n)*)', re.M
)
HEADING = re.compile(r"^##+ .*\{#(?P<anchor>[\w-]+)\}\s*$", re.M)
# What the database drivers say when the database named by the URL cannot be reached.
DATABASE_UNREACHABLE = re.compile(
    r"unable to open database file|connection refused|connect call failed|could not connect"
    r"|could not translate host name|name or service not known|nodename nor servname"
    r"|temporary failure in name resolution|password authentication failed"
    r"|database \S+ does not exist",
    re.IGNORECASE,
)
# Between an exception and the hint about it: the grouping of failed checks by their
# cause (report.root_cause) reads the exception's own text up to here.
HINT = "—"
LONG_VALUE = 40  # characters: a value longer than a UUID is shown by its length


@cache
def grader_libraries() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The `grade` dependency group: its distributions (no versions, no extras), and the
    groups it includes."""
    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names, groups = [], []
    for entry in data.get("dependency-groups", {}).get(GRADE_GROUP, []):
        match = REQUIREMENT_NAME.match(entry) if isinstance(entry, str) else None
        if match:
            names.append(match.group(0))
        elif isinstance(entry, dict) and "include-group" in entry:
            groups.append(str(entry["include-group"]))
    return tuple(names), tuple(groups)


def _pitfalls() -> Iterator[tuple[int, str, str, str]]:
    """Every pitfall of the step pages: (step, title, body, docs link of its section)."""
    manifest = load_manifest()
    for step in manifest.steps:
        page = REPO_ROOT / manifest.docs_base / step.docs
        try:
            text = page.read_text(encoding="utf-8")
        except OSError:
            continue
        anchors = [(m.start(), m.group("anchor")) for m in HEADING.finditer(text)]
        for match in PITFALL.finditer(text):
            anchor = next((a for start, a in reversed(anchors) if start < match.start()), None)
            link = f"{manifest.docs_base}{step.docs}" + (f"#{anchor}" if anchor else "")
            yield step.number, match.group("title"), match.group("body"), link


@cache
def pitfall_link(word: str, learner_file: str | None = None) -> str | None:
    """The docs link of the course's pitfall about `word` (a module, a setting), if any.

    Of the pitfalls that name it, the one on the page of the step that owns
    `learner_file` comes first, then one that names it in its title, then the first.
    """
    pattern = re.compile(rf"(?<![\w.]){re.escape(word)}(?![\w])", re.IGNORECASE)
    found = [p for p in _pitfalls() if pattern.search(p[1]) or pattern.search(p[2])]
    if not found:
        return None
    manifest = load_manifest()
    owners = {s.number for s in manifest.steps if learner_file and s.declares(learner_file)}
    ranked = sorted(found, key=lambda p: (p[0] not in owners, not pattern.search(p[1])))
    return ranked[0][3]


def missing_library(module: str | None) -> str | None:
    """The top-level name of `module` if it is a library the grader does not have."""
    if not module:
        return None
    top = module.split(".")[0]
    if top == LEARNER_PACKAGE:
        return None
    try:
        if importlib.util.find_spec(top) is not None:
            return None
    except (ImportError, ValueError):
        pass
    return top


def library_hint(module: str, learner_file: str | None = None) -> str:
    """Why importing `module` (not installed for the grader) fails, and where to read."""
    names, groups = grader_libraries()
    included = "".join(f" and its `{group}` group" for group in groups)
    hint = (
        f"{module} is not one of the libraries the grader runs your code with, those of the "
        f"`{GRADE_GROUP}` dependency group of the workshop's pyproject.toml ({', '.join(names)})"
        f"{included}; installing it yourself does not change that: use the course's libraries"
    )
    link = pitfall_link(module, learner_file)
    return hint + (f"; why the course chose them: {link}" if link else "")


def database_unreachable(exc: BaseException) -> bool:
    """Whether `exc` (or an exception it wraps) says the database cannot be opened."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or DATABASE_UNREACHABLE.search(str(current)):
            return True
        orig = getattr(current, "orig", None)
        stack += [current.__cause__, current.__context__,
                  orig if isinstance(orig, BaseException) else None]  # fmt: skip
    return False


def database_hint() -> str:
    """Where the database comes from: the DATABASE_URL setting, not a line of code."""
    url = os.environ.get("DATABASE_URL", "")
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    link = pitfall_link("DATABASE_URL")
    return (
        f"the database is named by the DATABASE_URL setting (the grader sets it to a private "
        f"{backend} database): your settings must read DATABASE_URL and your engine must "
        "connect to the URL it holds, not to a URL of its own" + (f"; read {link}" if link else "")
    )


def shown_value(value: str | None, what: str = "id") -> str:
    """A value for a message: quoted in full if short, else by its length and its start."""
    if value is None or len(value) <= LONG_VALUE:
        return repr(value)
    return f"a {len(value)}-character {what} ({value[:4]}…)"
