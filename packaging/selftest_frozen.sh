#!/usr/bin/env bash
# Check the frozen program: build it if needed (or with --rebuild), then run its --self-test,
# a few CLI commands on a throw-away SQLite data folder, the worker until SIGTERM, and the
# desktop and kiosk offscreen for a few seconds. Exit 0 when everything behaved.
#
#   bash packaging/selftest_frozen.sh [--rebuild]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
APP=$ROOT/dist/parking-desktop
EXE=$APP/parking-desktop
[[ -x $EXE ]] || EXE=$EXE.exe

if [[ ${1:-} == --rebuild || ! -x $EXE ]]; then
  bash packaging/build.sh
  EXE=$APP/parking-desktop
  [[ -x $EXE ]] || EXE=$EXE.exe
fi

export QT_QPA_PLATFORM=offscreen
# Nothing of this machine's configuration may leak in: a private temporary folder holds the
# data, and the commands run from it (no .env is read from the source tree).
WORK=$(mktemp -d "${TMPDIR:-/tmp}/parking-frozen.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
unset DATABASE_URL CACHE_DIR UPLOAD_FOLDER PARKING_DATA_DIR SCHEDULER_ENABLED
DATA=$WORK/data
CLI=("$EXE" --data-dir "$DATA" --db "sqlite:///$DATA/parking.db")
failures=0

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "FAILED: $*" >&2; failures=$((failures + 1)); }
run() {  # run a command, show its output, fail the step on a non-zero exit
  local name=$1; shift
  if ! "$@" >"$WORK/out" 2>"$WORK/err"; then
    cat "$WORK/out" "$WORK/err"; fail "$name exited with $?"; return 1
  fi
  cat "$WORK/out"
}
is_json() { python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1"; }

step "self-test ($EXE --self-test)"
start=$(date +%s)
run "--self-test" "$EXE" --self-test && echo "(self-test took $(( $(date +%s) - start )) s)"

step "demo --drivers 20 --days 5"
run demo "${CLI[@]}" demo --drivers 20 --days 5 >/dev/null && tail -n 5 "$WORK/out"

step "stats --json"
if run "stats --json" "${CLI[@]}" stats --json >/dev/null; then
  cp "$WORK/out" "$WORK/stats-sqlite.json"
  is_json "$WORK/out" && head -c 300 "$WORK/out" && echo || fail "stats --json printed no JSON"
fi

step "health --json"
if run "health --json" "${CLI[@]}" health --json >/dev/null; then
  is_json "$WORK/out" && head -c 300 "$WORK/out" && echo || fail "health --json printed no JSON"
fi

# PostgreSQL through the frozen psycopg binary layer, when a server is at hand (CI has one):
# copy the demo into a new database and compare the figures.
export PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres}
if command -v createdb >/dev/null && pg_isready -q 2>/dev/null; then
  step "db copy --to PostgreSQL, then stats --json there"
  pgdb=parking_frozen_$$
  createdb "$pgdb"
  PG_URL="postgresql://$PGUSER@$PGHOST/$pgdb"
  if run "db copy" "${CLI[@]}" db copy --to "$PG_URL" >/dev/null; then
    tail -n 1 "$WORK/out"
    if run "stats on PostgreSQL" "$EXE" --data-dir "$DATA" --db "$PG_URL" stats --json >/dev/null; then
      python3 - "$WORK/stats-sqlite.json" "$WORK/out" <<'PY' || fail "PostgreSQL figures differ"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
keys = ("lots", "spots", "drivers", "reservations_total", "revenue_total")
diff = {k: (a[k], b[k]) for k in keys if a[k] != b[k]}
print("same figures on PostgreSQL:", {k: b[k] for k in keys} if not diff else diff)
sys.exit(1 if diff else 0)
PY
    fi
  fi
  dropdb "$pgdb" || true
else
  step "PostgreSQL: no server at $PGHOST (pg_isready), skipped"
fi

# The demo's monthly reports are queued for delivery. With a mail server on this machine (the
# test tools' aiosmtpd, when .venv has it) the frozen worker must deliver them and exit 0;
# without one it must say in one line that nothing could be delivered, and exit 1.
SMTP_PY=$ROOT/.venv/bin/python
if [[ -x $SMTP_PY ]] && "$SMTP_PY" -c "import aiosmtpd" 2>/dev/null; then
  smtp_port=$("$SMTP_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$SMTP_PY" -m aiosmtpd -n -l "127.0.0.1:$smtp_port" >"$WORK/smtp.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 30); do
    "$SMTP_PY" -c "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1)" \
      "$smtp_port" 2>/dev/null && break
    sleep 0.5
  done
  export MAIL_SERVER=127.0.0.1 MAIL_PORT=$smtp_port
  step "worker --once (mail server on 127.0.0.1:$smtp_port)"
  run "worker --once" "${CLI[@]}" worker --once && cat "$WORK/err"
else
  step "worker --once (no mail server: must fail in one line)"
  code=0; "${CLI[@]}" worker --once >"$WORK/out" 2>"$WORK/err" || code=$?
  if [[ $code == 1 ]] && grep -q "^error: .*could be delivered" "$WORK/err"; then
    tail -n 1 "$WORK/err"
  else
    cat "$WORK/out" "$WORK/err"; fail "worker --once without a mail server exited with $code"
  fi
fi

step "worker until SIGTERM"
"${CLI[@]}" worker >"$WORK/worker.log" 2>&1 &
worker=$!; pids+=("$worker")
for _ in $(seq 1 60); do
  grep -q "Worker running" "$WORK/worker.log" && break
  kill -0 "$worker" 2>/dev/null || break
  sleep 1
done
if grep -q "Worker running" "$WORK/worker.log"; then
  kill -TERM "$worker"
  code=0; wait "$worker" || code=$?
  tail -n 4 "$WORK/worker.log"
  [[ $code == 0 ]] && echo "worker stopped on SIGTERM with exit code 0" \
    || fail "worker exited with $code after SIGTERM"
else
  cat "$WORK/worker.log"; fail "the worker did not start"
fi

# The GUI commands have no way to quit by themselves (a kiosk waits for a manager): each must
# come up and keep running for a few seconds without an error, then SIGTERM must end it cleanly.
for gui in desktop "kiosk --windowed"; do
  step "$gui (offscreen, 8 s)"
  # shellcheck disable=SC2086
  "${CLI[@]}" -v $gui >"$WORK/gui.log" 2>&1 &
  pid=$!; pids+=("$pid")
  sleep 8
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"; code=0; wait "$pid" 2>/dev/null || code=$?
    if grep -E "Traceback| ERROR |CRITICAL" "$WORK/gui.log"; then
      fail "$gui logged errors"
    elif (( code != 0 )); then
      fail "$gui did not stop cleanly on SIGTERM (exit code $code)"
    else
      echo "$gui ran for 8 s without an error and stopped on SIGTERM ($(wc -l <"$WORK/gui.log") log lines)"
    fi
  else
    code=0; wait "$pid" || code=$?
    cat "$WORK/gui.log"; fail "$gui exited early with $code"
  fi
done

echo
if (( failures )); then
  echo "Frozen build check FAILED ($failures step(s))." >&2
  exit 1
fi
echo "Frozen build check passed: $(du -sh "$APP" | cut -f1) in $APP."
