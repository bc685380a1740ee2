"""covering index for revenue figures

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 15:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reservations_status_left_cost", ["status", "left_at", "cost"], unique=False
        )
        batch_op.drop_index("ix_reservations_status")


def downgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index("ix_reservations_status", ["status"], unique=False)
        batch_op.drop_index("ix_reservations_status_left_cost")
