#!/usr/bin/env bash
# Install the project into .venv, fill ./demo-data with demo data (first time only) and open the
# manager desktop on it. Pass "kiosk" to open the kiosk instead.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/_venv.sh"
cd "$ROOT"
DATA="$ROOT/demo-data"
if [ ! -f "$DATA/parking.db" ]; then
  .venv/bin/python main.py --data-dir "$DATA" demo | tee "$DATA.sign-ins.txt"
else
  echo "Demo database already in $DATA (sign-ins: $DATA.sign-ins.txt)"
fi
exec .venv/bin/python main.py --data-dir "$DATA" "$@"
