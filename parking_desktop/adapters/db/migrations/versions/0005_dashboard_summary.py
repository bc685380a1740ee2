"""dashboard summary rows, built from the existing reservations

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 17:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from parking_desktop.adapters.db.base import BigId
from parking_desktop.adapters.db.summary import rebuild
from parking_desktop.adapters.db.types import Money

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_quarters",
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("lot_id", BigId, nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False),
        sa.Column("revenue", Money, nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["parking_lots.id"],
                                name=op.f("fk_stats_quarters_lot_id_parking_lots"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("bucket", "lot_id", name=op.f("pk_stats_quarters")),
    )
    op.create_table(
        "stats_lot_totals",
        sa.Column("lot_id", BigId, nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False),
        sa.Column("revenue", Money, nullable=False),
        sa.ForeignKeyConstraint(["lot_id"], ["parking_lots.id"],
                                name=op.f("fk_stats_lot_totals_lot_id_parking_lots"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("lot_id", name=op.f("pk_stats_lot_totals")),
    )
    # Set-based: one INSERT ... SELECT ... GROUP BY per table, whatever the history's size.
    rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_table("stats_lot_totals")
    op.drop_table("stats_quarters")
