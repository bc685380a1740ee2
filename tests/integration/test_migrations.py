"""Migrations: an empty SQLite file and an empty PostgreSQL database go from nothing to head,
and Alembic's autogenerate comparison finds no drift between the migrated schema and the
models."""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError, SAWarning
from sqlalchemy.schema import CreateIndex

from parking_desktop.adapters.db import migrate
from parking_desktop.adapters.db.engine import make_engine
from parking_desktop.adapters.db.models import Base
from parking_desktop.domain.errors import ConflictError
from tests.conftest import PG_ADMIN_URL, _pg_admin_engine

CORE_TABLES = {"users", "parking_lots", "parking_spots", "reservations", "user_activity",
               "export_jobs", "job_runs", "alembic_version"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database that has never seen the schema."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh' / 'parking.db'}")
        yield engine
        engine.dispose()
        return
    if os.environ.get("PARKING_TEST_SKIP_PG") == "1":
        pytest.skip("PostgreSQL tests skipped by PARKING_TEST_SKIP_PG=1")
    name = f"pd_migrate_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


EXPRESSION_INDEXES = [ix for table in Base.metadata.tables.values() for ix in table.indexes
                      if any(not isinstance(e, Column) for e in ix.expressions)]


@contextmanager
def expression_indexes_unreflected() -> Iterator[None]:
    """SQLAlchemy cannot reflect SQLite's expression indexes (lower(username)) and says so;
    expression_index_drift compares them instead."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based "
                                "index", SAWarning)
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified "
                                "expression-based index", UserWarning)
        yield


def expression_index_drift(engine: Engine) -> list[str]:
    """On SQLite: each expression index of the models exists with the models' definition."""
    drift = []
    with engine.connect() as conn:
        for index in EXPRESSION_INDEXES:
            stored = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' "
                                       "AND name = :name"), {"name": index.name}).scalar()
            wanted = str(CreateIndex(index).compile(dialect=engine.dialect))
            if " ".join((stored or "").split()) != " ".join(wanted.split()):
                drift.append(f"{index.name}: {stored!r} instead of {wanted!r}")
        conn.rollback()
    return drift


def schema_drift(engine: Engine) -> list[Any]:
    with engine.connect() as conn, expression_indexes_unreflected():
        context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": True})
        diff: list[Any] = compare_metadata(context, Base.metadata)
        conn.rollback()
    if engine.dialect.name == "sqlite":
        diff += expression_index_drift(engine)
    return diff


def test_an_empty_database_migrates_to_head_without_drift(empty_engine: Engine) -> None:
    assert migrate.current_revision(empty_engine) is None
    assert not migrate.is_current(empty_engine)
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision(empty_engine)
    assert migrate.is_current(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    assert tables >= CORE_TABLES  # the data contract
    assert schema_drift(empty_engine) == []


def test_the_open_booking_rules_are_partial_unique_indexes(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    indexes = {ix["name"]: ix for ix in inspect(empty_engine).get_indexes("reservations")}
    for name, column in [("uq_reservations_open_spot", "spot_id"),
                         ("uq_reservations_open_user", "user_id"),
                         ("uq_reservations_open_vehicle", "vehicle_number")]:
        assert indexes[name]["unique"], name
        assert indexes[name]["column_names"] == [column]
    with expression_indexes_unreflected():
        lots = {ix["name"]: ix for ix in inspect(empty_engine).get_indexes("parking_lots")}
    assert lots["uq_parking_lots_active_name"]["unique"]


def test_upgrade_is_idempotent_and_downgrade_round_trips(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.upgrade(empty_engine)  # a second start changes nothing
    assert migrate.is_current(empty_engine)
    from alembic import command

    command.downgrade(migrate.alembic_config(empty_engine), "base")
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_engine)
    assert schema_drift(empty_engine) == []


def test_a_new_sqlite_database_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "site" / "parking.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15_000
    finally:
        engine.dispose()
    assert (path.parent.stat().st_mode & 0o777) == 0o700


def _add_user(conn: Any, name: str) -> None:
    from parking_desktop.adapters.db.models import User

    conn.execute(User.__table__.insert().values(
        username=name, email=None, full_name="", password_hash="x", role="driver",
        is_active=True, created_at=datetime.now(UTC), failed_logins=0))


def _add_lot(conn: Any, name: str, archived: bool = False) -> None:
    from parking_desktop.adapters.db.models import ParkingLot

    now = datetime.now(UTC)
    conn.execute(ParkingLot.__table__.insert().values(
        name=name, address="1 Main St", pin_code="PIN1", price_per_hour=Decimal("2.00"),
        number_of_spots=1, created_at=now, archived_at=now if archived else None))


def test_names_differing_only_in_case_stop_the_upgrade_with_a_list_of_them(
    empty_engine: Engine,
) -> None:
    """0004 makes usernames and active lot names unique whatever their case. A database that
    already holds such pairs is not half-migrated: the upgrade stops naming every clash, and
    goes through once they are renamed."""
    migrate.upgrade(empty_engine, "0003")
    with empty_engine.begin() as conn:
        for name in ("manager", "MANAGER", "dana"):
            _add_user(conn, name)
        _add_lot(conn, "City Center")
        _add_lot(conn, "CITY CENTER")
        _add_lot(conn, "city center", archived=True)  # an archived lot's name may be reused
        _add_lot(conn, "Harbour")
    with pytest.raises(ConflictError) as refused:
        migrate.upgrade(empty_engine)
    message = str(refused.value)
    assert len(message.splitlines()) == 1
    assert "usernames differing only in case: 'manager' (id 1), 'MANAGER' (id 2)" in message
    assert "active lots named alike: 'City Center' (id 1), 'CITY CENTER' (id 2)" in message
    assert "dana" not in message and "Harbour" not in message and "id 3" not in message.split(
        "active lots")[1]
    assert "docs/deployment.md" in message
    assert migrate.current_revision(empty_engine) == "0003"  # nothing was changed

    with empty_engine.begin() as conn:
        conn.execute(text("UPDATE users SET username = 'manager_2' WHERE id = 2"))
        conn.execute(text("UPDATE parking_lots SET name = 'City Center 2' WHERE id = 2"))
    migrate.upgrade(empty_engine)
    assert migrate.is_current(empty_engine)
    with pytest.raises(IntegrityError), empty_engine.begin() as conn:
        _add_user(conn, "Dana")  # the database itself now refuses it, whoever writes
    with pytest.raises(IntegrityError), empty_engine.begin() as conn:
        _add_lot(conn, "harbour")
    with empty_engine.begin() as conn:
        _add_lot(conn, "HARBOUR", archived=True)  # archived lots do not count


def test_the_head_revision_known_at_start_is_alembics_head() -> None:
    """Start-up compares the database with schema_version.HEAD_REVISION instead of loading
    Alembic: a new migration must move that constant too, or start-up would skip it."""
    from alembic.script import ScriptDirectory

    from parking_desktop.adapters.db import schema_version

    config = migrate.alembic_config(make_engine("sqlite://"))
    assert ScriptDirectory.from_config(config).get_current_head() == schema_version.HEAD_REVISION


def test_0005_builds_the_dashboard_summary_from_the_existing_reservations(
    empty_engine: Engine,
) -> None:
    """Bookings count in the UTC quarter hour they were made (whatever became of them), revenue
    in the quarter hour a completed stay left; each lot apart, and per lot in all."""
    from parking_desktop.adapters.db import summary
    from parking_desktop.adapters.db.models import ParkingSpot, Reservation
    from parking_desktop.adapters.db.models_stats import StatsLotTotal, StatsQuarter

    migrate.upgrade(empty_engine, "0004")
    with empty_engine.begin() as conn:
        _add_lot(conn, "City Center")
        _add_lot(conn, "Harbour")
        for spot, lot in ((1, 1), (2, 2), (3, 2)):
            conn.execute(ParkingSpot.__table__.insert().values(
                id=spot, lot_id=lot, number=str(spot), position=spot, status="A"))

        def at(hour: int, minute: int, second: int = 0) -> datetime:
            return datetime(2026, 3, 1, hour, minute, second, tzinfo=UTC)

        for spot, status, reserved, left, cost in (
            (1, "completed", at(10, 7, 30), at(10, 52, 10), Decimal("3.00")),
            (1, "completed", at(10, 14, 59), at(10, 50), Decimal("1.50")),
            (2, "cancelled", at(10, 5), at(10, 20), None),
            (3, "active", at(11, 0), None, None),
            (2, "completed", at(9, 59, 59), at(11, 0), Decimal("0.00")),
        ):
            conn.execute(Reservation.__table__.insert().values(
                spot_id=spot, vehicle_number=f"AB{reserved:%M%S}", status=status,
                reserved_at=reserved, parked_at=reserved if status != "cancelled" else None,
                left_at=left, price_per_hour=Decimal("2.00"), cost=cost))
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        quarters = {(b, lot): (n, money) for b, lot, n, money in conn.execute(
            select(StatsQuarter.bucket, StatsQuarter.lot_id, StatsQuarter.bookings,
                   StatsQuarter.revenue)).all()}
        totals = {lot: (n, money) for lot, n, money in conn.execute(
            select(StatsLotTotal.lot_id, StatsLotTotal.bookings, StatsLotTotal.revenue)).all()}
        assert summary.drift(conn) == []
    assert quarters == {
        ("2026-03-01 10:00", 1): (2, Decimal("0.00")),
        ("2026-03-01 10:45", 1): (0, Decimal("4.50")),
        ("2026-03-01 10:00", 2): (1, Decimal("0.00")),
        ("2026-03-01 09:45", 2): (1, Decimal("0.00")),
        ("2026-03-01 11:00", 2): (1, Decimal("0.00")),
    }
    assert totals == {1: (2, Decimal("4.50")), 2: (3, Decimal("0.00"))}
