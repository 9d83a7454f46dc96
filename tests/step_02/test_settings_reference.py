"""Step 2, D4: what the settings reference (docs/reference/settings.md) says of the settings.

The defaults the specification fixes, a port's bounds, case-sensitive names, and the
values a setting refuses: an origin that is not http(s)://host[:port], a prefix that does
not start with `/` or ends with one (unless it is corrected). Each check builds
`Settings` in a clean environment (`clean_env`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.step_02.conftest import plain

# The defaults the settings reference lists (the checks of test_settings.py cover the rest).
# Those the specification fixes; the names of the issuer and audience, the leeway, the
# session lifetime and the hashing queue are the learner's to choose.
REFERENCE_DEFAULTS: dict[str, Any] = {
    "PORT": 8000, "WORKERS": 1, "RELOAD": False,
    "DB_ECHO": False, "DB_POOL_SIZE": 5, "DB_MAX_OVERFLOW": 10, "DB_POOL_TIMEOUT": 30,
    "JWT_ACCESS_TOKEN_EXPIRE_MINUTES": 30, "JWT_REFRESH_TOKEN_EXPIRE_DAYS": 7,
    "CORS_ALLOW_CREDENTIALS": True, "LOGIN_MAX_FAILURES": 5, "LOGIN_FAILURE_WINDOW_MINUTES": 15,
}  # fmt: skip

# The bounds of a port: (value, accepted).
PORT_BOUNDS = [("0", False), ("1", True), ("65535", True), ("65536", False)]


def build() -> Any:
    """`Settings()` from the current environment, with no .env file."""
    from app.core.config import Settings

    return Settings(_env_file=None)


def refusal(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> str | None:
    """The error text if `name=value` in the environment is refused, else None.

    The settings module is imported first, outside the `try`: code that does not import
    fails the check with its own error, not as a refusal of the value.
    """
    from app.core.config import Settings

    monkeypatch.setenv(name, value)
    try:
        Settings(_env_file=None)
    except Exception as exc:  # ValidationError, or pydantic-settings' SettingsError
        return str(exc)
    finally:
        monkeypatch.delenv(name)
    return None


@pytest.mark.grade("D4", 2)
def test_defaults_are_those_of_the_settings_reference(clean_env: Path) -> None:
    settings = build()
    wrong = []
    for name, expected in REFERENCE_DEFAULTS.items():
        value = plain(getattr(settings, name, None))
        # 30 and 30.0 are one default; True and 1 are not.
        if (value, isinstance(value, bool)) != (expected, isinstance(expected, bool)):
            wrong.append(f"{name} = {value!r} (the reference says {expected!r})")
    assert not wrong, "expected the defaults of docs/reference/settings.md, found: " + "; ".join(
        wrong
    )


@pytest.mark.grade("D4", 1)
def test_port_is_1_to_65535(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = []
    for value, accepted in PORT_BOUNDS:
        error = refusal(monkeypatch, "PORT", value)
        if (error is None) is not accepted:
            wrong.append(f"PORT={value} was {'refused' if error else 'accepted'}")
        elif error is not None and "PORT" not in error:
            wrong.append(f"the error for PORT={value} does not name PORT")
    assert not wrong, "expected PORT to be 1 to 65535 (Field(ge=1, le=65535)), found: " + "; ".join(
        wrong
    )


@pytest.mark.grade("D4", 1)
def test_setting_names_are_case_sensitive(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("port", "9000")
    port = build().PORT
    assert port == 8000, (
        f"expected `port=9000` (lower case) to leave PORT at its default, found PORT={port}: "
        "the reference says names are case-sensitive (case_sensitive=True)"
    )


ORIGINS = {
    "https://app.example.com": True,
    "http://localhost:3000": True,
    "*": True,
    "https://app.example.com/": False,  # a path, even a trailing /
    "https://app.example.com/login": False,
    "app.example.com": False,  # no scheme
    "ftp://files.example.com": False,
    "https://*.example.com": False,  # a wildcard inside an origin
    "https://user@app.example.com": False,  # credentials
    "https://user:secret@app.example.com": False,
    '"https://app.example.com"': False,  # quoted, as a comma-separated list may carry it
}


@pytest.mark.grade("D4", 1)
@pytest.mark.parametrize("origin", list(ORIGINS))
def test_each_cors_origin_is_validated_naming_the_setting(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, origin: str
) -> None:
    error = refusal(monkeypatch, "CORS_ORIGINS", json.dumps([origin]))
    if ORIGINS[origin]:
        assert error is None, (
            f'expected CORS_ORIGINS=["{origin}"] to be accepted, found: {error[:300]}'
        )
        return
    assert error is not None, (
        f'expected CORS_ORIGINS=["{origin}"] to be refused: an origin is `*` or '
        "http(s)://host[:port], with no path, wildcard or user@ (a browser never sends "
        "anything else in Origin, so the entry would silently match nothing)"
    )
    assert "CORS_ORIGINS" in error, f"expected the error to name CORS_ORIGINS, found: {error}"


@pytest.mark.grade("D4", 1)
@pytest.mark.parametrize("prefix", ["api/v1", "/api/v1/"])
def test_api_prefix_in_use_starts_with_a_slash_and_does_not_end_with_one(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    error = refusal(monkeypatch, "API_V1_PREFIX", prefix)
    if error is not None:
        assert "API_V1_PREFIX" in error, f"expected the error to name API_V1_PREFIX: {error}"
        return
    monkeypatch.setenv("API_V1_PREFIX", prefix)
    used = build().API_V1_PREFIX
    assert used.startswith("/") and not used.endswith("/"), (
        f"expected API_V1_PREFIX={prefix} to be refused, or corrected to start with / and "
        f"not end with one (routes would be {used}/users), found {used!r}"
    )
