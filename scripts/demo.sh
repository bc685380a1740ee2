#!/usr/bin/env bash
# Install the project into .venv, fill ./demo-data with demo data (first time only) and open the
# manager desktop on it. Pass "kiosk" to open the kiosk instead.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_qt_libs.sh"
# Check the libraries of the platform the window will really use (xcb on X11, wayland), not
# only offscreen: a missing libxcb-cursor0 must be found here, before the window fails.
QT_PLATFORMS="$(qt_real_platforms)"
if [ -z "$QT_PLATFORMS" ]; then
  echo "No display (neither DISPLAY nor WAYLAND_DISPLAY is set): run this on a desktop, or with QT_QPA_PLATFORM=offscreen to try it without a screen." >&2
  exit 1
fi
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
cd "$ROOT"
DATA="$ROOT/demo-data"
if [ ! -f "$DATA/parking.db" ]; then
  # The sign-ins file holds the demo password: private to the user, like the data folder.
  (umask 077 && .venv/bin/python main.py --data-dir "$DATA" demo | tee "$DATA.sign-ins.txt")
else
  echo "Demo database already in $DATA (sign-ins: $DATA.sign-ins.txt)"
fi
exec .venv/bin/python main.py --data-dir "$DATA" "$@"
