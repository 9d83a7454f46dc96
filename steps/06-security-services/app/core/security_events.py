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
    """What happened. `LOGIN_THROTTLED` carries no user id: the throttle refuses
    before the email is looked up, so that its timing tells nothing about accounts."""

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
    # TODO(step 6): set the context variable _client to host (NO_CLIENT if None), yield, and reset it with the token in a finally
    raise NotImplementedError


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
    # TODO(step 6): logger.bind(event=..., outcome=..., user_id=str or None, actor_id=str or None, client=get_client()).opt(depth=1).log(WARNING for failures and refusals, INFO otherwise, a short message naming the event, the outcome and the ids): ids only, never an email, password, hash or token
    raise NotImplementedError
