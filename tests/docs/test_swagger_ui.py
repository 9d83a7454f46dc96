"""The API's Swagger UI in headless Chromium: every operation listed, a login that works.

The reference API runs as `nox -s serve` runs it (migrations, the seed script that
creates the first admin, uvicorn), on a temporary SQLite file and a free port. The
browser opens /docs, logs the admin in through the **Authorize** dialog (the OAuth2
password form), then runs GET /users/me with **Try it out**.

FastAPI's /docs page loads Swagger UI from a CDN and its icon from FastAPI's site. The
tests have no network, so the browser is handed the same files from the fastapi-offline
package (dependency group browser) instead; every other request goes to the API, and
any failure or console error fails the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from course.manifest import REPO_ROOT
from tests.browser import BrowserPage
from tests.solution_server import uvicorn_solution

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (dependency group browser)"
)
fastapi_offline = pytest.importorskip(
    "fastapi_offline", reason="fastapi-offline is not installed (dependency group browser)"
)
expect = sync_api.expect

SOLUTION = REPO_ROOT / "solution"
SWAGGER_FILES = Path(fastapi_offline.__file__).parent / "static"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "swagger-ui-admin-password"


@dataclass
class Api:
    base_url: str
    schema: dict[str, Any]

    @property
    def operations(self) -> int:
        methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
        return sum(len(methods & item.keys()) for item in self.schema["paths"].values())

    @property
    def token_url(self) -> str:
        schemes = self.schema["components"]["securitySchemes"].values()
        return next(s["flows"]["password"]["tokenUrl"] for s in schemes if s["type"] == "oauth2")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The reference API in DEBUG (so /docs is served), migrated and seeded, on uvicorn."""
    folder = tmp_path_factory.mktemp("swagger-ui")
    env = {
        **os.environ,
        "PYTHONPATH": str(SOLUTION),
        "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'api.db'}",
        "DEBUG": "true",
        "ENVIRONMENT": "testing",
        "LOG_LEVEL": "WARNING",
        "FIRST_ADMIN_EMAIL": ADMIN_EMAIL,
        "FIRST_ADMIN_PASSWORD": ADMIN_PASSWORD,
    }

    def run(*args: str) -> None:
        done = subprocess.run([sys.executable, *args], cwd=SOLUTION, env=env, text=True,
                              capture_output=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, f"python {' '.join(args)} failed:\n{done.stderr}"

    run("-m", "alembic", "upgrade", "head")
    with uvicorn_solution(env, folder) as server:
        run("-m", "scripts.seed")  # while uvicorn starts
        schema = server.wait_until_answering("/api/v1/openapi.json", 60).json()
        yield Api(server.base_url, schema)


def answer_from_the_package(route: Any) -> None:
    """Serve a file asked of another host (the CDN) from fastapi-offline's copy, by name."""
    local = SWAGGER_FILES / route.request.url.split("?")[0].rsplit("/", 1)[-1]
    if local.is_file():
        route.fulfill(path=local)
    else:
        route.abort()  # recorded as a failed request


def test_swagger_ui_lists_the_api_and_logs_the_admin_in(
    api: Api, browser_page: BrowserPage
) -> None:
    page = browser_page.page
    page.context.route(lambda url: not url.startswith(api.base_url), answer_from_the_package)
    page.goto(f"{api.base_url}/docs")

    title = api.schema["info"]["title"]
    expect(page).to_have_title(f"{title} - Swagger UI")
    expect(page.locator(".information-container .title")).to_contain_text(title)
    expect(page.locator(".opblock")).to_have_count(api.operations)

    # Authorize: the OAuth2 password form, sent to the token URL.
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".modal-ux")
    dialog.locator("#oauth_username").fill(ADMIN_EMAIL)
    dialog.locator("#oauth_password").fill(ADMIN_PASSWORD)
    with page.expect_response(f"{api.base_url}{api.token_url}") as login:
        dialog.locator("button.authorize").click()
    assert login.value.status == 200, login.value.text()
    expect(dialog).to_contain_text("Authorized")
    expect(dialog.locator("button", has_text="Logout")).to_be_visible()
    dialog.locator("button", has_text="Close").click()
    expect(dialog).to_have_count(0)

    # Try it out: GET /users/me answers 200 with the token the dialog obtained.
    me = page.locator(".opblock-get", has=page.locator('[data-path="/api/v1/users/me"]'))
    me.locator(".opblock-summary").click()
    me.locator("button.try-out__btn").click()
    with page.expect_response(f"{api.base_url}/api/v1/users/me") as answer:
        me.locator("button.execute").click()
    assert answer.value.status == 200, answer.value.text()
    assert answer.value.request.headers.get("authorization", "").startswith("Bearer ")
    result = me.locator(".live-responses-table tbody tr").first
    expect(result.locator(".response-col_status")).to_have_text("200")
    expect(result).to_contain_text(ADMIN_EMAIL)

    page.wait_for_load_state("networkidle")
    assert browser_page.problems == [], browser_page.problems
