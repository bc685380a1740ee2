"""The command line under hostile input, through real processes on SQLite and PostgreSQL: an
empty value is bad usage (never "no filter"), every error is one line with control characters
escaped and no warning before it, every change names the operating-system user and host in the
audit trail, and `health` finds a damaged SQLite file, a PostgreSQL server out of connections
or behind on migrations, and folders open to other users (without changing them)."""

from __future__ import annotations

import getpass
import os
import random
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update

from parking_desktop.adapters.db import migrate
from parking_desktop.adapters.db.engine import make_engine
from parking_desktop.adapters.db.models import ParkingLot
from parking_desktop.adapters.db.schema_version import HEAD_REVISION
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.cli.main import run as run_cli
from parking_desktop.config import load_settings
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.services.health import server_verdict
from tests.conftest import PG_ADMIN_URL, _pg_admin_engine
from tests.integration.test_cli import PASSWORD, Cli, Run, make_lot


@pytest.fixture
def cli(tmp_path: Path, db_url: str) -> Cli:
    return Cli(tmp_path / "data", db_url)


def open_app(data_dir: Path, db_url: str) -> App:
    settings = load_settings(data_dir=data_dir, database_url=db_url, environ={},
                             dotenv_path=data_dir / "none")
    return build_app(settings, hasher=Argon2Hasher(fast=True))


def one_error_line(run: Run, code: int = 1) -> str:
    assert run.code == code, (run.out, run.err)
    lines = run.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.err
    return lines[0]


# --- empty values are bad usage ---------------------------------------------------------------
@pytest.mark.parametrize(("args", "complaint"), [
    (["park", "--lot", "City", "--vehicle", "AB12", "--user", ""],
     "argument --user: must not be empty"),
    (["stats", "--user", ""], "argument --user: must not be empty"),
    (["stats", "--user", "   "], "argument --user: must not be empty"),
    (["activity", "--user", "dana", "--type", ""], "argument --type: must not be empty"),
    (["activity", "--user", "dana", "--limit", "0"], "argument --limit: must be at least 1, not 0"),
    (["jobs", "history", "--limit", "0"], "argument --limit: must be at least 1, not 0"),
    (["jobs", "history", "--limit", "-5"], "argument --limit: must be at least 1, not -5"),
    (["jobs", "history", "--limit", ""], "argument --limit: must be a whole number, not ''"),
    (["jobs", "history", "--job", ""], "argument --job: must not be empty"),
    (["user", "add", "--username", "bob", "--role", "driver", "--email", ""],
     "argument --email: must not be empty"),
    (["user", "add", "--username", "bob", "--role", "driver", "--full-name", ""],
     "argument --full-name: must not be empty"),
    (["export", "--out", "x.csv", "--user", ""], "argument --user: must not be empty"),
    (["export", "--out", "x.csv", "--lot", ""], "argument --lot: must not be empty"),
    (["release", "--vehicle", ""], "argument --vehicle: must not be empty"),
    (["--db", "", "lots"], "argument --db: must not be empty"),
    (["--data-dir", "", "lots"], "argument --data-dir: must not be empty"),
    (["release", "--vehicle", "AB\r\nerror: fine"],
     "argument --vehicle: contains a control character (U+000D)"),
])
def test_an_empty_or_broken_value_is_bad_usage_before_anything_happens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], complaint: str
) -> None:
    data = tmp_path / "data"
    argv = args if args[0] in ("--db", "--data-dir") else ["--data-dir", str(data), *args]
    with pytest.raises(SystemExit) as exit_info:
        run_cli(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].endswith(f"error: {complaint}"), err
    assert not data.exists(), "refused before anything was created"


def test_park_with_an_empty_user_books_no_walk_in_and_stats_shows_no_dashboard(
    cli: Cli, db_url: str
) -> None:
    make_lot(cli.data_dir, db_url, "City", 2, "2.40")
    run = cli("park", "--lot", "City", "--vehicle", "AB12", "--user", "")
    assert run.code == 2 and "--user: must not be empty" in run.err
    assert cli("lots", "--json").json()[0]["free"] == 2  # no walk-in was booked
    stats = cli("stats", "--user", "", "--json")
    assert stats.code == 2 and stats.out == ""  # not the whole dashboard


# --- one line per error ---------------------------------------------------------------------
def test_control_characters_in_stored_data_are_escaped_in_the_error_line(
    cli: Cli, db_url: str
) -> None:
    """A lot named before names were checked, with CR, LF and ESC in it: the refusal that quotes
    it stays one line and cannot drive the terminal."""
    make_lot(cli.data_dir, db_url, "City", 1, "2.40")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(update(ParkingLot).values(name="City\r\nerror: fake\x1b[2J"))
    finally:
        engine.dispose()
    assert cli("park", "--lot", "CC001", "--vehicle", "AB12").code == 0
    line = one_error_line(cli("park", "--lot", "CC001", "--vehicle", "XY34"))
    assert line == r"error: Lot 'City\r\nerror: fake\x1b[2J' is full: no spot is available."


def test_a_warning_does_not_precede_the_error_and_still_shows_after_a_success(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    """An unusable cache folder logs a warning while the program starts; a refused command
    still prints exactly one line, a successful one shows the warning after its output."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = {"CACHE_DIR": str(blocker)}
    make_lot(cli.data_dir, db_url, "City", 1, "2.40")
    one_error_line(cli("park", "--lot", "Nowhere", "--vehicle", "AB12", env=env))
    listed = cli("lots", "--json", env=env)
    assert listed.code == 0 and listed.json()[0]["name"] == "City"
    warnings = listed.err.splitlines()
    assert len(warnings) == 1 and "WARNING" in warnings[0] and "unusable" in warnings[0]


# --- the audit trail names who ran the command ------------------------------------------------
def test_every_cli_change_names_the_operating_system_user_and_host(
    cli: Cli, db_url: str
) -> None:
    make_lot(cli.data_dir, db_url, "City", 2, "2.40")
    assert cli("user", "add", "--username", "ann", "--role", "attendant",
               password=PASSWORD).code == 0
    assert cli("park", "--lot", "City", "--vehicle", "AB12", "--user", "dana").code == 0
    assert cli("release", "--vehicle", "AB12").code == 0
    app = open_app(cli.data_dir, db_url)
    try:
        entries = app.activity.history(SYSTEM, limit=100).items
    finally:
        app.close()
    by_type = {(e.activity_type, e.activity_data.get("actor")) for e in entries}
    who = f"cli:{getpass.getuser()}@{socket.gethostname()}"
    assert {("user_created", who), ("booking_created", who), ("parked", who),
            ("booking_completed", who)} <= by_type, by_type
    # What the test's own setup did through the services (no command line) names nobody.
    assert ("lot_created", None) in by_type


# --- health -------------------------------------------------------------------------------------
def _damage(path: Path, pages: int = 4) -> None:
    """Write random bytes over a few pages in the middle of a database file."""
    size = path.stat().st_size
    assert size > 64 * 4096, "too small to damage only its middle"
    offset = (size // 2) // 4096 * 4096
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(random.Random(7).randbytes(pages * 4096))


@pytest.fixture
def damaged_site(tmp_path: Path) -> Cli:
    """A SQLite site with 20,000 spots whose file has garbage in its middle pages."""
    data = tmp_path / "site"
    app = open_app(data, f"sqlite:///{data / 'parking.db'}")
    try:
        for i in range(4):
            app.lots.create(SYSTEM, name=f"Lot {i}", address="1 Main St", pin_code=f"LOT{i}",
                            price_per_hour="2.00", number_of_spots=5000)
    finally:
        app.close()  # the last connection checkpoints the WAL into the file
    assert not (data / "parking.db-wal").exists() or \
        (data / "parking.db-wal").stat().st_size == 0
    _damage(data / "parking.db")
    return Cli(data, None)


def test_health_finds_a_damaged_sqlite_file_and_says_what_to_do(damaged_site: Cli) -> None:
    for deep, pragma in ((False, "quick_check"), (True, "integrity_check")):
        run = damaged_site("health", *(["--deep"] if deep else []))
        assert run.code == 1, run.out
        assert run.out.strip().endswith("NOT healthy.")
        [row] = [line for line in run.out.splitlines() if line.startswith("integrity")]
        assert "FAIL" in row and f"the database file is damaged ({pragma}:" in row
        assert "restore it from a backup (docs/deployment.md" in row
    report = damaged_site("health", "--json").json()
    integrity = next(c for c in report["checks"] if c["name"] == "integrity")
    assert report["healthy"] is False and integrity["ok"] is False
    assert len(integrity["detail"].splitlines()) == 1


def test_health_runs_quick_check_or_integrity_check_on_a_sound_file(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", None)
    assert cli("db", "upgrade").code == 0
    quick = {c["name"]: c for c in cli("health", "--json").json()["checks"]}
    deep = {c["name"]: c for c in cli("health", "--deep", "--json").json()["checks"]}
    assert quick["integrity"] == {"name": "integrity", "ok": True, "detail": "quick_check: ok",
                                  "warning": False}
    assert deep["integrity"]["detail"] == "integrity_check: ok"


def test_health_warns_about_folders_open_to_others_and_leaves_them_as_they_are(
    tmp_path: Path,
) -> None:
    """A data folder readable by others is reported (WARN, still healthy); its mode is not
    changed, since the program may not own it. A database elsewhere has its folder checked
    too."""
    data = tmp_path / "shared"
    data.mkdir()
    data.chmod(0o755)  # our own test folder
    elsewhere = tmp_path / "db"
    elsewhere.mkdir(mode=0o700)
    db = f"sqlite:///{elsewhere / 'parking.db'}"
    cli = Cli(data, db)
    assert cli("db", "upgrade").code == 0
    data.chmod(0o755)  # whatever `db upgrade` did, the folder is shared now
    for folder in (data / "cache", data / "exports"):
        folder.chmod(0o700)
    run = cli("health")
    assert run.code == 0, run.out
    assert run.out.strip().endswith("Healthy (1 warning).")
    [row] = [line for line in run.out.splitlines() if line.startswith("data folder")]
    assert "WARN" in row and "open to other users (mode 0755)" in row
    assert f"chmod 700 {data}" in row
    assert (data.stat().st_mode & 0o777) == 0o755
    checks = {c["name"]: c for c in cli("health", "--json").json()["checks"]}
    assert checks["database folder"]["ok"] and not checks["database folder"]["warning"]
    assert checks["data folder"]["warning"] is True and checks["data folder"]["ok"] is True

    elsewhere.chmod(0o775)
    checks = {c["name"]: c for c in cli("health", "--json").json()["checks"]}
    assert checks["database folder"]["warning"] is True
    assert "open to other users (mode 0775)" in checks["database folder"]["detail"]


@pytest.mark.postgres
def test_health_on_postgresql_reports_the_server_and_its_connections(
    tmp_path: Path, pg_database_url: str
) -> None:
    report = Cli(tmp_path / "data", pg_database_url)("health", "--json").json()
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["server"]["ok"] is True, checks["server"]
    assert checks["server"]["detail"].startswith("PostgreSQL 1")
    assert "connections in use" in checks["server"]["detail"]
    assert checks["schema"]["ok"] is True and "integrity" not in checks


@pytest.fixture
def pg_behind(tmp_path: Path) -> Iterator[str]:
    """A PostgreSQL database migrated only to the revision before the code's head."""
    if os.environ.get("PARKING_TEST_SKIP_PG") == "1":
        pytest.skip("PostgreSQL tests skipped by PARKING_TEST_SKIP_PG=1")
    name = f"pd_behind_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, "0003")
    finally:
        engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_health_on_postgresql_says_when_the_migrations_lag_behind_the_program(
    tmp_path: Path, pg_behind: str
) -> None:
    cli = Cli(tmp_path / "data", pg_behind)
    run = cli("health", "--json")
    assert run.code == 1
    schema = next(c for c in run.json()["checks"] if c["name"] == "schema")
    assert schema == {"name": "schema", "ok": False, "warning": False,
                      "detail": f"at revision 0003, {HEAD_REVISION} expected: run `db upgrade`"}
    assert cli("db", "upgrade").code == 0
    assert cli("health").code == 0


@pytest.mark.parametrize(("version_num", "used", "usable", "ok", "warning", "says"), [
    (150004, 10, 97, True, False, "PostgreSQL 15.4, 10 of 97 connections in use"),
    (150004, 80, 97, True, True, "close to max_connections"),
    (150004, 97, 97, False, False, "no connection is left for another kiosk"),
    (110020, 3, 97, False, False, "PostgreSQL 12 or newer is needed"),
])
def test_the_server_verdict(version_num: int, used: int, usable: int, ok: bool,
                            warning: bool, says: str) -> None:
    version = f"{version_num // 10000}.{version_num % 100}"
    verdict: Any = server_verdict(version, version_num, used, usable)
    assert (verdict.ok, verdict.warning) == (ok, warning)
    assert says in verdict.detail


def test_health_on_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    """health changes nothing: a database file that does not exist is reported, not made."""
    elsewhere = tmp_path / "not-yet"
    cli = Cli(tmp_path / "data", f"sqlite:///{elsewhere / 'parking.db'}")
    run = cli("health", "--json")
    assert run.code == 1
    checks = {c["name"]: c for c in run.json()["checks"]}
    assert not checks["database"]["ok"]
    assert "does not exist yet" in checks["database"]["detail"]
    assert not elsewhere.exists()
