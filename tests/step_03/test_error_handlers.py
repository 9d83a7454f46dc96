"""Step 3, D17 (error handlers): every error answers one JSON envelope
`{message, detail, status_code}` (the request id joins it in step 7).

The learner's `create_app()` gets throwaway routes that raise; the client sees what a
real server would send, even when an exception escapes the app. The lifespan is not
run: error handling needs no database.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from course.grading.fixtures import API, http_scope
from course.grading.learner_code import Snapshot
from tests.step_03.conftest import assert_envelope

LEAKED_VALUE = "LEAKED-VALUE-123"
INTERNALS = "secret internals of the grading crash"


class ProbeBody(BaseModel):
    """A request body for the validation checks."""

    count: int
    label: str


async def validate_probe(body: ProbeBody) -> dict[str, str]:
    return {"label": body.label}


# (path, exception to raise as (class name, args), status, message, detail)
RAISING = {
    "not found": ("/grading/not-found", ("NotFoundException", ("Widget", 7)), 404,
                  "Widget with id '7' not found", None),
    "conflict": ("/grading/conflict", ("ConflictException", ("Taken",)), 409, "Taken", None),
    "custom status and detail": ("/grading/teapot",
                                 ("AppException", ("Teapot", 418, "tea detail")), 418, "Teapot",
                                 "tea detail"),
}  # fmt: skip


def operational_error() -> Exception:
    from sqlalchemy.exc import OperationalError

    return OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


def interface_error() -> Exception:
    from sqlalchemy.exc import InterfaceError

    return InterfaceError("SELECT 1", {}, ConnectionResetError("connection closed"))


def pool_timeout() -> Exception:
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    return PoolTimeout("QueuePool limit of size 5 overflow 10 reached")


# The exceptions' own texts, which the client must not see.
DATABASE_DOWN_TEXTS = ("connection refused", "connection closed", "timed out", "QueuePool")
# What an unreachable database raises, as the step 3 page lists it: each is a 503.
DATABASE_DOWN: dict[str, Callable[[], Exception]] = {
    "ConnectionError": lambda: ConnectionRefusedError("connection refused"),
    "TimeoutError": lambda: TimeoutError("timed out"),
    "OperationalError": operational_error,
    "InterfaceError": interface_error,
    "sqlalchemy.exc.TimeoutError": pool_timeout,
}


def raiser(make: Callable[[], Exception]) -> Any:
    """An endpoint raising `make()` (built per request: a missing class fails one check)."""

    async def endpoint() -> None:
        raise make()

    return endpoint


@pytest.fixture(scope="module")
async def error_client(learner_snapshot: Snapshot) -> AsyncIterator[httpx.AsyncClient]:
    """The learner's app plus routes that raise, crash and validate (one for the module)."""
    from app.core import exceptions
    from app.main import create_app

    application = create_app()
    for path, (name, args), *_ in RAISING.values():
        make = functools.partial(lambda n, a: getattr(exceptions, n)(*a), name, args)
        application.add_api_route(path, raiser(make), methods=["GET"])
    application.add_api_route(
        "/grading/crash", raiser(lambda: RuntimeError(INTERNALS)), methods=["GET"]
    )
    application.add_api_route("/grading/validate", validate_probe, methods=["POST"])
    for name, make in DATABASE_DOWN.items():
        application.add_api_route(f"/grading/database-down/{name}", raiser(make), methods=["GET"])
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://grader") as client:
        yield client


@pytest.mark.grade("D17-errors", 1)
@pytest.mark.parametrize("case", list(RAISING))
async def test_app_exception_answers_its_status_in_the_envelope(
    error_client: httpx.AsyncClient, case: str
) -> None:
    path, (name, args), status, message, detail = RAISING[case]
    what = f"a route raising {name}{args}"
    body = assert_envelope(await error_client.get(path), status, what)
    assert (body["message"], body["detail"]) == (message, detail), (
        f"expected {what} to answer message={message!r}, detail={detail!r}, "
        f"found message={body['message']!r}, detail={body['detail']!r}"
    )


@pytest.mark.grade("D17-errors", 2)
async def test_unhandled_error_is_a_500_envelope_without_internals(
    error_client: httpx.AsyncClient,
) -> None:
    response = await error_client.get("/grading/crash")
    assert_envelope(response, 500, "a route raising RuntimeError")
    for leak in (INTERNALS, "RuntimeError", "Traceback"):
        assert leak not in response.text, (
            f"expected the 500 answer to hide the error's internals, found {leak!r} in it"
        )


@pytest.mark.grade("D17-errors", 1)
async def test_unknown_route_is_a_404_envelope(error_client: httpx.AsyncClient) -> None:
    response = await error_client.get(f"{API}/no-such-route")
    assert_envelope(response, 404, f"GET {API}/no-such-route")


@pytest.mark.grade("D17-errors", 1)
async def test_wrong_method_is_a_405_envelope(error_client: httpx.AsyncClient) -> None:
    response = await error_client.delete(f"{API}/health")
    assert_envelope(response, 405, f"DELETE {API}/health")


@pytest.mark.grade("D17-errors", 1)
async def test_validation_error_is_a_422_envelope_listing_the_errors(
    error_client: httpx.AsyncClient,
) -> None:
    response = await error_client.post("/grading/validate", json={"label": "x"})
    body = assert_envelope(response, 422, "a body missing a required field")
    assert isinstance(body["detail"], list) and body["detail"], (
        "expected the 422 envelope's detail to list the validation errors, "
        f"found {body['detail']!r}"
    )


@pytest.mark.grade("D17-errors", 2)
async def test_validation_error_does_not_echo_the_rejected_input(
    error_client: httpx.AsyncClient,
) -> None:
    response = await error_client.post(
        "/grading/validate", json={"count": LEAKED_VALUE, "label": "x"}
    )
    assert_envelope(response, 422, "a body with a field of the wrong type")
    assert LEAKED_VALUE not in response.text, (
        "expected the 422 answer not to echo the rejected input (it may be a password), "
        f"found {LEAKED_VALUE!r} in it: keep only loc, msg and type of each error"
    )


@pytest.mark.grade("D17-errors", 1)
@pytest.mark.parametrize("name", list(DATABASE_DOWN))
async def test_an_unreachable_database_is_a_503_envelope(
    error_client: httpx.AsyncClient, name: str
) -> None:
    response = await error_client.get(f"/grading/database-down/{name}")
    what = f"a route raising {name} (the database is unreachable)"
    assert response.status_code == 503, (
        f"expected {what} to answer 503, found {response.status_code}: register "
        "database_unavailable_handler for every exception of DATABASE_UNAVAILABLE"
    )
    assert_envelope(response, 503, what)
    for internal in DATABASE_DOWN_TEXTS:
        assert internal not in response.text, (
            f"expected the 503 answer to {what} to hide the exception's text, found "
            f"{internal!r} in it: the details go to the log only"
        )


async def streams_then_fails() -> Any:
    """An answer that starts (status and headers sent), then fails before its body."""
    from starlette.responses import StreamingResponse

    async def body() -> AsyncIterator[bytes]:
        raise RuntimeError(INTERNALS)
        yield b""  # pragma: no cover (makes this a generator)

    return StreamingResponse(body())


@pytest.mark.grade("D17-errors", 1)
async def test_an_error_after_the_answer_started_sends_no_second_answer() -> None:
    from app.main import create_app

    application = create_app()
    application.add_api_route("/grading/stream-crash", streams_then_fails, methods=["GET"])
    scope = http_scope("GET", "/grading/stream-crash")
    sent: list[Any] = []

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # as a server does: nothing until the client leaves
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    with contextlib.suppress(Exception):  # raised again for the server: that is right
        await application(scope, receive, send)
    statuses = [
        message.get("status") for message in sent if message["type"] == "http.response.start"
    ]
    assert statuses == [200], (
        "expected a route whose streamed answer fails after its status line went out (200) "
        f"to get no second answer, found the answers {statuses} started: a status line "
        "cannot be taken back. In UnhandledErrorMiddleware note when http.response.start "
        "goes out (wrap send), and then raise the exception again instead of answering 500"
    )
