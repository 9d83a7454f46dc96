"""The generated sections of the docs pages are what `python -m course docs` makes now.

The tables made from the manifest, the grading tests and the solution are kept in the
Markdown (course/docs_tables.py), between `<!-- begin NAME … -->` and `<!-- end NAME -->`,
so that docs/ reads well on GitHub. These tests fail when one of them has drifted from its
sources, naming the file, the section and the command that brings it up to date. They
read files only: no site build.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from course.__main__ import main
from course.docs_tables import (
    COMMAND,
    DOCS,
    DocsError,
    begin_marker,
    end_marker,
    pages,
    sections,
    update,
    update_docs,
)
from course.manifest import load_manifest

MANIFEST = load_manifest()
PAGES = pages()
STEP_PAGE = MANIFEST.step(3).docs
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING_ID = re.compile(r"^#+ .*\{#([\w-]+)\}\s*$", re.M)


def relative(path: Path) -> str:
    return path.relative_to(DOCS).as_posix()


@pytest.mark.parametrize("path", PAGES, ids=relative)
def test_every_generated_section_is_up_to_date(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    result = update(text, relative(path))
    report = []
    for drift in result.drifts:
        diff = difflib.unified_diff(
            drift.section.text.splitlines(), drift.expected.splitlines(),
            "in the page", "generated now", lineterm="", n=1,
        )  # fmt: skip
        report += [str(drift), *list(diff)[:20]]
    assert not result.drifts, "\n".join(report)


def test_the_pages_hold_their_generated_sections() -> None:
    expected = {
        "index.md": {"steps-table"},
        "reference/deliverables.md": {"deliverable-map"},
        "reference/settings.md": {"settings-table"},
    }
    for step in MANIFEST.steps:
        n = step.number
        expected[step.docs] = {f"step-deliverables:{n}", f"step-files:{n}", f"grader-checks:{n}"}
    for page, names in expected.items():
        found = {s.name for s in sections((DOCS / page).read_text(encoding="utf-8"))}
        missing = sorted(names - found)
        assert not missing, (
            f"docs/{page} lost its generated sections {missing}: put back a placeholder line "
            f"such as `<!-- {missing[0]} -->` where it belongs, then run `{COMMAND}`"
        )


def _anchors(path: Path) -> set[str]:
    """The ids a page's headings get: their `{#id}`, or the slug of their text."""
    text = path.read_text(encoding="utf-8")
    ids = set(HEADING_ID.findall(text))
    for heading in re.findall(r"^#+ (.*?)\s*$", text, flags=re.M):
        ids.add(re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", heading).strip().lower()))
    return ids


@pytest.mark.parametrize("path", PAGES, ids=relative)
def test_every_link_in_a_generated_section_resolves(path: Path) -> None:
    """Relative `.md` links (GitHub follows them, MkDocs rewrites them), to a real #anchor."""
    for section in sections(path.read_text(encoding="utf-8")):
        for link in LINK.findall(section.body):
            target, _, anchor = link.partition("#")
            where = f"docs/{relative(path)}, section {section.name}: link {link}"
            page = (path.parent / target).resolve() if target else path
            assert not target or target.endswith(".md"), f"{where} is not to a .md page"
            assert not target.startswith("/") and "://" not in target, f"{where} is not relative"
            assert page.is_file() and page.is_relative_to(DOCS), f"{where}: no such page"
            if anchor:
                assert anchor in _anchors(page), f"{where}: {relative(page)} has no #{anchor}"


def test_a_placeholder_becomes_a_section_and_updating_again_changes_nothing() -> None:
    page = "# Step 3\n\nYou edit:\n\n<!-- step-files:3 -->\n\nThen test.\n"
    first = update(page, STEP_PAGE)
    assert [d.section.name for d in first.drifts] == ["step-files:3"]
    assert first.drifts[0].section.placeholder
    assert first.text.startswith("# Step 3\n\nYou edit:\n\n" + begin_marker("step-files:3"))
    assert "\n\n- `app/core/database.py`\n" in first.text
    assert first.text.endswith(end_marker("step-files:3") + "\n\nThen test.\n")
    again = update(first.text, STEP_PAGE)
    assert again.drifts == [] and again.text == first.text


def test_an_edited_section_is_drift_named_with_its_file_and_the_command() -> None:
    fresh = update("Intro.\n\n<!-- grader-checks:3 -->\n", STEP_PAGE).text
    edited = re.sub(r"\((\d+) points,", lambda m: f"({int(m[1]) + 1} points,", fresh, count=1)
    assert edited != fresh
    result = update(edited, STEP_PAGE)
    [drift] = result.drifts
    message = str(drift)
    assert f"docs/{STEP_PAGE}, line 3" in message
    assert "grader-checks:3" in message and COMMAND in message
    assert result.text == fresh, "the command puts the generated text back"


@pytest.mark.parametrize(
    ("page", "error"),
    [
        ("a\n" + begin_marker("step-files:3") + "\n\n- x\n", "line 2: section step-files:3 has no"),
        ("a\n\n" + end_marker("step-files:3") + "\n", "line 3: `<!-- end step-files:3 -->` has no"),
        (begin_marker("step-files:3") + "\n" + end_marker("step-files:2") + "\n", "line 2:"),
        (begin_marker("step-files:3") + "\n<!-- steps-table -->\n", "line 2:"),
        ("<!-- step-files:99 -->\n", "line 1: unknown section 'step-files:99'"),
        ("<!-- no-such-table -->\n", "line 1: unknown section 'no-such-table'"),
    ],
    ids=["no end", "no begin", "mismatched end", "nested", "no such step", "unknown"],
)
def test_malformed_markers_are_errors_with_their_line(page: str, error: str) -> None:
    with pytest.raises(DocsError, match=re.escape(error)):
        update(page, STEP_PAGE)


def test_the_command_updates_pages_in_place_and_check_only_compares(tmp_path: Path) -> None:
    page = tmp_path / STEP_PAGE
    page.parent.mkdir(parents=True)
    page.write_text("Files:\n\n<!-- step-files:3 -->\n", encoding="utf-8")
    assert [r.page for r in update_docs(tmp_path, write=False)] == [STEP_PAGE]
    assert page.read_text(encoding="utf-8") == "Files:\n\n<!-- step-files:3 -->\n"
    update_docs(tmp_path)
    assert begin_marker("step-files:3") in page.read_text(encoding="utf-8")
    assert update_docs(tmp_path, write=False) == []


def test_the_command_line_check_passes_on_the_docs_as_they_are() -> None:
    assert main(["docs", "--check"]) == 0, f"the docs' generated sections drifted: run {COMMAND}"


# --- the MkDocs hook -----------------------------------------------------------------


@pytest.fixture(scope="module")
def hooks() -> ModuleType:
    pytest.importorskip("mkdocs", reason="the docs tools are not installed (dependency group docs)")
    spec = importlib.util.spec_from_file_location("course_docs_hooks", DOCS / "hooks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _page(src_uri: str) -> SimpleNamespace:
    return SimpleNamespace(file=SimpleNamespace(src_uri=src_uri))


def test_the_hook_gives_mkdocs_the_content_without_the_markers(hooks: ModuleType) -> None:
    page = update("You edit:\n\n<!-- step-files:3 -->\n\nDone.\n", STEP_PAGE).text
    markdown = hooks.on_page_markdown(page, _page(STEP_PAGE), None, None)
    assert "<!--" not in markdown
    assert markdown.startswith("You edit:\n\n- `app/core/database.py`\n")
    assert markdown.endswith("\n\nDone.\n")


def test_the_hook_fails_the_build_on_drift(hooks: ModuleType) -> None:
    from mkdocs.exceptions import PluginError

    page = update("<!-- step-files:3 -->\n", STEP_PAGE).text.replace("database.py", "db.py")
    with pytest.raises(PluginError) as error:
        hooks.on_page_markdown(page, _page(STEP_PAGE), None, None)
    assert f"docs/{STEP_PAGE}, line 1: section step-files:3 is out of date" in str(error.value)
    assert COMMAND in str(error.value)
    with pytest.raises(PluginError, match="bare placeholder"):
        hooks.on_page_markdown("<!-- step-files:3 -->\n", _page(STEP_PAGE), None, None)


def test_the_hook_still_leaves_reference_answers_out_for_a_graded_class(
    hooks: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = update(
        '<!-- step-files:3 -->\n\n??? success "Reference solution: a"\n'
        '    --8<-- "solution/app/main.py"\n\nAfter.\n',
        STEP_PAGE,
    ).text
    assert "solution/app/main.py" in hooks.on_page_markdown(page, _page(STEP_PAGE), None, None)
    monkeypatch.setenv("COURSE_DOCS_NO_SOLUTIONS", "1")
    markdown = hooks.on_page_markdown(page, _page(STEP_PAGE), None, None)
    assert "solution/app/main.py" not in markdown
    assert "- `app/core/database.py`" in markdown and "After." in markdown
