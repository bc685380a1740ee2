"""Telling "the database cannot be talked to" from "it refused this request"."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


def is_connection_error(exc: BaseException) -> bool:
    """The database could not be talked to (not: it refused the request). Services raise
    their own one-line errors ``from None``; the driver's error is still the context, so the
    chain is followed a few links down."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, OperationalError | InterfaceError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
