"""The lot list's two queries in plain SQL, for ``PlainReader`` (plain.py): the same rows
as ``LotService.search()`` reads through the models (``lots_query``, ``tariffs.in_force``),
converted as the models' column types convert them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from parking_desktop.adapters.db.plain import (
    PlainReader,
    json_from_db,
    money_from_db,
    utc_from_db,
)
from parking_desktop.domain.states import SpotStatus

# As lots.lots_query() with no search text, active lots only: spot counts of active spots.
ACTIVE_LOTS = """
SELECT l.id, l.name, l.address, l.pin_code, l.price_per_hour, l.number_of_spots,
       l.created_at, l.archived_at, c.available, c.reserved, c.occupied
FROM parking_lots AS l
LEFT OUTER JOIN (
    SELECT lot_id,
           sum(CASE WHEN status = ? THEN 1 ELSE 0 END) AS available,
           sum(CASE WHEN status = ? THEN 1 ELSE 0 END) AS reserved,
           sum(CASE WHEN status = ? THEN 1 ELSE 0 END) AS occupied
    FROM parking_spots
    WHERE removed_at IS NULL
    GROUP BY lot_id
) AS c ON c.lot_id = l.id
WHERE l.archived_at IS NULL
ORDER BY l.name, l.id
"""
# As tariffs.in_force(): the version in force at a moment, else the lot's first one.
IN_FORCE = """
SELECT document FROM tariff_versions WHERE lot_id = ? AND effective_from <= ?
ORDER BY effective_from DESC, id DESC LIMIT 1
"""
FIRST = """
SELECT document FROM tariff_versions WHERE lot_id = ?
ORDER BY effective_from, id LIMIT 1
"""


@dataclass(frozen=True)
class LotRow:
    id: int
    name: str
    address: str
    pin_code: str
    price_per_hour: Decimal
    number_of_spots: int
    created_at: datetime
    archived_at: datetime | None
    available: int | None
    reserved: int | None
    occupied: int | None


def active_lots(reader: PlainReader) -> list[LotRow]:
    statuses = (SpotStatus.AVAILABLE.value, SpotStatus.RESERVED.value,
                SpotStatus.OCCUPIED.value)
    return [
        LotRow(id=int(r[0]), name=r[1], address=r[2], pin_code=r[3],
               price_per_hour=_required(money_from_db(r[4])), number_of_spots=int(r[5]),
               created_at=_required(utc_from_db(r[6])), archived_at=utc_from_db(r[7]),
               available=r[8], reserved=r[9], occupied=r[10])
        for r in reader.rows(ACTIVE_LOTS, statuses)
    ]


def tariff_document(reader: PlainReader, lot_id: int, at: datetime) -> dict[str, Any] | None:
    """The stored document of the lot's version in force at ``at`` (None: the lot has none)."""
    rows = reader.rows(IN_FORCE, (lot_id, reader.moment(at))) or reader.rows(FIRST, (lot_id,))
    if not rows:
        return None
    document: dict[str, Any] = json_from_db(rows[0][0])
    return document


def _required(value: Any) -> Any:
    if value is None:  # NOT NULL columns
        raise ValueError("a NOT NULL column read as NULL")
    return value
