#!/usr/bin/env bash
# Install the project with its test extra into .venv, then lint, type-check and run every test
# (SQLite and PostgreSQL). PostgreSQL: the server at PARKING_TEST_PG_ADMIN_URL or on
# 127.0.0.1:5432 when it accepts the tests, else a private throw-away cluster from the installed
# server programs (scripts/_postgres.sh); without either it stops at once and says what to do.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/unit -x`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" test
source "$ROOT/scripts/_postgres.sh"
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen
pg_for_tests "$ROOT/.venv/bin/python" || exit 1
# Many tests start `python main.py` in a subprocess: let them reuse compiled modules.
unset PYTHONDONTWRITEBYTECODE
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports
# Two workers (pytest-xdist): each has its own PostgreSQL database and SQLite files.
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
