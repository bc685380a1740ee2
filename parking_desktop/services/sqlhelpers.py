"""Small SQL expressions that differ between SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

# Defined beside the summary rows built from the same buckets.
from parking_desktop.adapters.db.summary import quarter_bucket as quarter_bucket

_WORD = re.compile(r"[a-z_]+")


def inline_in(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """``column IN ('a', 'b')`` with the values written into the SQL, in the order given.

    For predicates a partial index is defined on (``status IN ('reserved', 'active')``): a
    planner matches a partial index's WHERE only against the same literal values, never against
    bound parameters (SQLite plans before binding; a PostgreSQL generic plan, used once a
    statement is prepared, knows no values either). Only for constants of the program: the
    values must be plain words."""
    words = [str(value) for value in values]
    for word in words:
        if not _WORD.fullmatch(word):
            raise ValueError(f"not a plain word for inline SQL: {word!r}")
    predicate: ColumnElement[bool] = column.in_([literal_column(f"'{word}'") for word in words])
    return predicate


def parse_quarter_bucket(text: str) -> datetime:
    # fromisoformat reads 'YYYY-MM-DD HH:MM' about 50 times faster than strptime.
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def seconds_between(start: Any, end: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return (func.julianday(end) - func.julianday(start)) * 86400.0
    return func.extract("epoch", end - start)


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive "column contains text"; % and _ typed by a user are matched literally
    instead of acting as LIKE wildcards."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


class Explain(Executable, ClauseElement):
    """``EXPLAIN <statement>`` with the statement's own parameters bound as they would be
    (``EXPLAIN QUERY PLAN`` on SQLite). ``options`` is PostgreSQL's, e.g. "FORMAT JSON"."""

    inherit_cache = False

    def __init__(self, statement: Any, options: str = "") -> None:
        self.statement = statement
        self.explain_options = options


@compiles(Explain)
def _compile_explain(element: Explain, compiler: Any, **kw: Any) -> str:
    inner = compiler.process(element.statement, **kw)
    # The rows are the plan's, not the statement's: read them untyped.
    compiler._result_columns = []
    if compiler.dialect.name == "sqlite":
        return f"EXPLAIN QUERY PLAN {inner}"
    options = f"({element.explain_options}) " if element.explain_options else ""
    return f"EXPLAIN {options}{inner}"
