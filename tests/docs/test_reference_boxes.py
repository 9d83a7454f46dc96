"""Reference answers sit in collapsed boxes, and a graded class gets a site without them."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from course.checkpoints import STEPS
from course.manifest import REPO_ROOT, load_manifest
from course.reference_boxes import INCLUDE, strip_boxes, unboxed_includes
from tests.docs.conftest import build_site

DOCS = REPO_ROOT / "docs"
MANIFEST = load_manifest()
PAGES = sorted(DOCS.rglob("*.md"))
INCLUDED = re.compile(r'--8<-- "(solution/[^":]+)')


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_reference_answer_sits_in_a_collapsed_box(page: Path) -> None:
    lines = unboxed_includes(page.read_text(encoding="utf-8"))
    assert not lines, (
        f"{page.relative_to(REPO_ROOT)}, lines {lines}: solution code shown in the open; put it in "
        '??? success "Reference solution: …" (collapsed)'
    )


def test_an_open_include_is_found_and_a_nested_one_is_boxed() -> None:
    page = """Text.

```python
--8<-- "solution/app/a.py"
```

??? success "Reference solution: b"

    === "b.py"

        ```python
        --8<-- "solution/app/b.py"
        ```

???+ success "Reference solution: c"
    --8<-- "solution/app/c.py"
"""
    assert unboxed_includes(page) == [4, 16]


def test_stripping_leaves_a_note_and_the_text_after_the_box() -> None:
    page = """Before.

??? success "Reference solution: b"

    === "b.py"

        --8<-- "solution/app/b.py"

After.
"""
    stripped = strip_boxes(page)
    assert "Before." in stripped and "After." in stripped
    assert not INCLUDE.search(stripped) and "solution/app/b.py" not in stripped
    assert 'Reference solution"' in stripped


def handed_out(source: str) -> set[str]:
    """The lines of a solution file its learner is given: in the checkpoints of the steps
    that write it (later checkpoints hold the reference's answer as done work)."""
    relative = source.removeprefix("solution/")
    given: set[str] = set()
    for step in MANIFEST.steps:
        path = STEPS / step.slug / relative
        if step.declares(relative) and path.is_file():
            given |= {line.strip() for line in path.read_text(encoding="utf-8").splitlines()}
    return given


def reference_lines() -> set[str]:
    """Lines only the reference has, of every solution file a page includes."""
    lines = set()
    for page in PAGES:
        for source in INCLUDED.findall(page.read_text(encoding="utf-8")):
            given = handed_out(source)
            text = (REPO_ROOT / source).read_text(encoding="utf-8")
            lines |= {
                line.strip()
                for line in text.splitlines()
                if len(line.strip()) >= 24 and line.strip() not in given
            }
    return lines


def test_the_site_without_solutions_holds_no_reference_code(tmp_path: Path) -> None:
    pytest.importorskip("material", reason="mkdocs-material is not installed (group docs)")
    code, log = build_site(tmp_path / "site", {"COURSE_DOCS_NO_SOLUTIONS": "1"})
    assert code == 0, log[-3000:]
    secret = reference_lines()
    assert len(secret) > 50, "the check needs reference lines to look for"
    leaks = []
    for page in (tmp_path / "site").rglob("*.html"):
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))
        present = {line.strip() for line in text.splitlines()}
        leaks += [f"{page.relative_to(tmp_path)}: {line}" for line in sorted(secret & present)]
    assert not leaks, "reference code in the site without solutions:\n" + "\n".join(leaks[:20])
    step_page = (tmp_path / "site" / "steps" / "06-security-services" / "index.html").read_text()
    assert "Not in this edition of the course site" in step_page
