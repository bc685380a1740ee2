#!/usr/bin/env bash
# Install the project with its test extra into .venv, then lint, type-check and run every test
# (SQLite and PostgreSQL). PostgreSQL must be running: see README.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh tests/unit -x`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" test
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen
# Many tests start `python main.py` in a subprocess: let them reuse compiled modules.
unset PYTHONDONTWRITEBYTECODE
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports
# Two workers (pytest-xdist): each has its own PostgreSQL database and SQLite files.
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" "$@"
