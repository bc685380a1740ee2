"""money at the booth: shifts, receipts and their counter, append-only payments, exceptions

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-06 18:40:00

Stays completed before this revision keep their cost in ``reservations`` and have no payment
row: nobody recorded how they were paid, and inventing it would be editing history. Totals from
payments start at the upgrade (docs/money.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from parking_desktop.adapters.db.base import BigId
from parking_desktop.adapters.db.models_money import create_guards, drop_guards
from parking_desktop.adapters.db.types import Money, UTCDateTime

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "shifts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("attendant_id", BigId, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("opening_float", Money, nullable=False),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime, nullable=True),
        sa.Column("expected_cash", Money, nullable=True),
        sa.Column("counted_cash", Money, nullable=True),
        sa.Column("denominations", sa.JSON(), nullable=True),
        sa.Column("difference_reason", sa.Text(), nullable=True),
        sa.Column("closed_by", BigId, nullable=True),
        sa.Column("manager_comment", sa.Text(), nullable=True),
        sa.Column("approved_by", BigId, nullable=True),
        sa.Column("approved_at", UTCDateTime, nullable=True),
        sa.CheckConstraint("opening_float >= 0", name=op.f("ck_shifts_float_positive")),
        _fk("shifts", "attendant_id", "users", "RESTRICT"),
        _fk("shifts", "closed_by", "users", "SET NULL"),
        _fk("shifts", "approved_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    op.create_index(
        "uq_shifts_open_attendant",
        "shifts",
        ["attendant_id"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index("ix_shifts_opened_at", "shifts", ["opened_at"])
    op.create_table(
        "receipt_counters",
        sa.Column("site", sa.String(length=40), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site", name=op.f("pk_receipt_counters")),
    )
    op.create_table(
        "receipts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("issued_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("number", name=op.f("uq_receipts_number")),
    )
    op.create_table(
        "payments",
        sa.Column("id", BigId, nullable=False),
        sa.Column("reservation_id", BigId, nullable=True),
        sa.Column("lot_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("amount", Money, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tendered", Money, nullable=True),
        sa.Column("change", Money, nullable=True),
        sa.Column("taken_by", BigId, nullable=True),
        sa.Column("taken_by_name", sa.String(length=120), nullable=False),
        sa.Column("taken_at", UTCDateTime, nullable=False),
        sa.Column("shift_id", BigId, nullable=True),
        sa.Column("receipt_id", BigId, nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("refers_to", BigId, nullable=True),
        sa.CheckConstraint(
            "method IN ('cash', 'card', 'account', 'waived')", name=op.f("ck_payments_method")
        ),
        sa.CheckConstraint("kind IN ('payment', 'refund', 'void')", name=op.f("ck_payments_kind")),
        sa.CheckConstraint(
            "(kind = 'payment' AND amount >= 0 AND refers_to IS NULL) OR "
            "(kind <> 'payment' AND amount < 0 AND refers_to IS NOT NULL)",
            name=op.f("ck_payments_sign"),
        ),
        _fk("payments", "reservation_id", "reservations", "RESTRICT"),
        _fk("payments", "lot_id", "parking_lots", "RESTRICT"),
        _fk("payments", "taken_by", "users", "RESTRICT"),
        _fk("payments", "shift_id", "shifts", "RESTRICT"),
        _fk("payments", "receipt_id", "receipts", "RESTRICT"),
        _fk("payments", "refers_to", "payments", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("receipt_id", name=op.f("uq_payments_receipt_id")),
    )
    for name, column in (
        ("ix_payments_taken_at", "taken_at"),
        ("ix_payments_shift_id", "shift_id"),
        ("ix_payments_reservation_id", "reservation_id"),
        ("ix_payments_refers_to", "refers_to"),
    ):
        op.create_index(name, "payments", [column])
    create_guards(op.get_bind())
    op.create_table(
        "exceptions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("amount", Money, nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reservation_id", BigId, nullable=True),
        sa.Column("payment_id", BigId, nullable=True),
        sa.Column("shift_id", BigId, nullable=True),
        sa.Column("lot_id", BigId, nullable=True),
        sa.Column("actor_id", BigId, nullable=True),
        sa.Column("actor_name", sa.String(length=120), nullable=False),
        sa.Column("approved_by", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _fk("exceptions", "reservation_id", "reservations", "RESTRICT"),
        _fk("exceptions", "payment_id", "payments", "RESTRICT"),
        _fk("exceptions", "shift_id", "shifts", "RESTRICT"),
        _fk("exceptions", "lot_id", "parking_lots", "RESTRICT"),
        _fk("exceptions", "actor_id", "users", "SET NULL"),
        _fk("exceptions", "approved_by", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exceptions")),
    )
    op.create_index("ix_exceptions_created_at", "exceptions", ["created_at"])
    op.create_index("ix_exceptions_kind_created_at", "exceptions", ["kind", "created_at"])


def downgrade() -> None:
    op.drop_table("exceptions")
    drop_guards(op.get_bind())
    op.drop_table("payments")
    op.drop_table("receipts")
    op.drop_table("receipt_counters")
    op.drop_table("shifts")
