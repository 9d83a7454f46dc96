"""Step 7, D16: the OpenAPI schema names every error an endpoint answers.

FastAPI documents what an endpoint returns and the 422 of its validation; it cannot see
the exceptions a dependency or a service raises. A route declares those in
`responses=` (on the route, or on its router for every route of it), with the error
envelope as the model, so that a client generated from the schema handles them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from course.grading.fixtures import API

# What each route answers besides its success and its 422, as the step 7 page lists them.
REFUSALS: dict[tuple[str, str], set[int]] = {
    ("post", "/auth/register"): {409, 503},
    ("post", "/auth/login"): {401, 403, 429, 503},
    ("post", "/auth/refresh"): {401},
    ("post", "/auth/logout"): {401},
    ("get", "/users/me"): {401},
    ("patch", "/users/me"): {400, 401},
    ("post", "/users"): {401, 403, 409},
    ("get", "/users"): {401, 403},
    ("get", "/users/{}"): {401, 403, 404},
    ("patch", "/users/{}"): {400, 401, 403, 404, 409},
    ("delete", "/users/{}"): {400, 401, 403, 404, 409},
}
PARAMETER = re.compile(r"\{[^}]*\}")


def operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The schema's operations by (method, path below the API prefix, `{}` for a parameter),
    so that `{user_id}` and `{id}` are the same route."""
    found = {}
    for path, item in schema.get("paths", {}).items():
        if not path.startswith(API):
            continue
        for method, operation in item.items():
            found[(method, PARAMETER.sub("{}", path[len(API) :]))] = operation
    return found


def envelope_model(response: dict[str, Any]) -> str | None:
    """The name of the model a documented response refers to, if any."""
    reference = response.get("content", {}).get("application/json", {}).get("schema", {})
    name = str(reference.get("$ref", "")).rsplit("/", 1)[-1]
    return name or None


@pytest.mark.grade("D16", 2)
def test_every_refusal_of_the_api_is_in_the_openapi_schema() -> None:
    from app.main import create_app

    # The schema itself, whether or not this configuration serves it.
    schema = create_app().openapi()
    found = operations(schema)
    for (method, path), codes in REFUSALS.items():
        route = f"{method.upper()} {path.replace('{}', '{id}')}"
        assert (method, path) in found, (
            f"expected the route {route} in the OpenAPI schema, found none"
        )
        documented = found[(method, path)].get("responses", {})
        missing = sorted(code for code in codes if str(code) not in documented)
        assert not missing, (
            f"expected {route} to document its {missing} answers, found only "
            f"{sorted(documented)}: FastAPI does not see the exceptions a dependency or a "
            "service raises; declare them in responses= on the route (or on its router), "
            'e.g. responses={404: {"model": ErrorResponse, "description": "No such user"}}'
        )
        untyped = sorted(code for code in codes if envelope_model(documented[str(code)]) is None)
        assert not untyped, (
            f"expected {route} to document its {untyped} answers with the error envelope as "
            'their model ({"model": ErrorResponse, ...}), found no model: a client generated '
            "from the schema then cannot read the envelope"
        )
