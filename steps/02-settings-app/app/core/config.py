"""Application settings, read from the environment and an optional `.env` file.

Every tunable value lives here, typed and validated once at start-up, so the rest
of the code never reads `os.environ` itself.

TODO(step 2) — D4:
- Declare every setting of the course (the settings reference,
  docs/reference/settings.md, lists them with their types and defaults), grouped:
  application, server, database (DATABASE_URL defaults to
  sqlite+aiosqlite:///./app.db), JWT, CORS, logging, the first admin, and HTTP
  (MAX_REQUEST_BODY_BYTES, HSTS_ENABLED: step 7 uses them), and login
  (LOGIN_MAX_FAILURES, LOGIN_FAILURE_WINDOW_MINUTES, HASHING_QUEUE_PER_CORE: step 6
  uses them).
- CORS lists come from the environment in either form: comma-separated
  (CORS_ORIGINS=http://a,http://b) or a JSON array (CORS_ORIGINS=["http://a","http://b"]).
  docs/steps/02-settings-app.md (D4) says why pydantic-settings needs help for that.
- Refuse, naming the setting: a CORS origin that is not `*` or http(s)://host[:port]
  (a path, a wildcard, user@), an API_V1_PREFIX without a leading `/` or with a
  trailing one (or correct it), a PORT outside 1..65535. Names are case-sensitive.
- With ENVIRONMENT=production, refuse to start while a JWT secret is a default or
  shorter than 32 characters, the two JWT secrets are equal, CORS allows "*" with
  credentials, FIRST_ADMIN_PASSWORD is its default, or DEBUG is true: a clear error
  that names the setting.
- `get_settings()` builds the settings once per process; `settings` is that object.
"""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All configuration of the application."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # TODO(step 2): the settings.


@lru_cache
def get_settings() -> Settings:
    """Return the settings, built once per process."""
    # TODO(step 2): build and return the settings.
    raise NotImplementedError


settings = get_settings()
