"""The course site in headless Chromium: titles, Mermaid diagrams, search, no errors.

The site built by `mkdocs build --strict` is served from a local HTTP server, with no
network: it must work offline, as in a classroom or on CI (Mermaid is served with the
site, the fonts are the system's). Any console error, uncaught exception or failed
request fails a test.
"""

from __future__ import annotations

import re

import pytest

from course.manifest import REPO_ROOT
from tests.browser import BrowserPage
from tests.docs.conftest import Site

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (dependency group browser)"
)
expect = sync_api.expect

DOCS = REPO_ROOT / "docs"
SITE_NAME = re.search(r"^site_name: (.+)$", (REPO_ROOT / "mkdocs.yml").read_text(), re.M)[1]
# Material draws each diagram into a closed shadow root; opened, the test can look inside.
OPEN_SHADOW_ROOTS = """
const attachShadow = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  return attachShadow.call(this, {...init, mode: "open"});
};
"""
PAGES = ["index.md", "steps/03-database-logging-errors.md", "reference/architecture.md"]


def heading_of(source: str) -> str:
    """The `# ` heading of a Markdown page."""
    return re.search(r"^# (.+)$", (DOCS / source).read_text(encoding="utf-8"), re.M)[1]


def diagrams_in(source: str) -> int:
    return len(re.findall(r"^```mermaid$", (DOCS / source).read_text(encoding="utf-8"), re.M))


@pytest.mark.parametrize("source", PAGES)
def test_page_renders_its_title_and_diagrams(
    site_url: str, browser_page: BrowserPage, source: str
) -> None:
    page = browser_page.page
    page.add_init_script(OPEN_SHADOW_ROOTS)
    page.goto(site_url + Site.url(source))

    heading = heading_of(source)
    expect(page.locator("article h1")).to_have_text(re.compile(re.escape(heading)))
    expect(page).to_have_title(SITE_NAME if source == "index.md" else f"{heading} - {SITE_NAME}")

    # Each ```mermaid block becomes a drawing: one SVG per diagram.
    expected = diagrams_in(source)
    svgs = page.locator("div.mermaid svg")
    expect(svgs).to_have_count(expected)
    kinds = [svgs.nth(i).get_attribute("aria-roledescription") for i in range(expected)]
    assert "error" not in kinds, f"Mermaid could not draw a diagram of {source}: {kinds}"
    for i in range(expected):
        box = svgs.nth(i).bounding_box()
        assert box and box["width"] > 50 and box["height"] > 50, f"diagram {i} is empty: {box}"

    page.wait_for_load_state("networkidle")
    assert browser_page.problems == [], f"{source}: {browser_page.problems}"


def test_search_finds_the_database_manager(site_url: str, browser_page: BrowserPage) -> None:
    page = browser_page.page
    page.goto(site_url)
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("DatabaseManager")  # the search reacts to keys, not to a paste

    meta = page.locator(".md-search-result__meta")
    expect(meta).to_have_text(re.compile(r"^\d+ matching documents?$"))
    found = int(meta.inner_text().split()[0])
    results = page.locator("li.md-search-result__item")
    expect(results).to_have_count(found)
    links = [results.nth(i).locator("a").first.get_attribute("href") for i in range(found)]
    step_3 = Site.url("steps/03-database-logging-errors.md")
    assert any(step_3 in (link or "") for link in links), f"step 3 is not among {links}"

    page.wait_for_load_state("networkidle")
    assert browser_page.problems == [], browser_page.problems
