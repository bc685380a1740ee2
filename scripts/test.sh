#!/usr/bin/env bash
# Install the project with its test extra into .venv, then lint, type-check and run every test
# (SQLite and PostgreSQL). PostgreSQL must be running: see README.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh" test
cd "$ROOT"
export QT_QPA_PLATFORM=offscreen
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports
.venv/bin/python -m pytest "$@"
