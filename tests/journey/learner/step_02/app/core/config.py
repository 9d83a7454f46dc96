"""Configuration of the application.

Values come, from strongest to weakest, from keyword arguments to `Settings(...)`,
from environment variables, from a `.env` file in the working directory, and
finally from the defaults below. Everything is validated once, when the settings
are built; the rest of the code only reads `settings`.
"""

import json
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal, Self
from urllib.parse import urlparse

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Development-only defaults: a fresh clone starts without any configuration, but
# production refuses to run with them (see `_check_production`).
DEV_ACCESS_SECRET = "dev-access-secret-do-not-use-in-production"  # noqa: S105
DEV_REFRESH_SECRET = "dev-refresh-secret-do-not-use-in-production"  # noqa: S105
DEV_ADMIN_PASSWORD = "admin-password-change-me"  # noqa: S105
SECRET_MIN_LENGTH = 32

LOG_LEVELS = frozenset({"TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"})

# A list setting written as "a,b,c" in the environment. NoDecode stops
# pydantic-settings from insisting on JSON, so the validator below can split it.
StrList = Annotated[list[str], NoDecode]


class Environment(StrEnum):
    """Where the application runs."""

    DEVELOPMENT = "development"
    TESTING = "testing"
    STAGING = "staging"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting of the application, with its type and default."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=True,
        extra="ignore",
    )

    # --- application ---
    PROJECT_NAME: str = "User Service API"
    PROJECT_DESCRIPTION: str = "User management backend built with FastAPI."
    VERSION: str = "0.1.0"
    DEBUG: bool = False
    ENVIRONMENT: Environment = Environment.DEVELOPMENT
    API_V1_PREFIX: str = "/api/v1"

    # --- server ---
    HOST: str = "127.0.0.1"
    PORT: int = Field(default=8000, ge=1, le=65535)
    WORKERS: int = Field(default=1, ge=1)
    RELOAD: bool = False

    # --- database ---
    DATABASE_URL: str = "sqlite+aiosqlite:///./app.db"
    DB_ECHO: bool = False
    DB_POOL_SIZE: int = Field(default=5, ge=1)
    DB_MAX_OVERFLOW: int = Field(default=10, ge=0)
    DB_POOL_TIMEOUT: int = Field(default=30, ge=1)

    # --- JWT ---
    JWT_SECRET_KEY: SecretStr = SecretStr(DEV_ACCESS_SECRET)
    JWT_REFRESH_SECRET_KEY: SecretStr = SecretStr(DEV_REFRESH_SECRET)
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512"] = "HS256"
    JWT_ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=30, ge=1)
    JWT_REFRESH_TOKEN_EXPIRE_DAYS: int = Field(default=7, ge=1)
    JWT_ISSUER: str = "workshop-api"
    JWT_AUDIENCE: str = "workshop-api-clients"
    JWT_LEEWAY_SECONDS: int = Field(default=20, ge=0, le=120)  # tolerated clock drift
    SESSION_LIFETIME_DAYS: int = Field(default=14, ge=1)  # hard cap on a login

    # --- CORS ---
    CORS_ORIGINS: StrList = Field(default_factory=lambda: ["http://localhost:3000"])
    CORS_ALLOW_CREDENTIALS: bool = True
    CORS_ALLOW_METHODS: StrList = Field(
        default_factory=lambda: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    )
    CORS_ALLOW_HEADERS: StrList = Field(
        default_factory=lambda: ["Authorization", "Content-Type", "X-Request-ID"]
    )

    # --- logging ---
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: Literal["text", "json"] = "text"

    # --- first administrator (created by the seed script) ---
    FIRST_ADMIN_EMAIL: str = "admin@example.com"
    FIRST_ADMIN_PASSWORD: SecretStr = SecretStr(DEV_ADMIN_PASSWORD)

    # --- HTTP hardening ---
    MAX_REQUEST_BODY_BYTES: int = Field(default=2**20, gt=0)  # 1 MiB
    HSTS_ENABLED: bool = False  # only behind HTTPS: browsers then refuse plain HTTP

    # --- login limits ---
    LOGIN_MAX_FAILURES: int = Field(default=5, ge=1)  # per email, within the window
    LOGIN_FAILURE_WINDOW_MINUTES: int = Field(default=15, ge=1)
    HASHING_QUEUE_PER_CORE: int = Field(default=32, ge=1)  # waiting hashes, then 503

    @field_validator("CORS_ORIGINS", "CORS_ALLOW_METHODS", "CORS_ALLOW_HEADERS", mode="before")
    @classmethod
    def _parse_list(cls, raw: object) -> object:
        """Accept `a,b,c` (or a JSON array) where a list is expected."""
        if not isinstance(raw, str):
            return raw
        text = raw.strip()
        if text.startswith("["):
            return json.loads(text)
        parts: list[str] = []
        for piece in text.split(","):
            item = piece.strip()
            if item:
                parts.append(item)
        return parts

    @field_validator("CORS_ORIGINS")
    @classmethod
    def _only_real_origins(cls, origins: list[str]) -> list[str]:
        """A browser sends scheme://host[:port] as its Origin; any other entry never matches."""
        for origin in origins:
            if origin == "*":
                continue
            parsed = urlparse(origin)
            if (
                parsed.scheme not in {"http", "https"}
                or not parsed.hostname
                or "*" in origin
                or "@" in parsed.netloc
                or origin != f"{parsed.scheme}://{parsed.netloc}"
            ):
                raise ValueError(f"{origin!r} is not an origin such as https://app.example.com")
        return origins

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _normalise_log_level(cls, raw: object) -> object:
        if not isinstance(raw, str):
            return raw
        level = raw.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {raw!r}; use one of {sorted(LOG_LEVELS)}")
        return level

    @field_validator("API_V1_PREFIX")
    @classmethod
    def _validate_prefix(cls, prefix: str) -> str:
        if not prefix.startswith("/"):
            raise ValueError("the API prefix must start with '/'")
        return prefix.rstrip("/")

    @model_validator(mode="after")
    def _check_production(self) -> Self:
        """Do not start in production with development secrets or a wide-open CORS policy."""
        if self.ENVIRONMENT is not Environment.PRODUCTION:
            return self

        problems: list[str] = []
        access = self.JWT_SECRET_KEY.get_secret_value()
        refresh = self.JWT_REFRESH_SECRET_KEY.get_secret_value()
        if access == DEV_ACCESS_SECRET or len(access) < SECRET_MIN_LENGTH:
            problems.append(
                f"JWT_SECRET_KEY must be a random value of at least {SECRET_MIN_LENGTH} characters"
            )
        if refresh == DEV_REFRESH_SECRET or len(refresh) < SECRET_MIN_LENGTH:
            problems.append(
                f"JWT_REFRESH_SECRET_KEY must be a random value of at least "
                f"{SECRET_MIN_LENGTH} characters"
            )
        if access == refresh:
            problems.append("JWT_REFRESH_SECRET_KEY must not be the same as JWT_SECRET_KEY")
        if self.CORS_ALLOW_CREDENTIALS and "*" in self.CORS_ORIGINS:
            problems.append("CORS_ORIGINS cannot contain '*' when CORS_ALLOW_CREDENTIALS is true")
        if self.FIRST_ADMIN_PASSWORD.get_secret_value() == DEV_ADMIN_PASSWORD:
            problems.append("FIRST_ADMIN_PASSWORD must be changed from the development default")
        if self.DEBUG:
            problems.append("DEBUG must be off (it exposes /docs and variables in tracebacks)")

        if problems:
            raise ValueError("unsafe production settings: " + "; ".join(problems))
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Build the settings on the first call and hand out the same object afterwards."""
    loaded = Settings()
    return loaded


settings = get_settings()
