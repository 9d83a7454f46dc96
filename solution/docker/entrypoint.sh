#!/bin/sh
# Bring the schema up to date, then replace this shell with the server so that it
# receives the container's stop signal directly. --no-server-header: uvicorn would
# name itself in a `server` header on every response, which helps only an attacker.
set -e
alembic upgrade head
exec uvicorn app.main:app --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}" --workers "${WORKERS:-1}" --no-access-log --no-server-header
