"""offline replay: operations kiosks applied after working offline, and their conflicts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from parking_desktop.adapters.db.base import BigId
from parking_desktop.adapters.db.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applied_operations",
        sa.Column("op_id", sa.String(length=36), nullable=False),
        sa.Column("kiosk_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("reservation_id", BigId, nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('check_in', 'check_out')", name=op.f("ck_applied_operations_kind")
        ),
        sa.CheckConstraint(
            "outcome IN ('applied', 'adjusted', 'refused')",
            name=op.f("ck_applied_operations_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_applied_operations_reservation_id_reservations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("op_id", name=op.f("pk_applied_operations")),
    )
    op.create_index("ix_applied_operations_kiosk_seq", "applied_operations", ["kiosk_id", "seq"])
    op.create_table(
        "sync_conflicts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("op_id", sa.String(length=36), nullable=False),
        sa.Column("kiosk_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("vehicle_number", sa.String(length=15), nullable=False),
        sa.Column("kiosk_version", sa.JSON(), nullable=False),
        sa.Column("server_version", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("reservation_id", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", BigId, nullable=True),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_sync_conflicts_reservation_id_reservations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"],
            ["users.id"],
            name=op.f("fk_sync_conflicts_resolved_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    op.create_index("ix_sync_conflicts_created", "sync_conflicts", ["created_at"])
    op.create_index(op.f("ix_sync_conflicts_op_id"), "sync_conflicts", ["op_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_conflicts_op_id"), table_name="sync_conflicts")
    op.drop_index("ix_sync_conflicts_created", table_name="sync_conflicts")
    op.drop_table("sync_conflicts")
    op.drop_index("ix_applied_operations_kiosk_seq", table_name="applied_operations")
    op.drop_table("applied_operations")
