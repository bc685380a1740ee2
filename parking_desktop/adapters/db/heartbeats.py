"""The heartbeat upsert: one statement, whichever kiosk writes first (INSERT … ON CONFLICT)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models_kiosks import KioskHeartbeat


def upsert_heartbeat(session: Session, values: dict[str, Any]) -> None:
    """Insert the kiosk's row or overwrite every column but its id."""
    table = KioskHeartbeat.__table__
    assert isinstance(table, Table)
    dialect = session.get_bind().dialect.name
    insert = sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)
    stmt = insert.values(**values)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["kiosk_id"],
            set_={name: stmt.excluded[name] for name in values if name != "kiosk_id"},
        )
    )
