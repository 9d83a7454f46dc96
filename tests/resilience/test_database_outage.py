"""The database goes away under a running server, then comes back.

A throwaway cluster (initdb + pg_ctl as the postgres user) is stopped while uvicorn
serves the solution on it: readiness must turn 503 within a second, every request
must get an error envelope (503 expected) and no write may answer 2xx; once the
cluster is back the same server process must serve again, with no restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from course.pgcluster import Cluster, throwaway_cluster, unavailable_reason
from tests.resilience.conftest import API, Server, assert_error_envelope, login, prepare

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A cluster of this test's own, on a free port."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"no throwaway PostgreSQL cluster: {reason}")
    with throwaway_cluster() as started:
        yield started


def requests_while_down(token: str) -> list[tuple[str, str, dict[str, object]]]:
    """One request of every kind: (method, path, httpx keyword arguments)."""
    auth = {"Authorization": f"Bearer {token}"}
    return [
        ("GET", "/users/me", {"headers": auth}),
        ("GET", "/users?limit=20", {"headers": auth}),
        ("GET", "/users/00000000-0000-4000-8000-000000000000", {"headers": auth}),
        ("PATCH", "/users/me", {"headers": auth, "json": {"full_name": "Renamed"}}),
        ("POST", "/users", {"headers": auth, "json": {"email": "new@example.com",
                                                      "password": "long-enough-pw",
                                                      "full_name": "New", "role": "user"}}),
        ("POST", "/auth/register", {"json": {"email": "reg@example.com",
                                             "password": "long-enough-pw", "full_name": "Reg"}}),
        ("POST", "/auth/login", {"data": {"username": "admin@example.com", "password": "x" * 8}}),
    ]  # fmt: skip


def test_outage_gives_503_envelopes_and_the_api_recovers_without_restart(
    cluster: Cluster, serve: Callable[[str], Server]
) -> None:
    prepare(cluster.url)
    server = serve(cluster.url)
    with httpx.Client(base_url=server.base_url + API, timeout=10) as client:
        token = login(client)
        assert client.get("/health/ready").status_code == 200

        cluster.stop()
        stopped = time.monotonic()
        while (ready := client.get("/health/ready")).status_code != 503:
            assert time.monotonic() - stopped < 1, f"still {ready.status_code} after 1 s"
            time.sleep(0.05)
        assert time.monotonic() - stopped < 1
        assert_error_envelope(ready)

        wrong = []
        for method, path, kwargs in requests_while_down(token):
            response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
            if response.status_code != 503:
                wrong.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
                assert not (method != "GET" and response.is_success), "a write answered 2xx"
                continue
            assert_error_envelope(response)
        assert client.get("/health").status_code == 200, "liveness needs no database"
        assert not wrong, "expected the 503 envelope while the database is down:\n" + "\n".join(
            wrong
        )

        cluster.start()
        deadline = time.monotonic() + 10
        while client.get("/health/ready").status_code != 200:
            assert time.monotonic() < deadline, "not ready 10 s after the database returned"
            time.sleep(0.1)
        assert client.get("/users/me", headers={"Authorization": f"Bearer {token}"}).is_success
        assert server.process.poll() is None, "the server must recover without a restart"
