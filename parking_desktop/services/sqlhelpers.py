"""Small SQL expressions that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal_column
from sqlalchemy.sql.elements import ColumnElement


def hour_bucket(column: Any, dialect: str) -> ColumnElement[Any]:
    """The UTC hour a timestamp falls in, as text 'YYYY-MM-DD HH'."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H", column)
    # Literal constants, not bind parameters: PostgreSQL only matches the SELECT expression
    # with the identical GROUP BY expression when no parameters differ between them.
    return func.to_char(func.timezone(literal_column("'UTC'"), column),
                        literal_column("'YYYY-MM-DD HH24'"))


def parse_hour_bucket(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)


def seconds_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive "column contains text"; % and _ typed by a user are matched literally
    instead of acting as LIKE wildcards."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")
