"""Receipt numbers: sequential per site, no gaps, no duplicates, also with several kiosks on
one PostgreSQL server checking out at the same instant.

The number comes from the counter row, incremented by ``UPDATE ... RETURNING`` inside the
payment's transaction: PostgreSQL keeps that row locked until the payment commits, so a second
kiosk waits and then reads the committed value (READ COMMITTED re-reads the row it waited for);
a payment that rolls back gives its number back with it. On SQLite the write transaction
already holds the database's only write lock. A sequence would be faster but leaves gaps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models_money import Receipt, ReceiptCounter

SITE = "site"  # one database is one site: one counter
DIGITS = 6


def receipt_label(number: int) -> str:
    return f"{number:0{DIGITS}d}"


def next_receipt(session: Session, now: datetime) -> Receipt:
    """A new receipt row with the next number, in the caller's transaction."""
    counter = ReceiptCounter.__table__
    assert isinstance(counter, Table)
    bump = (
        update(ReceiptCounter)
        .where(ReceiptCounter.site == SITE)
        .values(last_number=ReceiptCounter.last_number + 1)
        .returning(ReceiptCounter.last_number)
    )
    number = session.execute(bump).scalar()
    if number is None:
        # The first receipt of the site. Two first receipts racing: the second INSERT waits for
        # the first to commit and does nothing; its UPDATE then takes the row after it.
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(
            insert(counter)
            .values(site=SITE, last_number=0)
            .on_conflict_do_nothing(index_elements=["site"])
        )
        number = session.execute(bump).scalar_one()
    receipt = Receipt(number=int(number), issued_at=now)
    session.add(receipt)
    session.flush()
    return receipt


def receipt_number_of(session: Session, receipt_id: int) -> str:
    number = session.scalar(select(Receipt.number).where(Receipt.id == receipt_id))
    return receipt_label(int(number or 0))
