"""Why the tests' PostgreSQL server cannot be used, in one line a person can act on.

Used by the ``pg_database_url`` fixture (tests/conftest.py) and by scripts/test.sh, which runs
``python -m tests.pg_support URL`` before the tests to decide between the server at URL and a
private throw-away cluster (scripts/_postgres.sh)."""

from __future__ import annotations

import re
import sys

import psycopg
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

# The libpq/psycopg wording of each cause (a regular expression), and what to tell the person.
_CAUSES: list[tuple[str, str]] = [
    (r"connection refused",
     "connection refused: no PostgreSQL server listens there"),
    (r"no password supplied",
     "authentication failed: the server asks {user} for a password (no password supplied); "
     "the tests need trust authentication, or the password in PARKING_TEST_PG_ADMIN_URL"),
    (r"password authentication failed",
     "authentication failed: the server refused the password of {user}"),
    (r"(peer|ident) authentication failed",
     "authentication failed: the server lets {user} in only as the operating-system user of "
     "that name (peer/ident); the tests need trust or password authentication over TCP"),
    (r"no pg_hba\.conf entry",
     "authentication failed: the server's pg_hba.conf has no entry for this host and user"),
    (r'role ".*" does not exist',
     "the server has no role {role}"),
    (r'database ".*" does not exist',
     "the server has no database {database}"),
    (r"failed to resolve host|could not translate host name",
     "the host name cannot be resolved"),
    (r"timeout expired|timed out",
     "no answer (connection timed out)"),
]


def describe(exc: BaseException, url: str) -> str:
    """One line: where, and what really failed (never a bare "not reachable")."""
    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    detail = " ".join(str(exc).split())
    for pattern, reason in _CAUSES:
        if re.search(pattern, detail, re.IGNORECASE):
            role = f'"{parsed.username or ""}"'
            text = reason.format(user=f"user {role}", role=role,
                                 database=f'"{parsed.database or ""}"')
            return f"PostgreSQL at {where}: {text}"
    return f"PostgreSQL at {where} cannot be used: {detail}"


def admin_engine(url: str) -> Engine:
    """The engine that creates and drops the test databases. It asks for UTF-8 from the
    server: on a SQL_ASCII cluster psycopg would otherwise see bytes where SQLAlchemy expects
    text, and fail on the first statement."""
    return create_engine(url, isolation_level="AUTOCOMMIT",
                         connect_args={"client_encoding": "utf8"})


def create_test_database(admin: Connection, name: str) -> None:
    """CREATE DATABASE for the tests (AUTOCOMMIT connection), always in UTF8: the program stores
    text as UTF-8, and a cluster made without a UTF-8 locale (initdb on a minimal system picks
    SQL_ASCII) would hand psycopg bytes instead of text. Such a cluster's database is made from
    template0 in UTF8."""
    encoding = admin.execute(text(
        "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'template1'"
    )).scalar_one()
    utf8 = "" if encoding == "UTF8" else " TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'"
    admin.execute(text(f'CREATE DATABASE "{name}"{utf8}'))
    # A throw-away database needs no durable commits: not waiting for the WAL flush makes every
    # commit (and so every test) faster; all else behaves the same.
    admin.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))


def probe(url: str) -> str | None:
    """None when the server at ``url`` accepts the tests' connection, else why not."""
    parsed = make_url(url).set(drivername="postgresql")
    dsn = parsed.render_as_string(hide_password=False)
    try:
        with psycopg.connect(dsn, connect_timeout=5, autocommit=True) as conn:
            can_create = conn.execute(
                "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
    except psycopg.Error as exc:
        return describe(exc, url)
    if not (can_create and can_create[0]):
        return (f"PostgreSQL at {parsed.host}:{parsed.port or 5432}: user "
                f'"{parsed.username}" may not create databases (the tests make their own)')
    return None


if __name__ == "__main__":  # python -m tests.pg_support URL: exit 0 if usable, else say why
    problem = probe(sys.argv[1])
    if problem is not None:
        print(problem)
        sys.exit(1)
