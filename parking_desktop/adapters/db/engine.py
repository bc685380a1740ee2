"""Engines and units of work for SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, UniqueConstraint, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from parking_desktop.adapters.db.models import Base
from parking_desktop.config import ConfigError
from parking_desktop.files import (
    UnsafePathError,
    check_file_target,
    create_private_file,
    ensure_private_dir,
)

SQLITE_BUSY_TIMEOUT_MS = 15_000


class DatabaseUrlError(ValueError):
    pass


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// and use psycopg 3 for them; accept a libpq
    keyword string (``host=a,b port=5432,5433 dbname=parking …``) and the several-hosts form
    ``?host=a:5432,b:5433`` (both become ``?host=a,b&port=5432,5433``, which SQLAlchemy and
    libpq understand: see ``multi_host``)."""
    url = url.strip()
    if is_keyword_conninfo(url):
        url = _keywords_to_url(url)
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUrlError(
            f"'{url}' is not a database URL (expected sqlite:///FILE or postgresql://HOST/DB)."
        ) from None
    if parsed.get_backend_name() not in {"sqlite", "postgresql"}:
        raise DatabaseUrlError(
            f"Database '{parsed.get_backend_name()}' is not supported: use SQLite or PostgreSQL."
        )
    if parsed.get_backend_name() == "postgresql":
        url = _split_host_ports(parsed)
    return url


def is_keyword_conninfo(text: str) -> bool:
    """``host=… dbname=…`` (libpq's keyword/value form) rather than a URL."""
    return "://" not in text and bool(re.match(r"^\s*[a-z_]+\s*=", text))


def _keywords_to_url(conninfo: str) -> str:
    """A libpq keyword string as a postgresql+psycopg URL (the hosts and ports kept as lists)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict  # libpq's own parser (quotes, escapes)

    try:
        params = {k: str(v) for k, v in conninfo_to_dict(conninfo).items() if v is not None}
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or ["not understood"])[0]
        raise DatabaseUrlError(f"DATABASE_URL is not a libpq connection string: {reason}") \
            from None
    query = {k: v for k, v in params.items() if k not in {"user", "password", "dbname"}}
    built = URL.create("postgresql+psycopg", username=params.get("user"),
                       password=params.get("password"), database=params.get("dbname"),
                       query=query)
    return built.render_as_string(hide_password=False)


def _split_host_ports(parsed: URL) -> str:
    """``?host=a:5432,b:5433`` as ``?host=a,b&port=5432,5433`` (SQLAlchemy reads a port
    inside ``host`` only when there is one host, or when ``host`` is repeated)."""
    hosts = parsed.query.get("host")
    if not isinstance(hosts, str) or "," not in hosts or "port" in parsed.query:
        return parsed.render_as_string(hide_password=False)
    names, ports = [], []
    for token in hosts.split(","):
        name, _, port = token.strip().rpartition(":") if ":" in token else (token, "", "")
        names.append(name.strip())
        ports.append(port.strip())
    if not any(ports):
        return parsed.render_as_string(hide_password=False)
    query = dict(parsed.query)
    query["host"] = ",".join(names)
    query["port"] = ",".join(ports)
    return parsed.set(query=query).render_as_string(hide_password=False)


def multi_host(url: str) -> list[tuple[str, int]]:
    """The (host, port) pairs libpq tries in order, for a PostgreSQL URL (one pair for a
    plain URL)."""
    parsed = make_url(normalise_url(url))
    query_hosts = parsed.query.get("host")
    if not query_hosts:
        return [(parsed.host or "localhost", parsed.port or 5432)]
    if isinstance(query_hosts, tuple):  # ?host=a:5432&host=b:5433
        tokens = [t.partition(":") for t in query_hosts]
        return [(h or "localhost", int(p) if p.isdigit() else 5432) for h, _, p in tokens]
    hosts = query_hosts.split(",")
    raw_ports = parsed.query.get("port")
    ports = str(raw_ports).split(",") if isinstance(raw_ports, str) and raw_ports else []
    if len(ports) == 1:
        ports = ports * len(hosts)
    pairs = []
    for index, host in enumerate(hosts):
        port = ports[index] if index < len(ports) else ""
        pairs.append((host or "localhost", int(port) if port.isdigit() else 5432))
    return pairs


def describe_url(url: str) -> str:
    """Short, password-free description for the status bar and logs."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite {parsed.database or ':memory:'}"
    servers = ",".join(f"{host}:{port}" for host, port in multi_host(url))
    return f"PostgreSQL {servers}/{parsed.database}"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below) so that writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction starts with BEGIN IMMEDIATE: it waits (busy_timeout) for the write
        # lock instead of failing half-way when another process wrote first. That is what makes
        # "first free spot" race-free across processes on SQLite.
        if connection.get_execution_options().get("sqlite_immediate"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def prepare_sqlite_file(path: Path) -> None:
    """Refuse a database path that is not a regular file (a device, a folder, a FIFO...), and
    create a new database file 0600 (its -wal and -shm files then get the same mode) in a
    folder created private if missing. An existing file or folder keeps its mode."""
    path = path.expanduser().resolve()
    try:
        check_file_target(path)
        ensure_private_dir(path.parent)
        create_private_file(path)
    except UnsafePathError as exc:
        raise ConfigError(f"DATABASE_URL (or --db) must name a database file: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"The SQLite database {path} cannot be created: "
                          f"{exc.strerror or exc}.") from None


def storage_problem(exc: BaseException) -> str | None:
    """Plain words when the database could not write to its disk (full, over a size limit,
    failing), else None: such an error must not read as "cannot be reached"."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    if "database or disk is full" in text or "no space left on device" in text:
        return "The disk holding the database is full: free some space, then try again."
    if "disk i/o error" in text:
        return ("The database file could not be written (disk I/O error): the disk may be "
                "full, over a file size limit, or failing.")
    return None


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
            prepare_sqlite_file(Path(parsed.database))
        # LIFO: the connection that just wrote is the next one handed out. SQLite keeps a
        # connection's page cache across its own writes but drops all of it when another
        # connection wrote, so a FIFO pool made every read after a write (the dashboard after a
        # check-in) start from a cold cache.
        # (A memory database has a single-connection pool that takes no such option.)
        if parsed.database and parsed.database != ":memory:":
            kwargs.setdefault("pool_use_lifo", True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                               **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(url, connect_args={"connect_timeout": 10}, **kwargs)


class Database:
    """Owns the engine; hands out units of work.

    ``with db.write() as session:`` commits when the block ends normally and rolls back on any
    exception, so a refused operation leaves the database as it was. ``db.read()`` never writes.
    """

    def __init__(self, url: str, engine: Engine | None = None) -> None:
        self.url = normalise_url(url)
        self.engine = engine or make_engine(self.url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        writer = self.engine.execution_options(sqlite_immediate=True)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(writer, expire_on_commit=False)

    @property
    def description(self) -> str:
        return describe_url(self.url)

    @contextmanager
    def write(self) -> Iterator[Session]:
        session = self._write()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._read()
        try:
            yield session
        finally:
            # close() ends the transaction and detaches the objects without expiring them, so
            # attributes already loaded stay readable after the block (rollback() would expire
            # them and a later access would raise DetachedInstanceError).
            session.close()

    def checkpoint(self) -> None:
        """SQLite: copy the write-ahead log into the database now, without waiting for anyone
        (PASSIVE). A bulk job calls it after its batches, so that the automatic checkpoint -
        run by whichever connection's commit crosses the log's limit - does not fall on a
        kiosk's check-in. Nothing to do on PostgreSQL."""
        if self.is_sqlite:
            with contextlib.suppress(Exception), self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def dispose(self) -> None:
        if self.is_sqlite:
            # SQLite's advice for long-lived connections: refresh planner statistics at close,
            # so the revenue queries keep choosing the covering index as the data grows.
            with contextlib.suppress(Exception), self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA optimize")
        self.engine.dispose()


def violated_constraint(exc: IntegrityError) -> str | None:
    """The name of the constraint or unique index an IntegrityError broke, on either database
    (None when it cannot be told), so a service can say *which* rule a racing writer hit."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        name = getattr(diag, "constraint_name", None)
        return str(name) if name else None
    text = str(orig)
    if text.startswith("CHECK constraint failed: "):
        return text.removeprefix("CHECK constraint failed: ").strip()
    if not text.startswith("UNIQUE constraint failed: "):
        return None
    # An expression index (lower(username)) is named: "UNIQUE constraint failed: index 'x'".
    named = text.removeprefix("UNIQUE constraint failed: ")
    if named.startswith("index '") and named.endswith("'"):
        return named[len("index '"):-1]
    # SQLite names the columns, not the index: "UNIQUE constraint failed: users.email".
    qualified = [c.strip() for c in text.removeprefix("UNIQUE constraint failed: ").split(",")]
    table_name = qualified[0].split(".", 1)[0]
    columns = [c.split(".", 1)[1] for c in qualified if "." in c]
    table = Base.metadata.tables.get(table_name)
    if table is None:
        return None
    for index in table.indexes:
        if index.unique and [c.name for c in index.columns] == columns:
            return str(index.name)
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and [c.name for c in constraint.columns] \
                == columns:
            return str(constraint.name)
    return None
