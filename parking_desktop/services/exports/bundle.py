"""A driver's data bundle (right of access): one ZIP with everything the database holds about
them, as ``data.json`` and one formula-safe CSV file per section.

Sections: ``profile`` (the account, without the password hash); for every table with a
``user_id`` column (reservations, activity, mail, mail preferences), that table's rows for the
driver; and for every table with a ``reservation_id`` column (payments), the rows of the
driver's reservations. Tables are found from the models, so a new one is included without a
change here. Mail rows leave out their bodies and attachments (what was sent
is listed, not re-sent)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select

from parking_desktop.adapters.csv_export import neutralise
from parking_desktop.adapters.db.models import Base, Reservation, User
from parking_desktop.domain.errors import NotFoundError
from parking_desktop.files import atomic_write
from parking_desktop.services.context import ServiceContext

LEFT_OUT = {
    "users": {"password_hash"},
    "email_outbox": {"body_text", "body_html", "attachments"},
}
SECTION_NAMES = {"users": "profile", "user_activity": "activity", "email_outbox": "mails"}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return neutralise(json.dumps(value, sort_keys=True, ensure_ascii=False))
    return neutralise(str(_plain(value)))


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if "user_id" in t.columns]


def _by_reservation() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables
            if "reservation_id" in t.columns and "user_id" not in t.columns]


def collect(ctx: ServiceContext, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row about ``user_id``, by section."""
    sections: dict[str, list[dict[str, Any]]] = {}
    with ctx.read() as session:
        user_table = User.__table__
        assert isinstance(user_table, Table)
        tables = [user_table, *_tables()]
        for table in tables:
            key = table.c.id if table is user_table else table.c.user_id
            order = list(table.primary_key.columns)
            rows = session.execute(select(table).where(key == user_id).order_by(*order)).all()
            hidden = LEFT_OUT.get(table.name, set())
            sections[SECTION_NAMES.get(table.name, table.name)] = [
                {
                    c.name: _plain(v)
                    for c, v in zip(table.columns, row, strict=True)
                    if c.name not in hidden
                }
                for row in rows
            ]
        mine = select(Reservation.id).where(Reservation.user_id == user_id).scalar_subquery()
        for table in _by_reservation():
            rows = session.execute(select(table).where(table.c.reservation_id.in_(mine))
                                   .order_by(*table.primary_key.columns)).all()
            sections[SECTION_NAMES.get(table.name, table.name)] = [
                {c.name: _plain(v) for c, v in zip(table.columns, row, strict=True)}
                for row in rows
            ]
    if not sections["profile"]:
        raise NotFoundError(f"There is no user with id {user_id}.")
    return sections


def write_bundle(ctx: ServiceContext, user_id: int, path: Path) -> int:
    """Write the ZIP (private, atomically); returns how many rows it holds."""
    sections = collect(ctx, user_id)
    with atomic_write(path) as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("data.json", json.dumps(sections, indent=2, ensure_ascii=False))
        for name, rows in sections.items():
            text = io.StringIO()
            columns = list(rows[0]) if rows else []
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row[c]) for c in columns])
            zf.writestr(f"{name}.csv", "\ufeff" + text.getvalue())
    return sum(len(rows) for rows in sections.values())
