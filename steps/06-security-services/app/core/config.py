"""Application settings, read from the environment and an optional `.env` file.

Every tunable value lives here, typed and validated once at start-up, so the rest
of the code never reads `os.environ` itself.
"""

import json
from functools import lru_cache
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Development defaults. They let the app start on a fresh clone; the production
# guard below refuses to start with them.
DEFAULT_JWT_SECRET_KEY = "dev-only-access-secret-change-me"  # noqa: S105
DEFAULT_JWT_REFRESH_SECRET_KEY = "dev-only-refresh-secret-change-me"  # noqa: S105
DEFAULT_FIRST_ADMIN_PASSWORD = "change-me-admin-password"  # noqa: S105
MIN_SECRET_LENGTH = 32
ONE_MEBIBYTE = 1024 * 1024

Environment = Literal["development", "testing", "staging", "production"]
LogLevel = Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"]
# A list setting. In the environment or `.env` it is a JSON array (["a", "b"]) or
# comma-separated (a,b): NoDecode stops pydantic-settings from decoding the value
# as JSON itself (it would refuse a,b), so that `_parse_list` can read both forms.
ListSetting = Annotated[list[str], NoDecode]


def _check_origin(origin: str) -> None:
    """Raise `ValueError`, saying what is wrong, unless `origin` is http(s)://host[:port]."""
    example = "write scheme://host[:port], e.g. https://app.example.com or http://localhost:3000"
    if origin.partition("://")[0] not in ("http", "https"):  # urlsplit would lowercase it
        raise ValueError(f"{origin!r} is not an origin: it must start with http:// or https://")
    parts = urlsplit(origin)
    try:
        parts.port  # noqa: B018 (an invalid port raises ValueError)
    except ValueError:
        raise ValueError(f"{origin!r} is not an origin: its port is invalid") from None
    if not parts.hostname or "*" in origin or origin != f"{parts.scheme}://{parts.netloc}":
        raise ValueError(
            f"{origin!r} is not an origin: {example}, with no path (not even a trailing /), "
            "query, fragment or wildcard"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{origin!r} is not an origin: it may not contain user@ credentials")


class Settings(BaseSettings):
    """All configuration of the application, grouped as the `.env.example` file is."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=True,
        extra="ignore",
    )

    # Application
    PROJECT_NAME: str = "Clean FastAPI Backend"
    PROJECT_DESCRIPTION: str = "A FastAPI backend laid out in Clean Architecture layers."
    VERSION: str = "1.0.0"
    DEBUG: bool = False
    ENVIRONMENT: Environment = "development"
    API_V1_PREFIX: str = "/api/v1"

    # Server
    HOST: str = "127.0.0.1"
    PORT: int = Field(default=8000, ge=1, le=65535)
    WORKERS: int = Field(default=1, ge=1)
    RELOAD: bool = False

    # Database
    DATABASE_URL: str = "sqlite+aiosqlite:///./app.db"
    DB_ECHO: bool = False
    DB_POOL_SIZE: int = Field(default=5, ge=1)
    DB_MAX_OVERFLOW: int = Field(default=10, ge=0)
    DB_POOL_TIMEOUT: float = Field(default=30.0, gt=0)

    # JWT
    JWT_SECRET_KEY: SecretStr = SecretStr(DEFAULT_JWT_SECRET_KEY)
    JWT_REFRESH_SECRET_KEY: SecretStr = SecretStr(DEFAULT_JWT_REFRESH_SECRET_KEY)
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512"] = "HS256"
    JWT_ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=30, ge=1)
    JWT_REFRESH_TOKEN_EXPIRE_DAYS: int = Field(default=7, ge=1)
    # Who issues the tokens and whom they are for: a token another service signed
    # with a shared secret is refused because its `iss` or `aud` differs.
    JWT_ISSUER: str = Field(default="clean-fastapi-backend", min_length=1)
    JWT_AUDIENCE: str = Field(default="clean-fastapi-backend:api", min_length=1)
    # Clocks of machines drift: accept `exp` and `iat` this many seconds off.
    JWT_LEEWAY_SECONDS: int = Field(default=30, ge=0, le=300)
    # A login's session ends this many days after the login, however often its
    # refresh token is used: a stolen session cannot be kept alive for ever.
    SESSION_LIFETIME_DAYS: int = Field(default=30, ge=1)

    # Login throttling: after LOGIN_MAX_FAILURES failed logins for one email within
    # LOGIN_FAILURE_WINDOW_MINUTES, that email answers 429 until the oldest leaves.
    LOGIN_MAX_FAILURES: int = Field(default=5, ge=1)
    LOGIN_FAILURE_WINDOW_MINUTES: int = Field(default=15, ge=1)
    # How many hash or verify calls may wait per usable core before logins answer
    # 503: a waiting login waits at most about this many hashes' time (32 x ~60 ms,
    # about 2 s), and a burst of a few dozen logins on one core still gets through.
    HASHING_QUEUE_PER_CORE: int = Field(default=32, ge=1)

    # CORS: lists, e.g. CORS_ORIGINS=http://a,http://b or CORS_ORIGINS=["http://a","http://b"]
    CORS_ORIGINS: ListSetting = ["http://localhost:3000"]
    CORS_ALLOW_CREDENTIALS: bool = True
    CORS_ALLOW_METHODS: ListSetting = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    CORS_ALLOW_HEADERS: ListSetting = ["Authorization", "Content-Type", "X-Request-ID"]

    # Logging
    LOG_LEVEL: LogLevel = "INFO"
    LOG_FORMAT: Literal["json", "text"] = "text"

    # First administrator, created by scripts/seed.py
    FIRST_ADMIN_EMAIL: str = "admin@example.com"
    FIRST_ADMIN_PASSWORD: SecretStr = SecretStr(DEFAULT_FIRST_ADMIN_PASSWORD)

    # HTTP: the request body limit and the security headers of every response
    MAX_REQUEST_BODY_BYTES: int = Field(default=ONE_MEBIBYTE, ge=1)
    HSTS_ENABLED: bool = False

    @field_validator("CORS_ORIGINS", "CORS_ALLOW_METHODS", "CORS_ALLOW_HEADERS", mode="before")
    @classmethod
    def _parse_list(cls, value: object) -> object:
        """Read a list from the environment: a JSON array, or comma-separated items."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                decoded: object = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"starts with '[' but is not a JSON array: {exc}") from exc
            return decoded
        return [item.strip() for item in text.split(",") if item.strip()]

    @field_validator("CORS_ORIGINS")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        """Each origin is `*` or scheme://host[:port]: what a browser sends in `Origin`.

        Starlette compares origins as exact strings, so anything more (a path, even a
        trailing `/`) or a wildcard inside an origin would never match a request.
        """
        for origin in origins:
            if origin != "*":
                _check_origin(origin)
        return origins

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("API_V1_PREFIX")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not value.startswith("/") or value.endswith("/"):
            raise ValueError("must start with '/' and not end with '/', e.g. /api/v1")
        return value

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        """Refuse to start in production with development secrets, open CORS or DEBUG."""
        if self.ENVIRONMENT != "production":
            return self
        if self.DEBUG:
            # DEBUG serves /docs and the OpenAPI schema, and Loguru's `diagnose` writes
            # variable values (passwords, tokens) into tracebacks.
            raise ValueError("DEBUG must be false in production")
        secrets = {
            "JWT_SECRET_KEY": (self.JWT_SECRET_KEY, DEFAULT_JWT_SECRET_KEY),
            "JWT_REFRESH_SECRET_KEY": (self.JWT_REFRESH_SECRET_KEY, DEFAULT_JWT_REFRESH_SECRET_KEY),
        }
        for name, (secret, default) in secrets.items():
            value = secret.get_secret_value()
            if value == default or len(value) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"{name} must be set to a random secret of at least "
                    f"{MIN_SECRET_LENGTH} characters in production"
                )
        if self.JWT_SECRET_KEY == self.JWT_REFRESH_SECRET_KEY:
            raise ValueError("JWT_REFRESH_SECRET_KEY must differ from JWT_SECRET_KEY")
        if "*" in self.CORS_ORIGINS and self.CORS_ALLOW_CREDENTIALS:
            raise ValueError(
                "CORS_ORIGINS may not contain '*' while CORS_ALLOW_CREDENTIALS is true "
                "in production"
            )
        if self.FIRST_ADMIN_PASSWORD.get_secret_value() == DEFAULT_FIRST_ADMIN_PASSWORD:
            raise ValueError("FIRST_ADMIN_PASSWORD must be changed from its default in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """Return the settings, built once per process."""
    return Settings()


settings = get_settings()
