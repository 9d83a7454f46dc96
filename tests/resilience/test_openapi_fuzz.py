"""Schemathesis against the solution's own OpenAPI schema, with an admin's token.

Every operation in the schema gets generated requests (valid and invalid ones); no
answer may be a 5xx, and every answer must match the schema the API publishes.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.resilience.conftest import API, InProcessApi

# Bounded so the whole test stays well under a minute: several operations hash a
# password (Argon2id, tens of ms each) on every example.
MAX_EXAMPLES = 15


def test_every_operation_answers_without_5xx_and_as_its_schema_says(api: InProcessApi) -> None:
    schema = schemathesis.openapi.from_asgi(f"{API}/openapi.json", api.app)
    # Logging out ends the admin's session: every operation after it would only
    # ever see 401, so it goes last.
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()),
        key=lambda operation: operation.label.endswith("/auth/logout"),
    )
    assert len(operations) >= 12, [op.label for op in operations]
    failures: dict[str, str] = {}
    exercised: set[str] = set()
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,  # no .hypothesis/ folder in the repository
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],  # report, do not shrink: time-bounded
        )
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=api.admin_headers,
                checks=[not_a_server_error, response_schema_conformance],
            )
            exercised.add(case.operation.label)

        try:
            exercise()
        except Exception as exc:  # one failing operation must not hide the others
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
    assert exercised == {op.label for op in operations}
