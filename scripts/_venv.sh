# Sourced by the quick-start scripts: make .venv with the project installed (idempotent).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
EXTRA="${1:-}"
if [ ! -x "$ROOT/.venv/bin/python" ]; then
  "$PYTHON" -m venv "$ROOT/.venv"
fi
STAMP="$ROOT/.venv/.installed${EXTRA:+-$EXTRA}"
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
  "$ROOT/.venv/bin/python" -m pip install --quiet --upgrade pip
  "$ROOT/.venv/bin/python" -m pip install --quiet -e "$ROOT${EXTRA:+[$EXTRA]}"
  touch "$STAMP"
fi
# Qt needs a few system libraries even offscreen; install them only if Qt cannot load.
if ! QT_QPA_PLATFORM=offscreen "$ROOT/.venv/bin/python" -c \
    "from PySide6.QtWidgets import QApplication; QApplication([])" >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq libegl1 libgl1 libxkbcommon0 libfontconfig1 \
      libglib2.0-0 libdbus-1-3 fonts-dejavu-core >/dev/null
  else
    echo "Qt cannot start: install libegl1 libxkbcommon0 libfontconfig1 (see README)." >&2
  fi
fi
