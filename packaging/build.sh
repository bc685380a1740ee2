#!/usr/bin/env bash
# Build the one-folder program: dist/parking-desktop/parking-desktop (+ _internal/).
#
#   bash packaging/build.sh            # uses .venv if it exists, else creates build/venv
#   PARKING_BUILD_VENV=/path bash packaging/build.sh   # use (or create) that environment
#
# The environment gets the project's runtime dependencies and the `packaging` extra
# (PyInstaller) from pyproject.toml. Prints the build time and the folder's size.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

VENV=${PARKING_BUILD_VENV:-}
if [[ -z $VENV ]]; then
  if [[ -x .venv/bin/python ]]; then VENV=.venv; else VENV=build/venv; fi
fi
if [[ ! -x $VENV/bin/python && ! -x $VENV/Scripts/python.exe ]]; then
  echo "==> creating the build environment $VENV"
  python3 -m venv "$VENV"
fi
PY=$VENV/bin/python
[[ -x $PY ]] || PY=$VENV/Scripts/python.exe   # Git Bash on Windows

# Install what is missing: runtime dependencies + PyInstaller (quiet when all is there).
if ! "$PY" -c "import PyInstaller, PySide6, sqlalchemy, psycopg, keyring" 2>/dev/null; then
  echo "==> installing the dependencies and PyInstaller into $VENV"
  "$PY" -m pip install --upgrade pip >/dev/null
  # Editable, like scripts/_venv.sh: the build reads the source tree either way.
  "$PY" -m pip install -e ".[packaging]"
fi

echo "==> PyInstaller $("$PY" -c 'import PyInstaller; print(PyInstaller.__version__)') on $("$PY" -V)"
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" \
  packaging/parking_desktop.spec
took=$(( $(date +%s) - start ))

APP=dist/parking-desktop
EXE=$APP/parking-desktop
[[ -x $EXE || -x $EXE.exe ]] || { echo "build failed: $EXE is missing" >&2; exit 1; }
size=$(du -sh "$APP" | cut -f1)
files=$(find "$APP" -type f | wc -l)
echo "==> built $APP in ${took} s: ${size} on disk, ${files} files"
echo "    run it: $EXE --help    check it: bash packaging/selftest_frozen.sh"
