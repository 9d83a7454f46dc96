#!/bin/sh
# Container start: migrate the database, then serve. `set -e` stops the container
# if the migrations fail, instead of serving an outdated schema.
set -eu

echo "Applying database migrations..."
alembic upgrade head

# exec: uvicorn replaces the shell, so it receives SIGTERM from `docker stop`.
exec uvicorn app.main:app \
    --host "${HOST:-0.0.0.0}" \
    --port "${PORT:-8000}" \
    --workers "${WORKERS:-1}" \
    --proxy-headers \
    --no-server-header \
    --no-access-log
