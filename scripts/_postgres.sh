# Sourced by scripts/test.sh: give the tests a PostgreSQL server, or stop at once saying why.
#
# pg_for_tests PYTHON (a Python with the project's test dependencies) picks, in this order:
#   - PARKING_TEST_SKIP_PG=1: nothing (the PostgreSQL tests are skipped);
#   - PARKING_TEST_PG_ADMIN_URL, when set: that server, which must accept the connection;
#   - the default server (postgres@127.0.0.1:5432, trust authentication) if it accepts;
#   - otherwise a private throw-away cluster made with the installed server programs (initdb,
#     pg_ctl): a temporary folder, trust authentication, a free port on 127.0.0.1, its socket
#     in that folder; stopped and removed when the calling script exits. No root needed and no
#     system file or service touched. As root (initdb refuses to run as root) the cluster runs
#     as the unprivileged user "nobody", which then owns only that temporary folder.
# It exports PARKING_TEST_PG_ADMIN_URL for the tests. PARKING_TEST_PG_BINDIR names the folder
# with initdb and pg_ctl when they are somewhere unusual.

_PG_DEFAULT_URL="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
_PG_DIR=""
_PG_CTL=()

_pg_say() { echo "scripts/test.sh: $*" >&2; }

# The folder with initdb and pg_ctl: PATH first (Fedora, Homebrew, Postgres.app), then the
# versioned folders of Debian/Ubuntu and the PGDG packages, newest version first.
_pg_bindir() {
  local dir
  if [ -n "${PARKING_TEST_PG_BINDIR:-}" ]; then
    [ -x "$PARKING_TEST_PG_BINDIR/initdb" ] && [ -x "$PARKING_TEST_PG_BINDIR/pg_ctl" ] \
      && echo "$PARKING_TEST_PG_BINDIR"
    return 0
  fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin /usr/pgsql-*/bin \
      /opt/homebrew/opt/postgresql@*/bin /usr/local/opt/postgresql@*/bin 2>/dev/null \
      | sort -t/ -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
}

_pg_stop() {
  if [ -n "$_PG_DIR" ] && [ -d "$_PG_DIR" ]; then
    if [ -f "$_PG_DIR/data/postmaster.pid" ]; then
      "${_PG_CTL[@]}" stop -D "$_PG_DIR/data" -m immediate -s >/dev/null 2>&1 || true
    fi
    rm -rf "$_PG_DIR"
  fi
}

# pg_private_cluster PYTHON BINDIR [INITDB_OPTION...]: start the private cluster (options are
# added last, so they win); on failure say why (the log's last lines) and return 1.
pg_private_cluster() {
  local python="$1" bindir="$2" port
  shift 2
  local runas=()
  _PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/parking-test-pg.XXXXXX")"
  trap _pg_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  if [ "$(id -u)" = 0 ]; then
    if ! command -v runuser >/dev/null 2>&1 || ! id nobody >/dev/null 2>&1; then
      _pg_say "running as root, and initdb refuses root: run the tests as a normal user"
      return 1
    fi
    chown nobody "$_PG_DIR"   # the folder made just above, for the cluster alone
    runas=(runuser -u nobody --)
    if ! ${runas[@]+"${runas[@]}"} test -w "$_PG_DIR"; then
      _pg_say "running as root, the private cluster runs as \"nobody\", who cannot reach $_PG_DIR: set TMPDIR to a folder everyone can enter (e.g. /tmp), or run the tests as a normal user"
      return 1
    fi
  fi
  _PG_CTL=(${runas[@]+"${runas[@]}"} "$bindir/pg_ctl")
  port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  # UTF-8 like the program's text; C.UTF-8 where the system has it, plain C otherwise.
  if ! (cd "$_PG_DIR" && { ${runas[@]+"${runas[@]}"} "$bindir/initdb" -D "$_PG_DIR/data" -U postgres \
          --auth=trust --encoding=UTF8 --locale=C.UTF-8 "$@" >"$_PG_DIR/initdb.log" 2>&1 \
        || { rm -rf "$_PG_DIR/data"; ${runas[@]+"${runas[@]}"} "$bindir/initdb" -D "$_PG_DIR/data" -U postgres \
          --auth=trust --encoding=UTF8 --no-locale "$@" >>"$_PG_DIR/initdb.log" 2>&1; }; }); then
    _pg_say "initdb failed ($bindir/initdb): $(tail -n 3 "$_PG_DIR/initdb.log" | tr '\n' ' ')"
    return 1
  fi
  # The socket lives in the folder, unless its path would pass the 107-byte limit of a socket
  # name (a deep TMPDIR): then TCP on 127.0.0.1 only, which is what the tests use anyway.
  local sockets="$_PG_DIR"
  [ "${#_PG_DIR}" -gt 90 ] && sockets="''"
  # Throw-away data: no durability needed, so no waiting on the disk.
  if ! (cd "$_PG_DIR" && "${_PG_CTL[@]}" start -D "$_PG_DIR/data" -l "$_PG_DIR/server.log" \
        -w -t 120 -s -o "-p $port -c unix_socket_directories=$sockets \
        -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off \
        -c synchronous_commit=off" >/dev/null 2>&1); then
    _pg_say "the private PostgreSQL cluster did not start: $(tail -n 3 "$_PG_DIR/server.log" 2>/dev/null | tr '\n' ' ')"
    return 1
  fi
  export PARKING_TEST_PG_ADMIN_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
}

pg_for_tests() {
  local python="$1" problem bindir
  if [ "${PARKING_TEST_SKIP_PG:-}" = 1 ]; then
    _pg_say "PARKING_TEST_SKIP_PG=1: the PostgreSQL tests are skipped"
    return 0
  fi
  if [ -n "${PARKING_TEST_PG_ADMIN_URL:-}" ]; then
    if ! problem="$(cd "$ROOT" && "$python" -m tests.pg_support "$PARKING_TEST_PG_ADMIN_URL")"; then
      _pg_say "$problem (PARKING_TEST_PG_ADMIN_URL)"
      return 1
    fi
    return 0
  fi
  if problem="$(cd "$ROOT" && "$python" -m tests.pg_support "$_PG_DEFAULT_URL")"; then
    export PARKING_TEST_PG_ADMIN_URL="$_PG_DEFAULT_URL"
    return 0
  fi
  bindir="$(_pg_bindir)"
  if [ -z "$bindir" ]; then
    _pg_say "$problem, and the PostgreSQL server programs (initdb, pg_ctl) to start a private one are not installed: install them (Debian/Ubuntu: postgresql; Fedora: postgresql-server; macOS: brew install postgresql@16) or set PARKING_TEST_SKIP_PG=1 to skip the PostgreSQL tests"
    return 1
  fi
  _pg_say "$problem; using a private throw-away cluster ($bindir) instead"
  pg_private_cluster "$python" "$bindir"
}
