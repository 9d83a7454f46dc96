"""Security events: one structured log record per event an operator must be able to find.

A failed login, a reused refresh token, a logout, a password change, an admin's
change to a user: each is one Loguru record whose `extra` holds `event`,
`outcome`, `user_id`, `actor_id`, `client` and (from the request-id middleware)
`request_id`, so JSON lines carry them as fields and one query finds them.

A record names people by their ids only: never an email, a password, a hash or a
token. A failed login for an unknown email has no user id and logs its outcome
alone; the email is not logged, not even hashed (a keyed hash of an email is still
personal data, and anyone holding the key can confirm a guessed address).

The services do not see the request, so the client's address reaches them through
a context variable that the request-id middleware sets for each request.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum

from loguru import logger

NO_CLIENT = "-"

_client: ContextVar[str] = ContextVar("client", default=NO_CLIENT)


class SecurityEvent(StrEnum):
    """What happened. Throttling will log `LOGIN_THROTTLED` when it refuses a login:
    `security_event(SecurityEvent.LOGIN_THROTTLED, outcome="throttled", user_id=...)`,
    with the user id only if the throttled email has an account."""

    LOGIN_FAILED = "login_failed"
    LOGIN_THROTTLED = "login_throttled"
    REFRESH_REUSED = "refresh_reused"
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 (an event name)
    USER_UPDATED = "user_updated"
    USER_DELETED = "user_deleted"


# Refusals and attacks are warnings; what a user or an admin did is information.
WARNING_EVENTS = frozenset(
    {SecurityEvent.LOGIN_FAILED, SecurityEvent.LOGIN_THROTTLED, SecurityEvent.REFRESH_REUSED}
)


def get_client() -> str:
    """Return the address of the client being served ("-" outside a request)."""
    return _client.get()


@contextmanager
def client_address(host: str | None) -> Iterator[None]:
    """Make `host` the client address of the security events logged inside the block."""
    previous = _client.set(host if host else NO_CLIENT)
    try:
        yield
    finally:
        _client.reset(previous)


def _as_text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def security_event(
    event: SecurityEvent,
    *,
    outcome: str,
    user_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    changes: list[str] | None = None,
) -> None:
    """Log one security event with its fields in the record's `extra`.

    `outcome` says how it ended ("wrong_password", "ended", "refused", ...);
    `user_id` is whom it concerns, `actor_id` who did it when that is someone else
    (an admin); `changes` names the fields an admin changed, never their values.
    """
    level = "WARNING" if event in WARNING_EVENTS or outcome == "refused" else "INFO"
    bound = logger.bind(
        event=str(event),
        outcome=outcome,
        user_id=_as_text(user_id),
        actor_id=_as_text(actor_id),
        client=get_client(),
    )
    if changes:
        bound = bound.bind(changes=" ".join(changes))
    bound.opt(depth=1).log(
        level, "security: {} ({}) user {} by {}", event, outcome, user_id or "-", actor_id or "-"
    )
