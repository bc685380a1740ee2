"""`db copy`: SQLite → PostgreSQL → SQLite gives back every row, with equal counts and money
totals; the target must be empty, a failed check keeps nothing, and the copy is usable (new
ids continue after the copied ones)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from parking_desktop.adapters.db import copy as db_copy
from parking_desktop.adapters.db.bulk import prefetched_batches
from parking_desktop.adapters.db.copy import CopyError, CopyMismatch, copy_database, load_all_models
from parking_desktop.adapters.db.engine import make_engine
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.services.demo.demo import DemoLoader, DemoOptions
from tests.conftest import PG_ADMIN_URL, START, _pg_admin_engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def empty_pg() -> Iterator[str]:
    """A brand-new PostgreSQL database with no schema at all (the copy migrates it)."""
    if os.environ.get("PARKING_TEST_SKIP_PG") == "1":
        pytest.skip("PostgreSQL tests skipped by PARKING_TEST_SKIP_PG=1")
    name = f"pd_copy_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def site_app(path: Path, url: str | None = None) -> App:
    settings = load_settings(data_dir=path, database_url=url or f"sqlite:///{path / 'p.db'}",
                             environ={"APP_TIMEZONE": "Europe/Paris"}, dotenv_path=path / "x")
    return build_app(settings, clock=FixedClock(START), hasher=Argon2Hasher(fast=True))


@pytest.fixture
def source(tmp_path: Path) -> Iterator[App]:
    """A SQLite site with demo data, plus an archived lot and an export-free history."""
    app = site_app(tmp_path / "source")
    DemoLoader(app.ctx, app.users.hasher).load(
        DemoOptions(drivers=150, lots=3, days=20, seed=11), "demo-password-1")
    lot = app.lots.create(SYSTEM, name="Closed Lot", address="9 Gone St", pin_code="GONE1",
                          price_per_hour="1.15", number_of_spots=2)
    app.lots.archive(SYSTEM, lot.id)
    yield app
    app.close()


def everything(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table as Python values, in id order."""
    out = {}
    with engine.connect() as conn:
        for table in load_all_models().sorted_tables:
            out[table.name] = [tuple(r) for r in conn.execute(
                table.select().order_by(*table.primary_key.columns))]
    return out


@pytest.mark.postgres
def test_sqlite_to_postgresql_and_back(source: App, empty_pg: str, tmp_path: Path) -> None:
    original = everything(source.db.engine)
    report = copy_database(source.db.engine, empty_pg)
    assert report.ok and report.rows == sum(len(rows) for rows in original.values())
    counts = {t.table: (t.source, t.target) for t in report.tables}
    assert counts["reservations"][0] == counts["reservations"][1] > 500
    money = {m.column: (m.source, m.target) for m in report.money}
    assert money["reservations.cost"][0] == money["reservations.cost"][1] > Decimal(1000)
    assert "parking_lots.price_per_hour" in money

    back_url = f"sqlite:///{tmp_path / 'back' / 'p.db'}"
    pg = make_engine(empty_pg)
    try:
        assert everything(pg) == original
        again = copy_database(pg, back_url)
    finally:
        pg.dispose()
    assert again.ok and [(t.table, t.target) for t in again.tables] == [
        (t.table, t.source) for t in report.tables]
    assert [m.target for m in again.money] == [m.source for m in report.money]
    back = make_engine(back_url)
    try:
        assert everything(back) == original
    finally:
        back.dispose()

    # The copy is a working site: new rows get ids after the copied ones (sequences moved on).
    pg_app = site_app(tmp_path / "pg-site", empty_pg)
    try:
        lot = next(lot for lot in pg_app.lots.search() if lot.available)
        booking = pg_app.parking.check_in(SYSTEM, lot.id, "NEW123")
        assert booking.id == len(original["reservations"]) + 1
    finally:
        pg_app.close()


@pytest.mark.postgres
def test_refuses_a_target_with_data_and_through_the_cli(source: App, empty_pg: str) -> None:
    url = source.db.url
    data_dir = Path(url.split("///", 1)[1]).parent

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir), "--db", url,
             *args], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
            timeout=300)

    done = cli("db", "copy", "--to", empty_pg)
    assert done.returncode == 0, done.stderr
    assert "row counts and money totals match" in done.stdout
    assert "reservations" in done.stdout and "reservations.cost" in done.stdout
    target = make_engine(empty_pg)
    try:
        before = everything(target)
        again = cli("db", "copy", "--to", empty_pg)
        assert again.returncode == 1 and "Traceback" not in again.stderr
        assert again.stderr.startswith("error: The target database already has data (")
        assert len(again.stderr.strip().splitlines()) == 1
        assert everything(target) == before
    finally:
        target.dispose()


@pytest.mark.postgres
def test_a_mismatch_keeps_nothing(source: App, empty_pg: str,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    real = db_copy._copy_table

    def lose_a_row(src: Any, dst: Any, table: Any, batch_rows: int) -> int:
        written = real(src, dst, table, batch_rows)
        if table.name == "reservations":
            dst.execute(text("DELETE FROM reservations WHERE id = (SELECT MAX(id) FROM "
                             "reservations)"))
        return written

    monkeypatch.setattr(db_copy, "_copy_table", lose_a_row)
    with pytest.raises(CopyMismatch) as failure:
        copy_database(source.db.engine, empty_pg)
    assert "reservations: " in str(failure.value) and "nothing was kept" in str(failure.value)
    assert not failure.value.report.ok
    target = make_engine(empty_pg)
    try:
        assert all(not rows for rows in everything(target).values())
    finally:
        target.dispose()


def test_refuses_the_same_database_and_unknown_tables(source: App, tmp_path: Path) -> None:
    path = Path(source.db.url.split("///", 1)[1])
    with pytest.raises(CopyError, match="database in use"):  # the same file, spelt otherwise
        copy_database(source.db.engine, f"sqlite:///{path.parent}/./{path.name}")
    with source.db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes_from_elsewhere (id INTEGER PRIMARY KEY)"))
    with pytest.raises(CopyError, match="notes_from_elsewhere"):
        copy_database(source.db.engine, f"sqlite:///{tmp_path / 'other.db'}")
    assert not (tmp_path / "other.db").exists()


def test_rows_are_produced_ahead_in_order_and_errors_surface() -> None:
    assert [len(b) for b in prefetched_batches(iter(range(10)), 4)] == [4, 4, 2]
    assert [x[0] for b in prefetched_batches(([i] for i in range(1000)), 7) for x in b] == list(
        range(1000))

    def broken() -> Iterator[tuple[int]]:
        yield (1,)
        raise ValueError("row 2 is bad")

    with pytest.raises(ValueError, match="row 2 is bad"):
        list(prefetched_batches(broken(), 1))

    produced = []

    def endless() -> Iterator[tuple[int]]:
        n = 0
        while True:
            produced.append(n)
            yield (n,)
            n += 1

    before = threading.active_count()
    for batch in prefetched_batches(endless(), 10):
        assert batch[0] == (0,)
        break  # the consumer gives up (as when a write fails): the producer stops too
    assert threading.active_count() == before
    assert len(produced) < 100
