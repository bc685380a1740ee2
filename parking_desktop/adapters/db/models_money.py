"""Money at the booth: shifts, payments, receipts (and their gapless counter), exceptions.

``payments`` is append-only: a refund or a void is a new negative row referring to the one it
corrects. Both databases enforce it with triggers (created with the table, here and in the
migration), so no code path, present or future, can edit or delete money history."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from parking_desktop.adapters.db.base import Base, BigId
from parking_desktop.adapters.db.types import Money, UTCDateTime

OPEN_SHIFT = "closed_at IS NULL"
APPEND_ONLY = "payments are never changed: record a refund or a void instead"


class Shift(Base):
    __tablename__ = "shifts"
    __table_args__ = (
        CheckConstraint("opening_float >= 0", name="float_positive"),
        # One open shift per attendant, also against two kiosks opening at the same instant.
        Index(
            "uq_shifts_open_attendant",
            "attendant_id",
            unique=True,
            sqlite_where=text(OPEN_SHIFT),
            postgresql_where=text(OPEN_SHIFT),
        ),
        Index("ix_shifts_opened_at", "opened_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    attendant_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    host: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(3))
    opening_float: Mapped[Decimal] = mapped_column(Money)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Written once, at the close: what the system expected and what was counted.
    expected_cash: Mapped[Decimal | None] = mapped_column(Money)
    counted_cash: Mapped[Decimal | None] = mapped_column(Money)
    denominations: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    difference_reason: Mapped[str | None] = mapped_column(Text)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The manager's review.
    manager_comment: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReceiptCounter(Base):
    """One row per site: the last receipt number given. Taking a number is an UPDATE ...
    RETURNING in the payment's own transaction, so the row stays locked until the payment
    commits (or rolls back, giving the number back): sequential, no gaps, no duplicates."""

    __tablename__ = "receipt_counters"

    site: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Receipt(Base):
    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("method IN ('cash', 'card', 'account', 'waived')", name="method"),
        CheckConstraint("kind IN ('payment', 'refund', 'void')", name="kind"),
        # A payment is >= 0; a refund or void is negative and names the payment it corrects.
        CheckConstraint(
            "(kind = 'payment' AND amount >= 0 AND refers_to IS NULL) OR "
            "(kind <> 'payment' AND amount < 0 AND refers_to IS NOT NULL)",
            name="sign",
        ),
        Index("ix_payments_taken_at", "taken_at"),
        Index("ix_payments_shift_id", "shift_id"),
        Index("ix_payments_reservation_id", "reservation_id"),
        Index("ix_payments_refers_to", "refers_to"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="RESTRICT")
    )
    lot_id: Mapped[int] = mapped_column(ForeignKey("parking_lots.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(8))
    method: Mapped[str] = mapped_column(String(8))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    tendered: Mapped[Decimal | None] = mapped_column(Money)
    change: Mapped[Decimal | None] = mapped_column(Money)
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    taken_by_name: Mapped[str] = mapped_column(String(120))  # "cli:user@host" for the system
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id", ondelete="RESTRICT"))
    receipt_id: Mapped[int] = mapped_column(
        ForeignKey("receipts.id", ondelete="RESTRICT"), unique=True
    )
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason_text: Mapped[str | None] = mapped_column(Text)
    refers_to: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))


class MoneyException(Base):
    """Free exits, discounts, fee overrides, refunds, voids, force-releases, administrative
    payments and cash differences: each with its reason, for the managers' review."""

    __tablename__ = "exceptions"
    __table_args__ = (
        Index("ix_exceptions_created_at", "created_at"),
        Index("ix_exceptions_kind_created_at", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str] = mapped_column(String(40))
    reason_text: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="RESTRICT")
    )
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id", ondelete="RESTRICT"))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("parking_lots.id", ondelete="RESTRICT"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(120))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- append-only payments: the same triggers as migration 0007 ----------------------------
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER payments_no_update BEFORE UPDATE ON payments "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    f"CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
)
PG_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION payments_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$",
    "CREATE TRIGGER payments_append_only BEFORE UPDATE OR DELETE ON payments "
    "FOR EACH ROW EXECUTE FUNCTION payments_append_only()",
)
PG_DROP = (
    "DROP TRIGGER IF EXISTS payments_append_only ON payments",
    "DROP FUNCTION IF EXISTS payments_append_only()",
)
SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS payments_no_update",
    "DROP TRIGGER IF EXISTS payments_no_delete",
)


def drop_guards(connection: Any) -> None:
    """Only for erasing the whole database (``demo --reset`` on SQLite, in its transaction,
    which puts them back with ``create_guards``); PostgreSQL's TRUNCATE passes them anyway."""
    for statement in SQLITE_DROP if connection.dialect.name == "sqlite" else PG_DROP:
        connection.exec_driver_sql(statement)


def create_guards(connection: Any) -> None:
    for statement in SQLITE_TRIGGERS if connection.dialect.name == "sqlite" else PG_TRIGGERS:
        connection.exec_driver_sql(statement)


def _guard(statement: str, dialect: str) -> DDL:
    return DDL(statement).execute_if(dialect=dialect)  # type: ignore[no-untyped-call]


for _statement in SQLITE_TRIGGERS:
    event.listen(Payment.__table__, "after_create", _guard(_statement, "sqlite"))
for _statement in PG_TRIGGERS:
    event.listen(Payment.__table__, "after_create", _guard(_statement, "postgresql"))
