"""scripts/_postgres.sh, which gives scripts/test.sh its PostgreSQL server, and the one-line
causes of tests/pg_support.py: real bash, real initdb/pg_ctl, real connections."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from tests.conftest import PG_ADMIN_URL
from tests.pg_support import probe

ROOT = Path(__file__).resolve().parents[2]
PYTHON = os.environ.get("PARKING_TEST_PYTHON") or str(ROOT / ".venv" / "bin" / "python")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bash(script: str, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (arguments: ``args``) after sourcing scripts/_postgres.sh, as
    scripts/test.sh does."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PARKING_TEST_")}
    environ.update(env, TMPDIR=str(tmp_path))
    return subprocess.run(
        ["bash", "-c", f'set -euo pipefail; ROOT="{ROOT}"; source "$ROOT/scripts/_postgres.sh"\n'
         + script, "bash", *args],
        capture_output=True, text=True, env=environ, timeout=180, cwd=ROOT)


def _is_postgres(proc: Path) -> bool:
    try:
        return "postgres" in (proc / "comm").read_text()
    except OSError:  # ended (or a zombie reaped) meanwhile
        return False


def _bindir() -> str:
    found = subprocess.run(["bash", "-c", f'source "{ROOT}/scripts/_postgres.sh"; _pg_bindir'],
                           capture_output=True, text=True, check=True).stdout.strip()
    if not found:
        pytest.skip("the PostgreSQL server programs (initdb, pg_ctl) are not installed here")
    return found


def test_a_refused_connection_is_named_as_such() -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/postgres"
    assert probe(url) == (f"PostgreSQL at {url.split('@')[1].split('/')[0]}: connection "
                          "refused: no PostgreSQL server listens there")


@pytest.mark.postgres
def test_an_unknown_role_is_named_not_called_unreachable() -> None:
    if os.environ.get("PARKING_TEST_SKIP_PG") == "1":
        pytest.skip("PostgreSQL tests skipped by PARKING_TEST_SKIP_PG=1")
    url = PG_ADMIN_URL.replace("postgres@", "no_such_role_for_tests@", 1)
    problem = probe(url)
    assert problem is not None
    assert problem.endswith('the server has no role "no_such_role_for_tests"')


def test_a_server_set_by_url_that_refuses_stops_the_run_with_one_line(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/postgres"
    done = _bash(f'pg_for_tests "{PYTHON}"; echo "not reached"', tmp_path,
                 PARKING_TEST_PG_ADMIN_URL=url)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "connection refused" in done.stderr and "PARKING_TEST_PG_ADMIN_URL" in done.stderr


def test_no_server_and_no_server_programs_says_what_to_install(tmp_path: Path) -> None:
    done = _bash(f'_PG_DEFAULT_URL="postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/postgres"'
                 f'\npg_for_tests "{PYTHON}"; echo "not reached"', tmp_path,
                 PARKING_TEST_PG_BINDIR=str(tmp_path / "nothing-here"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "connection refused" in done.stderr
    assert "postgresql" in done.stderr and "PARKING_TEST_SKIP_PG=1" in done.stderr


def test_skip_variable_needs_no_server(tmp_path: Path) -> None:
    done = _bash(f'pg_for_tests "{PYTHON}"; echo "go on"', tmp_path, PARKING_TEST_SKIP_PG="1",
                 PARKING_TEST_PG_BINDIR=str(tmp_path / "nothing-here"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "go on\n"


@pytest.mark.slow
def test_without_a_server_a_private_cluster_serves_the_run_and_is_removed_after(
        tmp_path: Path) -> None:
    bindir = _bindir()
    # As root the cluster runs as "nobody", who cannot enter pytest's private tmp_path.
    tmp = Path("/tmp") if os.geteuid() == 0 else tmp_path
    done = _bash(
        f'_PG_DEFAULT_URL="postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/postgres"\n'
        f'pg_for_tests "{PYTHON}"\n'
        'echo "URL=$PARKING_TEST_PG_ADMIN_URL"\n'
        'echo "DIR=$_PG_DIR"\n'
        'echo "PID=$(head -n 1 "$_PG_DIR/data/postmaster.pid")"\n'
        f'"{PYTHON}" -c "import psycopg, sys; c = psycopg.connect(sys.argv[1], autocommit=True);'
        ' print(\'ENCODING=\' + c.execute(\'SHOW server_encoding\').fetchone()[0]);'
        ' c.execute(\'CREATE DATABASE made_by_the_test\')" '
        '"${PARKING_TEST_PG_ADMIN_URL/+psycopg/}"\n',
        tmp, PARKING_TEST_PG_BINDIR=bindir)
    assert done.returncode == 0, done.stderr
    assert "using a private throw-away cluster" in done.stderr
    values = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert values["URL"].startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert values["ENCODING"] == "UTF8"
    folder = Path(values["DIR"])
    assert folder.parent == tmp  # inside TMPDIR, nowhere else
    # When the script ended, the cluster stopped and its folder went with it.
    assert not folder.exists()
    # pg_ctl returns once the server removed its pid file; the process ends just after.
    server = Path(f"/proc/{values['PID']}")
    deadline = time.monotonic() + 60
    while server.exists() and _is_postgres(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (server.exists() and _is_postgres(server))
    with pytest.raises(psycopg.OperationalError, match=r"(?i)connection refused"):
        psycopg.connect(values["URL"].replace("+psycopg", ""), connect_timeout=5)


@pytest.mark.slow
def test_a_cluster_without_utf8_still_gets_a_utf8_test_database(tmp_path: Path) -> None:
    """initdb on a system without locales makes a SQL_ASCII cluster, where psycopg would
    return bytes for text: the tests' database is made in UTF8 anyway."""
    bindir = _bindir()
    tmp = Path("/tmp") if os.geteuid() == 0 else tmp_path
    check = (
        "import sys\n"
        "from sqlalchemy import create_engine, text\n"
        "from tests.pg_support import admin_engine, create_test_database\n"
        "admin = admin_engine(sys.argv[1])\n"
        "with admin.connect() as conn:\n"
        "    print('CLUSTER=' + conn.execute(text('SHOW server_encoding')).scalar_one())\n"
        "    create_test_database(conn, 'made_by_the_test')\n"
        "db = create_engine(sys.argv[1].rsplit('/', 1)[0] + '/made_by_the_test')\n"
        "with db.connect() as conn:\n"
        "    print('DATABASE=' + conn.execute(text('SHOW server_encoding')).scalar_one())\n"
        "    print('TEXT=' + repr(conn.execute(text(\"SELECT 'Café Zürich'\")).scalar_one()))\n"
        "db.dispose()\n"
    )
    done = _bash(
        f'pg_private_cluster "{PYTHON}" "{bindir}" --encoding=SQL_ASCII --no-locale\n'
        f'"{PYTHON}" -c "$1" "$PARKING_TEST_PG_ADMIN_URL"\n', tmp, check)
    assert done.returncode == 0, done.stderr
    values = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert values["CLUSTER"] == "SQL_ASCII"
    assert values["DATABASE"] == "UTF8"
    assert values["TEXT"] == repr("Café Zürich")
