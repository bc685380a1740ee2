"""`db copy`: every row of every table into another, empty database (a site moving from
SQLite to PostgreSQL, or back), then checked.

Tables come from the SQLAlchemy metadata in foreign-key order, so tables added later are copied
too as long as their models live in a ``parking_desktop.adapters.db.models*`` module (all of them
are imported here); a table in the source that no model describes stops the copy rather than
being left behind. The target is migrated first and must be empty.

Rows are streamed in batches from one consistent snapshot of the source and written in ONE
target transaction (plain indexes, and foreign keys on PostgreSQL, are put back after each
table's rows: one pass instead of work per row). Row counts and money totals are compared
inside that transaction; on any difference it is rolled back, so a failed copy leaves the
target as empty as it was."""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Connection, Engine, MetaData, Table, func, inspect, select
from sqlalchemy.engine import make_url

from parking_desktop.adapters import db as db_package
from parking_desktop.adapters.db import migrate
from parking_desktop.adapters.db.bulk import (
    bind_encoders,
    bulk_insert,
    bulk_load,
    encode_rows,
    reset_sequences,
)
from parking_desktop.adapters.db.engine import describe_url, make_engine, normalise_url
from parking_desktop.adapters.db.models import Base
from parking_desktop.adapters.db.types import Money

BATCH_ROWS = 10_000
IGNORED_TABLES = {"alembic_version"}  # written by the migration of the target itself

Progress = Callable[[str, int], None]


class CopyError(Exception):
    """The copy was refused or failed; the message says why in plain words."""


@dataclass(frozen=True)
class TableCount:
    table: str
    source: int
    target: int


@dataclass(frozen=True)
class MoneyTotal:
    column: str  # "table.column"
    source: Decimal
    target: Decimal


@dataclass(frozen=True)
class CopyReport:
    source: str
    target: str
    tables: list[TableCount]
    money: list[MoneyTotal]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(t.source == t.target for t in self.tables) and all(
            m.source == m.target for m in self.money
        )

    @property
    def rows(self) -> int:
        return sum(t.target for t in self.tables)

    def mismatches(self) -> list[str]:
        out = [f"{t.table}: {t.source} rows in the source, {t.target} copied"
               for t in self.tables if t.source != t.target]
        out += [f"{m.column}: total {m.source} in the source, {m.target} copied"
                for m in self.money if m.source != m.target]
        return out


class CopyMismatch(CopyError):
    """The check after the copy found a difference (the target was rolled back)."""

    def __init__(self, report: CopyReport) -> None:
        super().__init__("The copy does not match the source ("
                         + "; ".join(report.mismatches()) + "); nothing was kept in the target.")
        self.report = report


def load_all_models() -> MetaData:
    """Import every models module so the metadata knows every table."""
    for module in pkgutil.iter_modules(db_package.__path__):
        if module.name.startswith("models"):
            importlib.import_module(f"{db_package.__name__}.{module.name}")
    return Base.metadata


def same_database(first: str, second: str) -> bool:
    a, b = make_url(normalise_url(first)), make_url(normalise_url(second))
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        if not a.database or not b.database or ":memory:" in (a.database, b.database):
            return False
        return Path(a.database).expanduser().resolve() == Path(b.database).expanduser().resolve()
    return ((a.host or "localhost"), a.port or 5432, a.database) == (
        (b.host or "localhost"), b.port or 5432, b.database)


def copy_database(source: Engine, target_url: str, *, progress: Progress | None = None,
                  batch_rows: int = BATCH_ROWS) -> CopyReport:
    """Copy everything from ``source`` into the empty database at ``target_url``."""
    started = time.perf_counter()
    metadata = load_all_models()
    tables = list(metadata.sorted_tables)
    source_url = source.url.render_as_string(hide_password=False)
    if same_database(source_url, target_url):
        raise CopyError("The target is the database in use; give the URL of another database.")
    _check_source(source, metadata)
    target = make_engine(target_url)
    try:
        migrate.upgrade(target)
        _check_empty(target, tables)
        with _snapshot(source) as src, target.begin() as dst:
            for table in tables:
                written = _copy_table(src, dst, table, batch_rows)
                if progress is not None:
                    progress(table.name, written)
            reset_sequences(dst, tables)
            dst.exec_driver_sql("ANALYZE")  # planner statistics for the new data
            report = CopyReport(
                source=describe_url(source_url), target=describe_url(target_url),
                tables=[TableCount(t.name, _count(src, t), _count(dst, t)) for t in tables],
                money=_money_totals(src, dst, tables),
                seconds=round(time.perf_counter() - started, 2),
            )
            if not report.ok:
                raise CopyMismatch(report)  # leaving the block rolls the target back
        return report
    finally:
        target.dispose()


def _check_source(source: Engine, metadata: MetaData) -> None:
    if not migrate.is_current(source):
        raise CopyError("The source database's schema is not current; run `db upgrade` first.")
    unknown = sorted(set(inspect(source).get_table_names()) - set(metadata.tables)
                     - IGNORED_TABLES)
    if unknown:
        raise CopyError(
            f"The source has tables this version does not know ({', '.join(unknown)}); "
            "they would not be copied, so nothing was copied."
        )


def _check_empty(target: Engine, tables: list[Table]) -> None:
    with target.connect() as conn:
        filled = [f"{t.name}: {n} rows" for t in tables if (n := _count(conn, t))]
    if filled:
        raise CopyError(
            f"The target database already has data ({', '.join(filled)}); "
            "copy only into an empty database."
        )


def _snapshot(source: Engine) -> Connection:
    """One read transaction for every table, so the copy is a consistent picture even while
    kiosks keep working (SQLite WAL readers and PostgreSQL REPEATABLE READ both give that)."""
    if source.dialect.name == "postgresql":
        return source.connect().execution_options(isolation_level="REPEATABLE READ")
    return source.connect()


def _copy_table(src: Connection, dst: Connection, table: Table, batch_rows: int) -> int:
    columns = [c.name for c in table.columns]
    query = select(*table.columns).order_by(*table.primary_key.columns)
    result = src.execution_options(yield_per=batch_rows).execute(query)
    rows = (tuple(row) for row in result)
    with bulk_load(dst, table.name):
        return bulk_insert(dst, table, columns,
                           encode_rows(rows, bind_encoders(table, columns, dst.dialect)),
                           batch_rows=batch_rows)


def _count(conn: Connection, table: Table) -> int:
    return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def _money_totals(src: Connection, dst: Connection, tables: list[Table]) -> list[MoneyTotal]:
    totals = []
    for table in tables:
        for column in table.columns:
            if isinstance(column.type, Money):
                query = select(func.coalesce(func.sum(column), 0))
                totals.append(MoneyTotal(
                    f"{table.name}.{column.name}", _money(src.scalar(query)),
                    _money(dst.scalar(query)),
                ))
    return totals


def _money(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))
