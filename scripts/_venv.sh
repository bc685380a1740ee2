# Sourced by the quick-start scripts: make .venv with the project installed (idempotent), then
# check that Qt finds its system libraries. Stops with one line saying what to install; never
# installs system packages itself.
#   source scripts/_venv.sh [EXTRA]       EXTRA: an optional dependency group, e.g. "test"
# QT_PLATFORMS (default: offscreen) names the Qt platform plugins to check.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
EXTRA="${1:-}"
VENV="$ROOT/.venv"
source "$ROOT/scripts/_qt_libs.sh"

_venv_fail() { echo "$*" >&2; exit 1; }

# What to install so that `python3 -m venv` works, for the system we are on (README has it too).
_venv_hint() {
  if command -v apt-get >/dev/null 2>&1; then
    echo "sudo apt-get install python3-venv"
  elif command -v dnf >/dev/null 2>&1; then
    echo "sudo dnf install python3 (Fedora's python3 includes venv)"
  elif [ "$(uname -s)" = Darwin ]; then
    echo "brew install python@3.12, or Python from python.org"
  else
    echo "Python 3.11+ with its venv and ensurepip modules (README, \"Quick start\")"
  fi
}

command -v "$PYTHON" >/dev/null 2>&1 || _venv_fail "No $PYTHON found: install Python 3.11+ ($(_venv_hint))."
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || _venv_fail "$("$PYTHON" -V 2>&1) is too old: Parking Desktop needs Python 3.11+."

# A .venv left half-made (venv stopped by a missing ensurepip, an interrupted pip, a Python
# that has since been removed) is not repaired in place: it is removed and made again.
if [ -e "$VENV" ] && ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "Removing the broken .venv (no working python or pip in it); making it again." >&2
  rm -rf "$VENV"
fi
if [ ! -e "$VENV" ]; then
  # Debian and Ubuntu ship venv's ensurepip in a separate package: say so before trying.
  "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 \
    || _venv_fail "Python's venv module cannot make .venv here (no ensurepip): install it with: $(_venv_hint)"
  if ! out="$("$PYTHON" -m venv "$VENV" 2>&1)"; then
    rm -rf "$VENV"
    _venv_fail "python3 -m venv failed: $(tail -n 1 <<<"$out") — install: $(_venv_hint)"
  fi
fi
STAMP="$VENV/.installed${EXTRA:+-$EXTRA}"
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$ROOT${EXTRA:+[$EXTRA]}"
  touch "$STAMP"
fi
# shellcheck disable=SC2086  # QT_PLATFORMS is a list of words
qt_libs_check "$VENV/bin/python" ${QT_PLATFORMS:-offscreen} || exit 1
