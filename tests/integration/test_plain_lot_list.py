"""`lots --json` after a cache miss reads the list over the plain DB-API (services/parking/
lot_list.py), without SQLAlchemy: it must print what the App's LotService.search() prints, byte
for byte, fill the cache with what the App would store, and leave to the App every database it
cannot serve as the App would (a schema to upgrade or refuse). Real processes, real SQLite files
and the real PostgreSQL server."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from parking_desktop.adapters.db.engine import make_engine, normalise_url
from parking_desktop.adapters.db.plain import money_from_db, pg_connect_arguments
from parking_desktop.adapters.db.schema_version import HEAD_REVISION
from parking_desktop.bootstrap import App, build_app
from parking_desktop.cli.base import print_json
from parking_desktop.cli.core_commands import lots_document
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import SystemClock
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.domain.tariffs import ALL_DAYS, Band, flat_tariff
from parking_desktop.services.parking.lot_list import read_active_lots
from parking_desktop.services.parking.lots import LotService
from tests.integration.test_cli_startup import loaded

ROOT = Path(__file__).resolve().parents[2]


def main_py(data: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data), "--db", db_url, *args],
        capture_output=True, text=True, cwd=data.parent, stdin=subprocess.DEVNULL, timeout=300,
        env={**os.environ, "PARKING_PASSWORD": "plain-Read-Pass-1"})


def open_app(data: Path, db_url: str) -> App:
    return build_app(load_settings(data_dir=data, database_url=db_url))


def varied_site(data: Path, db_url: str) -> None:
    """A small demo, then what the demo lacks: a stored two-band tariff in force and a later
    one not yet in force, a lot whose only version starts tomorrow, an archived lot, a lot
    shrunk (removed spots) and a price with cents."""
    done = main_py(data, db_url, "demo", "--drivers", "20", "--days", "2")
    assert done.returncode == 0, done.stderr
    app = open_app(data, db_url)
    try:
        first, second = app.lots.search()[:2]
        day_night = dataclasses.replace(
            flat_tariff(Decimal("2.40")),
            bands=(Band(ALL_DAYS, time(8, 0), time(20, 0), Decimal("2.40"), "day rate"),
                   Band(ALL_DAYS, time(20, 0), time(8, 0), Decimal("0.95"), "night rate")),
            daily_maximum=Decimal("18.00"), grace=timedelta(minutes=10))
        app.tariffs.save(first.id, day_night, SYSTEM)
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        later = dataclasses.replace(flat_tariff(Decimal("3.10")), effective_from=tomorrow)
        app.tariffs.save(first.id, later, SYSTEM)
        app.tariffs.save(second.id, later, SYSTEM)
        quai = app.lots.create(SYSTEM, name="Quai 7", address="7 Quai", pin_code="QUAI7",
                               price_per_hour=Decimal("2.67"), number_of_spots=5)
        app.lots.resize(SYSTEM, quai.id, 2)
        pier = app.lots.create(SYSTEM, name="Old Pier", address="1 Pier", pin_code="PIER1",
                               price_per_hour=Decimal("1.00"), number_of_spots=1)
        app.lots.archive(SYSTEM, pier.id)
    finally:
        app.close()


def reference_output(data: Path, db_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    """What `lots --json` printed before: the App's LotService.search() read from the
    database (not the cache), printed by the command's own code."""
    app = open_app(data, db_url)
    try:
        lots = LotService(app.ctx).search()
    finally:
        app.close()
    capsys.readouterr()
    print_json(lots_document(lots))
    return capsys.readouterr().out


def test_plain_read_prints_what_the_app_prints_and_fills_its_cache(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    varied_site(data, db_url)
    expected = reference_output(data, db_url, capsys)
    # The site is varied: a two-band tariff, a resized lot; the archived lot is not listed.
    assert '"night rate"' in expected and '"Quai 7"' in expected
    assert '"Old Pier"' not in expected

    assert main_py(data, db_url, "cache", "clear").returncode == 0
    plain, modules = loaded("--db", db_url, "lots", "--json", data_dir=data)
    assert plain.returncode == 0, plain.stderr
    assert "sqlalchemy" not in modules  # read over the plain DB-API
    cached, modules = loaded("--db", db_url, "lots", "--json", data_dir=data)
    assert cached.returncode == 0, cached.stderr
    assert "sqlalchemy" not in modules and "psycopg" not in modules  # served by the cache
    assert plain.stdout == expected
    assert cached.stdout == expected

    # The entry the plain read stored is what the App itself would have stored and serves.
    app = open_app(data, db_url)
    try:
        assert app.lots.search() == LotService(app.ctx).search()
        assert app.cache.info(SYSTEM).hits >= 1
    finally:
        app.close()


def test_plain_read_equals_the_service_in_process(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    varied_site(data, db_url)
    app = open_app(data, db_url)
    try:
        clock = SystemClock()
        assert read_active_lots(db_url, currency=app.settings.currency, clock=clock) == \
            LotService(app.ctx).search()
    finally:
        app.close()


def test_a_newer_schema_is_refused_in_one_line_and_left_alone(
        db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert main_py(data, db_url, "lots", "--json").returncode == 0
    assert main_py(data, db_url, "cache", "clear").returncode == 0  # as after any write
    engine = make_engine(db_url)
    try:
        set_revision(engine, "0999")
        done = main_py(data, db_url, "lots", "--json")
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.splitlines() == [
            "error: Can't locate revision identified by '0999' (run with -v for details)"]
        with engine.connect() as connection:
            assert connection.execute(
                text("SELECT version_num FROM alembic_version")).scalars().all() == ["0999"]
    finally:
        set_revision(engine, HEAD_REVISION)  # the PostgreSQL database serves later tests
        engine.dispose()


def set_revision(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


@pytest.mark.parametrize("url", [
    "postgresql://root@127.0.0.1:5432/test",
    "postgres://root:s%40cret%3A@db.example.org/parking?sslmode=require&application_name=x",
    "postgresql+psycopg://u@[::1]:5433/db?target_session_attrs=read-write&connect_timeout=3",
    "postgresql://localhost/db",
])
def test_connection_arguments_are_sqlalchemys(url: str) -> None:
    """The plain read connects with exactly what SQLAlchemy's psycopg dialect would pass."""
    engine = make_engine(url)
    try:
        _, expected = engine.dialect.create_connect_args(make_url(normalise_url(url)))
    finally:
        engine.dispose()
    expected["connect_timeout"] = 10  # make_engine's connect_args
    # SQLAlchemy's copy of psycopg's adapters: it differs only for inet/cidr columns and
    # custom JSON functions, neither of which the lot list reads.
    expected.pop("context", None)
    assert pg_connect_arguments(url) == expected


@pytest.mark.parametrize("url", [
    "postgresql://u@/db?host=a:5432,b:5433",  # several hosts: SQLAlchemy's form, its parser
    "postgresql://u@h/db?options=-c%20x",
    "postgresql://u@h/db?a=1&a=2",
    "mysql://u@h/db",
])
def test_other_url_forms_are_left_to_the_app(url: str) -> None:
    assert pg_connect_arguments(url) is None


def test_money_reads_as_sqlalchemy_reads_it() -> None:
    """SQLite hands back floats: formatted with two places first, as NUMERIC(12,2) does."""
    assert [money_from_db(v) for v in (2.5, 3, 2.675, Decimal("1.20"), None)] == \
        [Decimal("2.50"), Decimal("3.00"), Decimal("2.67"), Decimal("1.20"), None]


def test_an_unreachable_server_is_one_line(tmp_path: Path) -> None:
    done = main_py(tmp_path / "data", "postgresql://root@127.0.0.1:1/test", "lots", "--json")
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("error: the database cannot be reached: ") and "port 1" in line
