"""The course site builds strictly, and every link the grader gives a learner resolves.

The site is built once per test process (`mkdocs build --strict` into a temporary
folder, tests/docs/conftest.py); these tests read the built HTML.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from course.manifest import REPO_ROOT, Deliverable, Step, load_manifest
from tests.docs.conftest import Site

pytest.importorskip("mkdocs", reason="the docs tools are not installed (dependency group docs)")
pytest.importorskip("material", reason="mkdocs-material is not installed (dependency group docs)")

MANIFEST = load_manifest()
WORKFLOW = [f"D{n}" for n in range(1, 22)]


class Ids(HTMLParser):
    """Every `id` attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value)


def ids_of(path: Path) -> set[str]:
    parser = Ids()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.ids


def text_of(path: Path) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8")))


def test_the_site_builds_without_warnings(site: Site) -> None:
    warnings = [line for line in site.log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not warnings, "\n".join(warnings)
    assert site.page("index.md").is_file()


@pytest.mark.parametrize("step", MANIFEST.steps, ids=lambda s: s.slug)
def test_every_step_has_its_page(site: Site, step: Step) -> None:
    page = site.page(step.docs)
    assert page.is_file(), f"no page for step {step.number}: docs/{step.docs}"
    text = text_of(page)
    assert step.title in text
    assert f"nox -s grade -- --step {step.number}" in text, "no 'check your work' command"


@pytest.mark.parametrize(
    "deliverable",
    [d for s in MANIFEST.steps for d in s.deliverables],
    ids=lambda d: d.key,
)
def test_every_grader_hint_anchor_exists(site: Site, deliverable: Deliverable) -> None:
    link = MANIFEST.docs_link(deliverable)
    page, anchor = link.removeprefix(MANIFEST.docs_base).split("#")
    assert anchor in ids_of(site.page(page)), f"the grader links to {link}, which has no #{anchor}"


def test_every_step_page_lists_what_the_grader_checks(site: Site) -> None:
    for step in MANIFEST.steps:
        text = text_of(site.page(step.docs))
        for deliverable in step.deliverables:
            assert f"{deliverable.key} — {deliverable.title}" in text, (
                f"step {step.number}'s grader checks do not list {deliverable.key}"
            )


def _map_rows(site: Site) -> dict[str, str]:
    page = site.page("reference/deliverables.md").read_text(encoding="utf-8")
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S):
        raw = re.findall(r"<td>(.*?)</td>", row, flags=re.S)
        cells = [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in raw]
        if cells:
            rows[cells[0]] = " | ".join(cells)
    return rows


@pytest.mark.parametrize("key", WORKFLOW)
def test_every_workflow_deliverable_is_in_the_map_with_its_file(site: Site, key: str) -> None:
    rows = _map_rows(site)
    assert key in rows, f"{key} is missing from the deliverable map"
    deliverable = MANIFEST.deliverable(key)
    step = MANIFEST.step(deliverable.step)
    assert f"{step.number} · {step.title}" in rows[key]
    files = [name.strip() for name in rows[key].split(" | ")[3].split(",") if name.strip()]
    assert files, f"{key} names no file: {rows[key]}"
    missing = [name for name in files if not (REPO_ROOT / "solution" / name).exists()]
    assert not missing, f"{key} names files the solution does not have: {missing}"


def test_the_settings_table_names_every_setting(site: Site) -> None:
    source = (REPO_ROOT / "solution" / "app" / "core" / "config.py").read_text(encoding="utf-8")
    fields = re.findall(r"^    ([A-Z][A-Z0-9_]+): ", source, flags=re.M)
    text = text_of(site.page("reference/settings.md"))
    assert len(fields) > 25
    assert [name for name in fields if name not in text] == []


def test_code_is_included_from_the_sources_not_pasted(site: Site) -> None:
    database = (REPO_ROOT / "solution" / "app" / "core" / "database.py").read_text()
    # Highlighting wraps every token in a span: strip the tags without adding spaces.
    source = site.page("steps/03-database-logging-errors.md").read_text(encoding="utf-8")
    page = html.unescape(re.sub(r"<[^>]+>", "", source))
    assert "class DatabaseManager" in page
    assert "--8<--" not in page, "a snippet was not included"
    assert database.splitlines()[0].strip('"') in page


def test_diagrams_are_mermaid_blocks(site: Site) -> None:
    for page in ("index.md", "reference/architecture.md"):
        source = site.page(page).read_text(encoding="utf-8")
        assert 'class="mermaid"' in source, f"{page} has no Mermaid diagram"
