"""Settings: defaults, environment and .env loading, validation, the production guard."""

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from app.core.config import (
    DEFAULT_FIRST_ADMIN_PASSWORD,
    DEFAULT_JWT_REFRESH_SECRET_KEY,
    DEFAULT_JWT_SECRET_KEY,
    Settings,
    get_settings,
)

SOLUTION_DIR = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = SOLUTION_DIR / ".env.example"

GOOD_ACCESS_SECRET = "a" * 40
GOOD_REFRESH_SECRET = "b" * 40


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting comes from the process environment or a stray .env in the cwd."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def production(**overrides: Any) -> Settings:
    """Settings for production that pass the guard unless `overrides` break it."""
    values: dict[str, Any] = {
        "ENVIRONMENT": "production",
        "JWT_SECRET_KEY": GOOD_ACCESS_SECRET,
        "JWT_REFRESH_SECRET_KEY": GOOD_REFRESH_SECRET,
        "FIRST_ADMIN_PASSWORD": "a-real-admin-password-123",
        "CORS_ORIGINS": ["https://app.example.com"],
        "CORS_ALLOW_CREDENTIALS": True,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def error_fields(exc: ValidationError) -> set[str]:
    return {str(error["loc"][0]) for error in exc.errors() if error["loc"]}


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"')
    return values


def test_defaults_without_environment_or_env_file() -> None:
    settings = Settings(_env_file=None)
    assert settings.DATABASE_URL == "sqlite+aiosqlite:///./app.db"
    assert settings.API_V1_PREFIX == "/api/v1"
    assert settings.JWT_ALGORITHM == "HS256"
    assert settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES == 30
    assert settings.JWT_REFRESH_TOKEN_EXPIRE_DAYS == 7
    assert settings.JWT_SECRET_KEY.get_secret_value() == DEFAULT_JWT_SECRET_KEY
    assert settings.JWT_REFRESH_SECRET_KEY.get_secret_value() == DEFAULT_JWT_REFRESH_SECRET_KEY
    assert settings.LOG_FORMAT == "text"
    assert settings.LOG_LEVEL == "INFO"
    assert settings.DEBUG is False
    assert settings.ENVIRONMENT == "development"
    assert settings.PORT == 8000
    assert settings.DB_ECHO is False
    assert settings.DB_POOL_SIZE == 5
    assert settings.DB_MAX_OVERFLOW == 10
    assert settings.DB_POOL_TIMEOUT == 30.0
    assert settings.CORS_ORIGINS == ["http://localhost:3000"]
    assert settings.CORS_ALLOW_CREDENTIALS is True
    assert settings.MAX_REQUEST_BODY_BYTES == 1048576
    assert settings.HSTS_ENABLED is False


def test_secrets_are_hidden_in_repr() -> None:
    settings = Settings(_env_file=None)
    assert DEFAULT_JWT_SECRET_KEY not in repr(settings)
    assert DEFAULT_JWT_REFRESH_SECRET_KEY not in repr(settings)
    assert DEFAULT_FIRST_ADMIN_PASSWORD not in repr(settings)


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("DEBUG", "true")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://u:p@db:5432/app")
    monkeypatch.setenv("JWT_ACCESS_TOKEN_EXPIRE_MINUTES", "5")
    settings = Settings(_env_file=None)
    assert settings.PORT == 9001
    assert settings.DEBUG is True
    assert settings.DATABASE_URL == "postgresql+asyncpg://u:p@db:5432/app"
    assert settings.JWT_ACCESS_TOKEN_EXPIRE_MINUTES == 5


def test_env_file_in_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("PORT=9100\nPROJECT_NAME=From Dotenv\n", encoding="utf-8")
    settings = Settings()
    assert settings.PORT == 9100
    assert settings.PROJECT_NAME == "From Dotenv"


def test_environment_variable_wins_over_env_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("PORT=9100\nLOG_FORMAT=json\n", encoding="utf-8")
    monkeypatch.setenv("PORT", "9200")
    settings = Settings()
    assert settings.PORT == 9200
    assert settings.LOG_FORMAT == "json"  # not in the environment: the .env value stands


def test_comma_separated_cors_settings_parse_to_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "http://a.example, http://b.example ,http://c.example")
    monkeypatch.setenv("CORS_ALLOW_METHODS", "GET,POST")
    settings = Settings(_env_file=None)
    assert settings.CORS_ORIGINS == ["http://a.example", "http://b.example", "http://c.example"]
    assert settings.CORS_ALLOW_METHODS == ["GET", "POST"]


def test_single_cors_origin_parses_to_one_item_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://only.example")
    assert Settings(_env_file=None).CORS_ORIGINS == ["https://only.example"]


def test_json_array_cors_settings_parse_to_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    # pydantic-settings' own JSON decoding is off for these fields (NoDecode): without
    # the validator reading JSON, '["https://a.example"]' would be one origin, brackets
    # and quotes included.
    monkeypatch.setenv("CORS_ORIGINS", '["https://a.example"]')
    monkeypatch.setenv("CORS_ALLOW_METHODS", '["GET", "POST"]')
    monkeypatch.setenv("CORS_ALLOW_HEADERS", ' ["Authorization","X-Request-ID"] ')
    settings = Settings(_env_file=None)
    assert settings.CORS_ORIGINS == ["https://a.example"]
    assert settings.CORS_ALLOW_METHODS == ["GET", "POST"]
    assert settings.CORS_ALLOW_HEADERS == ["Authorization", "X-Request-ID"]


def test_both_list_forms_give_the_same_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    origins = ["https://a.example", "http://localhost:3000"]
    found = []
    for form in (",".join(origins), json.dumps(origins)):
        monkeypatch.setenv("CORS_ORIGINS", form)
        found.append(Settings(_env_file=None).CORS_ORIGINS)
    assert found == [origins, origins]


def test_json_array_in_env_file_parses_to_a_list(tmp_path: Path) -> None:
    env_file = tmp_path / "json.env"
    env_file.write_text('CORS_ORIGINS=["https://a.example","https://b.example"]\n', "utf-8")
    assert Settings(_env_file=env_file).CORS_ORIGINS == ["https://a.example", "https://b.example"]


@pytest.mark.parametrize("value", ['["https://a.example"', '["https://a.example",]', "[1]"])
def test_malformed_json_list_raises_validation_error_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", value)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert error_fields(caught.value) == {"CORS_ORIGINS"}
    assert "CORS_ORIGINS" in str(caught.value)


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example.com",
        "http://localhost:3000",
        "http://127.0.0.1:8000",
        "http://[::1]:5173",
    ],
)
def test_origins_with_scheme_host_and_port_are_accepted(
    monkeypatch: pytest.MonkeyPatch, origin: str
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", origin)
    origins = Settings(_env_file=None).CORS_ORIGINS
    assert origins == [origin]


@pytest.mark.parametrize(
    ("origin", "reason"),
    [
        ("app.example.com", "http:// or https://"),
        ("ftp://app.example.com", "http:// or https://"),
        ("HTTPS://app.example.com", "http:// or https://"),
        ("https://", "no path"),
        ("https://app.example.com/", "not even a trailing /"),
        ("https://app.example.com/api", "no path"),
        ("https://app.example.com?x=1", "query"),
        ("https://app.example.com#top", "fragment"),
        ("https://*.example.com", "wildcard"),
        ("https://app.example.com:99999", "port is invalid"),
        ("https://user:secret@app.example.com", "credentials"),
    ],
)
def test_invalid_origin_raises_validation_error_naming_the_setting_and_origin(
    monkeypatch: pytest.MonkeyPatch, origin: str, reason: str
) -> None:
    for value in (f"http://ok.example,{origin}", json.dumps(["http://ok.example", origin])):
        monkeypatch.setenv("CORS_ORIGINS", value)
        with pytest.raises(ValidationError) as caught:
            Settings(_env_file=None)
        assert error_fields(caught.value) == {"CORS_ORIGINS"}
        message = str(caught.value)
        assert "CORS_ORIGINS" in message
        assert repr(origin) in message
        assert reason in message


def test_invalid_origin_passed_as_an_argument_is_refused_too() -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        Settings(_env_file=None, CORS_ORIGINS=["https://app.example.com/"])


def test_log_level_is_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "debug")
    assert Settings(_env_file=None).LOG_LEVEL == "DEBUG"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("PORT", "70000"),
        ("LOG_FORMAT", "xml"),
        ("LOG_LEVEL", "LOUD"),
        ("ENVIRONMENT", "moon"),
        ("JWT_ALGORITHM", "none"),
        ("DB_POOL_SIZE", "0"),
        ("MAX_REQUEST_BODY_BYTES", "0"),
        ("HSTS_ENABLED", "maybe"),
        ("API_V1_PREFIX", "api/v1"),
        ("API_V1_PREFIX", "/api/v1/"),
    ],
)
def test_invalid_value_raises_validation_error_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)
    assert error_fields(caught.value) == {name}
    assert name in str(caught.value)


def test_production_with_all_good_values_is_accepted() -> None:
    settings = production()
    assert settings.ENVIRONMENT == "production"


def test_production_refuses_default_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
        production(JWT_SECRET_KEY=DEFAULT_JWT_SECRET_KEY)


def test_production_refuses_short_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
        production(JWT_SECRET_KEY="x" * 31)


def test_production_accepts_jwt_secret_of_exactly_32_characters() -> None:
    assert production(JWT_SECRET_KEY="x" * 32).JWT_SECRET_KEY.get_secret_value() == "x" * 32


def test_production_refuses_default_refresh_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_REFRESH_SECRET_KEY"):
        production(JWT_REFRESH_SECRET_KEY=DEFAULT_JWT_REFRESH_SECRET_KEY)


def test_production_refuses_short_refresh_secret() -> None:
    with pytest.raises(ValidationError, match="JWT_REFRESH_SECRET_KEY"):
        production(JWT_REFRESH_SECRET_KEY="y" * 31)


def test_production_refuses_wildcard_cors_with_credentials() -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        production(CORS_ORIGINS=["*"], CORS_ALLOW_CREDENTIALS=True)


def test_production_allows_wildcard_cors_without_credentials() -> None:
    assert production(CORS_ORIGINS=["*"], CORS_ALLOW_CREDENTIALS=False).CORS_ORIGINS == ["*"]


def test_production_refuses_debug_naming_it() -> None:
    with pytest.raises(ValidationError, match="DEBUG must be false in production"):
        production(DEBUG=True)


def test_production_refuses_debug_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"ENVIRONMENT": "production", "DEBUG": "true"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="DEBUG"):
        production(ENVIRONMENT="production")


def test_production_guard_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
        Settings(_env_file=None)


@pytest.mark.parametrize("environment", ["development", "testing", "staging"])
def test_default_secrets_are_accepted_outside_production(environment: str) -> None:
    settings = Settings(_env_file=None, ENVIRONMENT=environment)
    assert environment == settings.ENVIRONMENT


def test_env_example_loads_cleanly() -> None:
    settings = Settings(_env_file=ENV_EXAMPLE)
    assert settings.PROJECT_NAME == "Clean FastAPI Backend"
    assert settings.DEBUG is True
    assert settings.DATABASE_URL == "sqlite+aiosqlite:///./app.db"
    assert settings.CORS_ORIGINS == ["http://localhost:3000"]
    assert settings.CORS_ALLOW_METHODS == ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    assert settings.CORS_ALLOW_HEADERS == ["Authorization", "Content-Type", "X-Request-ID"]


def test_env_example_names_exactly_the_settings_fields() -> None:
    assert set(read_env_file(ENV_EXAMPLE)) == set(Settings.model_fields)


def test_env_example_values_equal_defaults_except_debug() -> None:
    from_example = Settings(_env_file=ENV_EXAMPLE).model_dump()
    defaults = Settings(_env_file=None).model_dump()
    differing = {name for name in defaults if from_example[name] != defaults[name]}
    assert differing == {"DEBUG"}


def test_get_settings_is_cached() -> None:
    assert get_settings() is get_settings()
