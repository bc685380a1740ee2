"""Read-only queries over the bare DB-API (sqlite3, psycopg), without SQLAlchemy.

A one-shot read such as ``main.py lots --json`` would otherwise spend most of its life
importing SQLAlchemy and the models (about 0.3 s) to run two small SELECTs. ``open_reader``
connects for such a read when the URL is one of the plain forms below, and returns None for
anything else (a database file that does not exist yet, a URL form only SQLAlchemy's parser
handles): the caller then builds the App, which handles every form, creates a new database
and upgrades its schema.

Values come back as the models' column types return them (``utc_from_db``, ``money_from_db``,
``json_from_db``; ``types.py`` uses the same functions). A driver error is raised as the
exception SQLAlchemy would have raised for it, so callers report it in the same words."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType, TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from parking_desktop.domain.fee import money

SQLITE_BUSY_TIMEOUT_S = 15.0  # as engine.SQLITE_BUSY_TIMEOUT_MS (not imported: it loads SQLAlchemy)
PG_CONNECT_TIMEOUT_S = 10  # as make_engine's connect_args
# SQLAlchemy's SQLite DATETIME text: how a moment is stored, so also how one is compared.
SQLITE_MOMENT = "%Y-%m-%d %H:%M:%S.%f"
PG_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}


# --- values, as the column types (types.py) return them -------------------------------------
def utc_from_db(value: Any) -> datetime | None:
    """A UTCDateTime column's value: an aware UTC datetime (SQLite holds naive-UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite
        value = datetime.fromisoformat(value)
    moment: datetime = value
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def money_from_db(value: Any) -> Decimal | None:
    """A Money column's value: a two-place Decimal. SQLite hands back a float or an int, which
    SQLAlchemy's NUMERIC(12,2) first formats with two places (so 2.675 stored as a binary
    float reads 2.67 either way)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = Decimal(f"{value:.2f}")
    return money(Decimal(str(value)))


def json_from_db(value: Any) -> Any:
    """A JSON column's value (SQLite holds text; psycopg has already parsed it)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


# --- connections ----------------------------------------------------------------------------
class PlainReader:
    """One read-only transaction. SQL uses ``?`` placeholders on both databases."""

    def __init__(self, connection: Any, driver: ModuleType, *, is_sqlite: bool) -> None:
        self._connection = connection
        self._driver = driver
        self.is_sqlite = is_sqlite

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if not self.is_sqlite:
            sql = sql.replace("?", "%s")  # our own SQL: no literal ? or % in it
        try:
            cursor = self._connection.cursor()
            try:
                cursor.execute(sql, params)
                return [tuple(row) for row in cursor.fetchall()]
            finally:
                cursor.close()
        except self._driver.Error as exc:
            raise as_sqlalchemy_error(exc, self._driver, sql, params) from exc

    def moment(self, value: datetime) -> Any:
        """``value`` (aware) as a UTCDateTime column is compared with it."""
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None).strftime(SQLITE_MOMENT) if self.is_sqlite else value

    def revisions(self) -> list[str] | None:
        """As ``schema_version.stored_revisions``, but None on any failure: no version table
        (a new database) or a damaged file are the App's to report."""
        try:
            return [str(row[0]) for row in self.rows("SELECT version_num FROM alembic_version")]
        except Exception:
            return None

    def close(self) -> None:
        try:
            self._connection.rollback()  # it only read; ends the transaction
        except self._driver.Error:
            pass
        finally:
            self._connection.close()

    def __enter__(self) -> PlainReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def open_reader(url: str) -> PlainReader | None:
    """A reader on ``url``, or None when this module does not take that URL (see the module's
    docstring). A server that cannot be reached raises (as SQLAlchemy's OperationalError)."""
    if url.startswith("sqlite:"):
        return _open_sqlite(url)
    kwargs = pg_connect_arguments(url)
    if kwargs is None:
        return None
    import psycopg  # only for PostgreSQL

    try:
        connection = psycopg.connect(**kwargs)
    except psycopg.OperationalError as exc:
        raise as_sqlalchemy_error(exc, psycopg, None, None) from exc
    except psycopg.Error:
        return None  # a parameter libpq refuses: the App says so in its own words
    return PlainReader(connection, psycopg, is_sqlite=False)


def _open_sqlite(url: str) -> PlainReader | None:
    prefix = "sqlite:///"
    path = url[len(prefix):] if url.startswith(prefix) else ""
    if not path or any(c in path for c in "?%#") or path.startswith(("~", ":memory:")):
        return None
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None  # the App refuses it in plain words
    except OSError:
        return None  # not there yet: the App creates it
    import sqlite3

    target = f"file:{quote(os.path.abspath(path))}?mode=rw"  # never creates the file
    try:
        connection = sqlite3.connect(target, uri=True, timeout=SQLITE_BUSY_TIMEOUT_S,
                                     isolation_level=None)
    except sqlite3.Error:
        return None  # a file it cannot open (permissions ...): the App says why, at once
    try:
        connection.execute("BEGIN")  # one snapshot for every query of the read
    except sqlite3.Error:
        connection.close()
        return None
    return PlainReader(connection, sqlite3, is_sqlite=True)


def pg_connect_arguments(url: str) -> dict[str, Any] | None:
    """psycopg.connect's arguments for ``url`` as SQLAlchemy's psycopg dialect makes them (user,
    password, host, port, dbname, the query's parameters, connect_timeout), or None for a form
    left to SQLAlchemy: several hosts in the query, repeated or escaped query values."""
    if "://" not in url:  # libpq's keyword form: libpq parses it, as for the App
        return {"conninfo": url, "connect_timeout": PG_CONNECT_TIMEOUT_S}
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in PG_SCHEMES or parts.fragment or "%" in parts.path:
        return None
    if any(c in parts.query for c in "%+") or "host" in parts.query:
        return None
    query = parse_qsl(parts.query)
    if len({key for key, _ in query}) != len(query):
        return None
    kwargs: dict[str, Any] = {}
    if parts.username:
        kwargs["user"] = unquote(parts.username)
    if parts.password == "":
        return None
    if parts.password is not None:
        kwargs["password"] = unquote(parts.password)
    if parts.hostname:
        kwargs["host"] = parts.hostname
    if port is not None:
        kwargs["port"] = port
    if parts.path.lstrip("/"):
        kwargs["dbname"] = parts.path[1:]
    kwargs.update(query)
    kwargs["connect_timeout"] = PG_CONNECT_TIMEOUT_S  # make_engine's connect_args win
    return kwargs


# --- errors ---------------------------------------------------------------------------------
def as_sqlalchemy_error(exc: BaseException, driver: ModuleType, statement: str | None,
                        params: Any) -> BaseException:
    """The SQLAlchemy exception (OperationalError, ProgrammingError, ...) SQLAlchemy raises for
    the driver's ``exc``: the callers' error handling and messages stay as they are. SQLAlchemy
    is loaded here, on a failure only."""
    from sqlalchemy.exc import DBAPIError

    return DBAPIError.instance(statement, params, exc, driver.Error)

