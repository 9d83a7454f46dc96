"""Step 2, D4: `Settings` (pydantic-settings), cached `get_settings()`, module `settings`.

Each check builds `Settings(...)` itself in a clean environment (see `clean_env`):
the grader's own variables are removed, and the working directory is empty.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.step_02.conftest import SETTING_GROUPS, freshly_imported_app, plain, secret_value

# Exactly 32 characters, the shortest a secret may be; they sort before any default that
# starts with a letter after "a", so a comparison written with <= instead of == shows.
GOOD_ACCESS_SECRET = "a-grading-access-secret-" + "a" * 8
GOOD_REFRESH_SECRET = "a-grading-refresh-secret" + "b" * 8
GOOD_ADMIN_PASSWORD = "a-grading-admin-password-1234567890"


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_secret(value: Any) -> bool:
    return isinstance(secret_value(value), str) and secret_value(value) != ""


def is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# What each setting must hold when it comes from the defaults: its kind.
KINDS: dict[str, tuple[str, Any]] = {
    "PROJECT_NAME": ("a non-empty string", lambda v: isinstance(v, str) and v != ""),
    "PROJECT_DESCRIPTION": ("a string", lambda v: isinstance(v, str)),
    "VERSION": ("a non-empty string", lambda v: isinstance(v, str) and v != ""),
    "DEBUG": ("a bool", lambda v: isinstance(v, bool)),
    "ENVIRONMENT": ("a string", lambda v: isinstance(plain(v), str)),
    "API_V1_PREFIX": ("a string", lambda v: isinstance(v, str)),
    "HOST": ("a string", lambda v: isinstance(v, str) and v != ""),
    "PORT": ("an int", is_int),
    "WORKERS": ("a positive int", lambda v: is_int(v) and v >= 1),
    "RELOAD": ("a bool", lambda v: isinstance(v, bool)),
    "DATABASE_URL": ("a URL", lambda v: "://" in str(v)),
    "DB_ECHO": ("a bool", lambda v: isinstance(v, bool)),
    "DB_POOL_SIZE": ("a positive int", lambda v: is_int(v) and v >= 1),
    "DB_MAX_OVERFLOW": ("an int", is_int),
    "DB_POOL_TIMEOUT": ("a number", lambda v: isinstance(v, int | float) and v > 0),
    "JWT_SECRET_KEY": ("a non-empty string (or SecretStr)", is_secret),
    "JWT_REFRESH_SECRET_KEY": ("a non-empty string (or SecretStr)", is_secret),
    "JWT_ALGORITHM": ("a string", lambda v: isinstance(plain(v), str)),
    "JWT_ACCESS_TOKEN_EXPIRE_MINUTES": ("a positive int", lambda v: is_int(v) and v >= 1),
    "JWT_REFRESH_TOKEN_EXPIRE_DAYS": ("a positive int", lambda v: is_int(v) and v >= 1),
    "JWT_ISSUER": ("a non-empty string", lambda v: isinstance(v, str) and v != ""),
    "JWT_AUDIENCE": ("a non-empty string", lambda v: isinstance(v, str) and v != ""),
    "JWT_LEEWAY_SECONDS": ("an int of 0 or more", lambda v: is_int(v) and v >= 0),
    "SESSION_LIFETIME_DAYS": ("a positive int", lambda v: is_int(v) and v >= 1),
    "CORS_ORIGINS": ("a list of strings", is_str_list),
    "CORS_ALLOW_CREDENTIALS": ("a bool", lambda v: isinstance(v, bool)),
    "CORS_ALLOW_METHODS": ("a list of strings", is_str_list),
    "CORS_ALLOW_HEADERS": ("a list of strings", is_str_list),
    "LOG_LEVEL": ("a string", lambda v: isinstance(plain(v), str)),
    "LOG_FORMAT": ("a string", lambda v: isinstance(plain(v), str)),
    "MAX_REQUEST_BODY_BYTES": ("a positive int", lambda v: is_int(v) and v >= 1),
    "HSTS_ENABLED": ("a bool", lambda v: isinstance(v, bool)),
    "LOGIN_MAX_FAILURES": ("a positive int", lambda v: is_int(v) and v >= 1),
    "LOGIN_FAILURE_WINDOW_MINUTES": ("a positive int", lambda v: is_int(v) and v >= 1),
    "HASHING_QUEUE_PER_CORE": ("a positive int", lambda v: is_int(v) and v >= 1),
}  # fmt: skip


def build(**env_file: Any) -> Any:
    """`Settings()` from the current environment; `_env_file=None` unless given."""
    from app.core.config import Settings

    return Settings(**({"_env_file": None} | env_file))


def cors_env_value(monkeypatch: pytest.MonkeyPatch, items: list[str]) -> str:
    """`items` written the way the learner's settings read a CORS list from the environment.

    Comma-separated (`a,b`) or JSON (`["a","b"]`): the first that the learner's
    `Settings` turns into `items` is used, so that the production checks do not
    cost a point again for a form that one of the two list checks already missed.
    """
    from app.core.config import Settings  # an import error is the learner's message, not ours

    candidates = [",".join(items), json.dumps(items)]
    for candidate in candidates:
        monkeypatch.setenv("CORS_ORIGINS", candidate)
        try:
            value = Settings(_env_file=None).CORS_ORIGINS
        except Exception:  # ValidationError, or pydantic-settings' SettingsError for bad JSON
            continue
        finally:
            monkeypatch.delenv("CORS_ORIGINS")
        if value == items:
            return candidate
    pytest.fail(
        f"expected CORS_ORIGINS={candidates[0]} (or {candidates[1]}) in the environment to "
        f"give the list {items}, found neither works"
    )


@pytest.mark.grade("D4", 1)
def test_config_module_provides_settings_get_settings_and_settings() -> None:
    from pydantic_settings import BaseSettings

    from app.core import config

    for name in ("Settings", "get_settings", "settings"):
        assert hasattr(config, name), f"expected app/core/config.py to define {name}, found none"
    assert isinstance(config.Settings, type) and issubclass(config.Settings, BaseSettings), (
        "expected Settings to be a class derived from pydantic_settings.BaseSettings"
    )
    assert isinstance(config.settings, config.Settings), (
        f"expected the module-level settings to be a Settings instance, "
        f"found {type(config.settings).__name__}"
    )
    assert isinstance(config.get_settings(), config.Settings), (
        "expected get_settings() to return a Settings instance"
    )
    found = str(getattr(config.settings, "DATABASE_URL", None))
    assert found == os.environ["DATABASE_URL"], (
        "expected the module-level settings to read DATABASE_URL from the environment "
        f"({os.environ['DATABASE_URL']}), found {found}"
    )


@pytest.mark.grade("D4", 1)
@pytest.mark.parametrize("group", list(SETTING_GROUPS))
def test_settings_group_has_every_setting_with_a_sensible_type(clean_env: Path, group: str) -> None:
    settings = build()
    missing = [name for name in SETTING_GROUPS[group] if not hasattr(settings, name)]
    assert not missing, f"expected Settings to have the {group} settings {missing}, found none"
    wrong = [
        f"{name} should be {KINDS[name][0]}, found {type(getattr(settings, name)).__name__} "
        f"{plain(getattr(settings, name))!r}"
        for name in SETTING_GROUPS[group]
        if not KINDS[name][1](getattr(settings, name))
    ]
    assert not wrong, "with no environment and no .env, " + "; ".join(wrong)


@pytest.mark.grade("D4", 1)
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DATABASE_URL", "sqlite+aiosqlite:///./app.db"),
        ("API_V1_PREFIX", "/api/v1"),
        ("JWT_ALGORITHM", "HS256"),
        ("MAX_REQUEST_BODY_BYTES", "1048576"),
        ("HSTS_ENABLED", "False"),
    ],
)
def test_setting_default(clean_env: Path, name: str, expected: str) -> None:
    value = plain(getattr(build(), name, None))
    assert str(value) == expected, (
        f"expected the default of {name} to be {expected!r}, found {value!r}"
    )


@pytest.mark.grade("D4", 1)
def test_environment_variables_override_defaults(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {
        "PORT": "9123",
        "DEBUG": "true",
        "DB_POOL_SIZE": "7",
        "DATABASE_URL": "postgresql+asyncpg://u:p@db:5432/grading",
        "PROJECT_NAME": "From The Environment",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = build()
    found = {name: plain(getattr(settings, name)) for name in env}
    expected = {
        "PORT": 9123,
        "DEBUG": True,
        "DB_POOL_SIZE": 7,
        "DATABASE_URL": env["DATABASE_URL"],
        "PROJECT_NAME": env["PROJECT_NAME"],
    }
    assert {k: str(v) for k, v in found.items()} == {k: str(v) for k, v in expected.items()}, (
        f"expected the environment {env} to give {expected}, found {found}"
    )
    assert found["PORT"] == 9123 and found["DEBUG"] is True, (
        f"expected PORT=9123 to become the int 9123 and DEBUG=true the bool True, found {found}"
    )


# The two ways a list comes from the environment (docs/steps/02-settings-app.md, D4).
LIST_FORMS = {"comma-separated": ",".join, "JSON array": json.dumps}


@pytest.mark.grade("D4", 1)
@pytest.mark.parametrize("form", list(LIST_FORMS))
def test_cors_lists_come_from_the_environment_comma_separated_and_as_json(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    from app.core.config import Settings  # an import error is the learner's message, not ours

    items = ["http://a.example", "http://b.example"]
    value = LIST_FORMS[form](items)
    monkeypatch.setenv("CORS_ORIGINS", value)
    try:
        found: Any = Settings(_env_file=None).CORS_ORIGINS
    except Exception as exc:  # ValidationError, or pydantic-settings' SettingsError
        found = f"the error {type(exc).__name__}: {str(exc)[:300]}"
    hint = (
        "pydantic-settings decodes a list field's value as JSON unless the field is "
        "Annotated[list[str], NoDecode]; with NoDecode, a mode='before' validator must "
        "read both forms"
    )
    assert found == items, (
        f"expected CORS_ORIGINS={value} ({form}) in the environment to give the list "
        f"{items}, found {found!r} ({hint})"
    )


@pytest.mark.grade("D4", 2)
def test_settings_read_a_dotenv_file(clean_env: Path) -> None:
    from app.core.config import Settings

    env_file = Settings.model_config.get("env_file")
    names = [env_file] if isinstance(env_file, str | Path) else list(env_file or [])
    assert any(Path(str(name)).name == ".env" for name in names), (
        f"expected Settings to read a .env file (model_config env_file='.env'), found {env_file!r}"
    )
    dotenv = clean_env / ".env"
    dotenv.write_text("PORT=9100\nPROJECT_NAME=From Dotenv\n", encoding="utf-8")
    settings = Settings() if ".env" in map(str, names) else Settings(_env_file=dotenv)
    assert (settings.PORT, settings.PROJECT_NAME) == (9100, "From Dotenv"), (
        "expected a .env file with PORT=9100 and PROJECT_NAME=From Dotenv to set them, "
        f"found PORT={settings.PORT!r}, PROJECT_NAME={settings.PROJECT_NAME!r}"
    )


@pytest.mark.grade("D4", 1)
def test_environment_beats_dotenv_file_beats_default(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = clean_env / ".env"
    dotenv.write_text("PORT=9100\nPROJECT_NAME=From Dotenv\n", encoding="utf-8")
    monkeypatch.setenv("PORT", "9200")
    settings = build(_env_file=dotenv)
    assert settings.PORT == 9200, (
        f"expected PORT from the environment (9200) to win over the .env file (9100), "
        f"found {settings.PORT!r}"
    )
    assert settings.PROJECT_NAME == "From Dotenv", (
        "expected PROJECT_NAME from the .env file to win over the default, "
        f"found {settings.PROJECT_NAME!r}"
    )


@pytest.mark.grade("D4", 1)
@pytest.mark.parametrize(("name", "value"), [("PORT", "abc")])
def test_invalid_value_raises_validation_error_naming_the_setting(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv(name, value)
    try:
        settings = build()
    except ValidationError as exc:
        assert name in str(exc), f"expected the validation error to name {name}, found: {exc}"
        return
    pytest.fail(
        f"expected {name}={value} to raise a pydantic ValidationError, "
        f"found {name} = {getattr(settings, name, None)!r}"
    )


async def production_refusal(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> str | None:
    """The error text if ENVIRONMENT=production with `env` is refused, else None.

    The guard may sit in Settings (a validator) or in the app factory: if Settings
    accepts the values, the app is imported anew with them and built (its lifespan,
    which touches the database from step 3 on, is not run).
    """
    from app.core.config import Settings  # an import error is the learner's message, not ours

    for name, value in {"ENVIRONMENT": "production", **env}.items():
        monkeypatch.setenv(name, value)
    try:
        Settings(_env_file=None)
    except Exception as exc:
        return str(exc)
    try:
        async with freshly_imported_app({}):
            pass
    except Exception as exc:
        return str(exc)
    return None


def good_production(monkeypatch: pytest.MonkeyPatch, **overrides: str) -> dict[str, str]:
    env = {
        "JWT_SECRET_KEY": GOOD_ACCESS_SECRET,
        "JWT_REFRESH_SECRET_KEY": GOOD_REFRESH_SECRET,
        "FIRST_ADMIN_PASSWORD": GOOD_ADMIN_PASSWORD,
        "CORS_ORIGINS": cors_env_value(monkeypatch, ["https://app.example.com"]),
        "CORS_ALLOW_CREDENTIALS": "true",
    }
    return env | overrides


# Strong values of two shapes: the shortest allowed, sorting before any default; and
# longer ones sorting after: a comparison written with <, >, or != where == or < belongs
# refuses one of them.
STRONG = {
    "32 characters": {},
    "48 characters": {
        "JWT_SECRET_KEY": "z-grading-access-secret-" + "z" * 24,
        "JWT_REFRESH_SECRET_KEY": "z-grading-refresh-secret" + "y" * 24,
        "FIRST_ADMIN_PASSWORD": "z-grading-admin-password-" + "x" * 23,
    },
}


@pytest.mark.grade("D4", 1)
@pytest.mark.parametrize("shape", list(STRONG))
async def test_production_accepts_strong_settings(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    env = good_production(monkeypatch, **STRONG[shape])
    error = await production_refusal(monkeypatch, env)
    assert error is None, (
        f"expected ENVIRONMENT=production with two different JWT secrets of {shape} and "
        f"CORS_ORIGINS=https://app.example.com to be accepted, found the error: {error[:300]}"
    )


DEFAULT = "<the learner's default>"


def default_value(name: str) -> str:
    """The default the learner's Settings gives `name`, as plain text."""
    from app.core.config import Settings

    field = Settings.model_fields.get(name)
    if field is None:
        pytest.fail(f"expected Settings to declare {name}")
    return str(secret_value(field.get_default(call_default_factory=True)))


PRODUCTION_REFUSALS = {
    "default access secret": ({"JWT_SECRET_KEY": None}, "JWT_SECRET_KEY"),
    "short access secret": ({"JWT_SECRET_KEY": "x" * 31}, "JWT_SECRET_KEY"),
    "short refresh secret": ({"JWT_REFRESH_SECRET_KEY": "y" * 31}, "JWT_REFRESH_SECRET_KEY"),
    "wildcard CORS with credentials": ({"CORS_ORIGINS": ["*"]}, "CORS_ORIGINS"),
    "refresh secret equal to the access secret": (
        {"JWT_REFRESH_SECRET_KEY": GOOD_ACCESS_SECRET}, "JWT_REFRESH_SECRET_KEY"),
    "default first admin password": ({"FIRST_ADMIN_PASSWORD": None}, "FIRST_ADMIN_PASSWORD"),
    # .env.example copied to .env: the defaults, given again, are still the defaults.
    "default access secret written in the environment": (
        {"JWT_SECRET_KEY": DEFAULT}, "JWT_SECRET_KEY"),
    "default first admin password written in the environment": (
        {"FIRST_ADMIN_PASSWORD": DEFAULT}, "FIRST_ADMIN_PASSWORD"),
    "debug mode": ({"DEBUG": "true"}, "DEBUG"),
}  # fmt: skip


@pytest.mark.grade("D4", 1)
@pytest.mark.parametrize("case", list(PRODUCTION_REFUSALS))
async def test_production_refuses_unsafe_setting_naming_it(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    change, setting = PRODUCTION_REFUSALS[case]
    env = good_production(monkeypatch)
    for name, value in change.items():
        if value is None:
            del env[name]  # back to the default
        elif value is DEFAULT:
            env[name] = default_value(name)
        elif isinstance(value, list):
            env[name] = cors_env_value(monkeypatch, value)
        else:
            env[name] = value
    shown = {k: v for k, v in env.items() if k in change}
    error = await production_refusal(monkeypatch, env)
    assert error is not None, (
        f"expected ENVIRONMENT=production with a {case} ({shown or 'default ' + setting}) to "
        "be refused with an error, found the settings accepted"
    )
    # "JWT_REFRESH_SECRET_KEY" does not contain "JWT_SECRET_KEY": each must be named itself.
    assert setting in error, f"expected the error to name {setting}, found: {error[:300]}"


@pytest.mark.grade("D4", 1)
def test_get_settings_is_cached() -> None:
    from app.core.config import get_settings

    first, second = get_settings(), get_settings()
    environment = plain(getattr(first, "ENVIRONMENT", None))
    assert environment == "testing", (
        f"expected get_settings() to read ENVIRONMENT=testing from the environment, "
        f"found {environment!r}"
    )
    assert first is second, (
        "expected get_settings() to return the same object every time (functools.lru_cache), "
        "found two different objects"
    )
