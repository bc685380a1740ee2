"""Is the schema current? One query, without loading Alembic (a third of a second at start).

``HEAD_REVISION`` is the newest migration's revision; tests/integration/test_migrations.py
fails while it differs from the head Alembic finds in ``migrations/versions``, so a new
migration cannot be forgotten here. Only when the database is not at it does the program load
Alembic and upgrade (``migrate.upgrade``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

# Importable without SQLAlchemy: the plain read path (plain.py) compares with it too.
HEAD_REVISION = "0013"


def stored_revisions(engine: Engine) -> list[str] | None:
    """The revisions recorded in the database, or None when it has no version table yet (a new
    database). Any other failure (the server cannot be reached) is raised."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError, ProgrammingError

    with engine.connect() as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except (OperationalError, ProgrammingError):
            # No such table (a new database) - or something Alembic will report the same way.
            return None
    return [str(row[0]) for row in rows]


def is_current(engine: Engine) -> bool:
    return stored_revisions(engine) == [HEAD_REVISION]
