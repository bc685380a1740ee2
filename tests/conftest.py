"""Shared fixtures: real SQLite files and the real PostgreSQL server.

``app`` is parametrised over both databases, so every test that uses it runs twice.
PostgreSQL is never skipped silently: if it cannot be used, the PostgreSQL tests fail with the
real cause (refused, authentication, ...; set PARKING_TEST_SKIP_PG=1 to skip them on a laptop
without a server; CI never sets it). scripts/test.sh points PARKING_TEST_PG_ADMIN_URL at a private
throw-away cluster when no server accepts the default one."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from parking_desktop.adapters.db import migrate
from parking_desktop.adapters.db.engine import make_engine
from parking_desktop.adapters.db.models import Base
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from tests.pg_support import admin_engine, create_test_database, describe

PG_ADMIN_URL = os.environ.get(
    "PARKING_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday morning
PASSWORD = "correct-horse-1"


def _pg_admin_engine() -> Engine:
    return admin_engine(PG_ADMIN_URL)


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session, migrated once."""
    if os.environ.get("PARKING_TEST_SKIP_PG") == "1":
        pytest.skip("PostgreSQL tests skipped by PARKING_TEST_SKIP_PG=1")
    name = f"pd_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = _pg_admin_engine()
    try:
        with admin.connect() as conn:
            create_test_database(conn, name)
    except OperationalError as exc:  # pragma: no cover - only when the server cannot be used
        pytest.fail(f"{describe(exc.orig or exc, PG_ADMIN_URL)} (scripts/test.sh starts a private "
                    "cluster when no server is usable; PARKING_TEST_SKIP_PG=1 skips these tests)",
                    pytrace=False)
    except DBAPIError as exc:  # pragma: no cover
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} refused to create the test database: "
                    f"{' '.join(str(exc.orig or exc).split())}", pytrace=False)
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    if (cleaner := _cleaners.pop(url, None)) is not None:
        cleaner.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_cleaners: dict[str, Engine] = {}


def truncate_all(url: str) -> None:
    """Empty every table and restart the ids. DELETE, not TRUNCATE: on these tiny tables it
    takes ~20 ms where TRUNCATE (new files for every table) took half a second per test."""
    engine = _cleaners.get(url)
    if engine is None:
        engine = _cleaners[url] = make_engine(url)
    tables = list(reversed(Base.metadata.sorted_tables))  # children before parents
    with engine.begin() as conn:
        # Triggers off for this wipe only: payments are append-only (models_money).
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            conn.execute(table.delete())
        for table in tables:
            if "id" in table.c:
                sequence = func.pg_get_serial_sequence(f'"{table.name}"', "id")
                conn.execute(select(func.setval(sequence, 1, False)))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database migrated once; each test gets a copy (migrating every test's
    file took a third of a second each)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "parking.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL of each kind: migrated to head and empty."""
    if request.param == "sqlite":
        path = tmp_path / "parking.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database_url")
    truncate_all(url)
    return url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def fast_hasher() -> Argon2Hasher:
    return Argon2Hasher(fast=True)


@pytest.fixture
def app(db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher) -> Iterator[App]:
    settings = load_settings(
        data_dir=tmp_path / "data", database_url=db_url, environ={"APP_TIMEZONE": "Europe/Paris"},
        dotenv_path=tmp_path / "no.env",
    )
    application = build_app(settings, clock=clock, hasher=fast_hasher)
    yield application
    application.close()


def _make(app: App, username: str, role: Role, email: str | None = None) -> Actor:
    view = app.users.create(SYSTEM, username=username, password=PASSWORD, role=role, email=email)
    return Actor(user_id=view.id, username=view.username, role=view.role)


@pytest.fixture
def manager(app: App) -> Actor:
    return _make(app, "manager1", Role.MANAGER, "manager1@example.com")


@pytest.fixture
def attendant(app: App) -> Actor:
    return _make(app, "attendant1", Role.ATTENDANT)


@pytest.fixture
def driver(app: App) -> Actor:
    return _make(app, "driver1", Role.DRIVER, "driver1@example.com")


@pytest.fixture
def make_user(app: App):  # type: ignore[no-untyped-def]
    def factory(username: str, role: Role = Role.DRIVER, email: str | None = None) -> Actor:
        return _make(app, username, role, email)

    return factory


# Types of the fixtures below, for test signatures.
Unchanged = Callable[[], AbstractContextManager[None]]
MakeUser = Callable[..., Actor]


def uid(actor: Actor) -> int:
    """The user id of a signed-in (non-system) actor."""
    assert actor.user_id is not None
    return actor.user_id


def database_rows(app: App) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in id order: compare before/after to prove a refused
    operation changed nothing."""
    rows: dict[str, list[tuple[object, ...]]] = {}
    with app.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            result = conn.execute(table.select().order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(row) for row in result]
        conn.rollback()
    return rows


@pytest.fixture
def unchanged(app: App) -> Unchanged:
    """``with unchanged(): <refused call>`` fails the test if any row changed."""

    @contextmanager
    def guard() -> Iterator[None]:
        before = database_rows(app)
        yield
        after = database_rows(app)
        assert after == before, "a refused operation changed the database"

    return guard


# --- mail: an in-memory keyring and a real SMTP server (helpers in tests/mail_support.py) ---
@pytest.fixture
def memory_keyring():  # type: ignore[no-untyped-def]
    import keyring

    from tests.mail_support import MemoryKeyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def smtp_server():  # type: ignore[no-untyped-def]
    from tests.mail_support import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(app: App, smtp_server, memory_keyring) -> App:  # type: ignore[no-untyped-def]
    """``app`` whose mail goes to ``smtp_server`` (plain SMTP, no login)."""
    box = app.email.box
    box.settings = box.settings.with_overrides(
        mail_server="127.0.0.1", mail_port=smtp_server.port,
        mail_default_sender="parking@example.com")
    return app
