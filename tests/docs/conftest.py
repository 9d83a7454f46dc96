"""The course site, built once per test run and shared by the docs tests.

`mkdocs build --strict` writes it to a temporary folder; the HTML tests read the files,
the browser tests load them from a local HTTP server. Under xdist the workers share
one build: the first to need it builds it, the others wait for it.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from course.manifest import REPO_ROOT
from tests.browser import serve_directory


class Site:
    def __init__(self, root: Path, log: str) -> None:
        self.root = root
        self.log = log

    def page(self, source: str) -> Path:
        """The built HTML of a Markdown page (`steps/03-….md` → `steps/03-…/index.html`)."""
        return self.root / self.url(source) / "index.html"

    @staticmethod
    def url(source: str) -> str:
        """A page's address relative to the site root (`index.md` → ``, `setup.md` → `setup/`)."""
        stem = source.removesuffix(".md")
        return "" if stem == "index" else f"{stem}/"


def build_site(out: Path, extra_env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `mkdocs build --strict` into `out`; return its exit code and its log."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **(extra_env or {})},
        timeout=300,
    )
    return result.returncode, result.stderr


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    pytest.importorskip("material", reason="mkdocs-material is not installed (group docs)")
    if "PYTEST_XDIST_WORKER" not in os.environ:
        out = tmp_path_factory.mktemp("site")
        code, log = build_site(out)
    else:
        # The parent of a worker's temporary folder belongs to this run's workers alone.
        shared = tmp_path_factory.getbasetemp().parent
        out, outcome = shared / "site", shared / "site-build.json"
        with (shared / "site-build.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not outcome.exists():
                outcome.write_text(json.dumps(build_site(out)))
            code, log = json.loads(outcome.read_text())
    assert code == 0, f"mkdocs build --strict failed:\n{log}"
    return Site(out, log)


@pytest.fixture(scope="session")
def site_url(site: Site) -> Iterator[str]:
    """The built site, served over HTTP on a free local port (its base URL, with `/`)."""
    with serve_directory(site.root) as url:
        yield url
