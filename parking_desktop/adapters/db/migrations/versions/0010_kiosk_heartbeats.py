"""kiosk heartbeats: each kiosk's last word on its link to the database

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-06 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from parking_desktop.adapters.db.types import UTCDateTime

revision = "0010"
down_revision = "0007"  # rechained after money (0007) when merging main into money-core
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosk_heartbeats",
        sa.Column("kiosk_id", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("lot", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("offline_since", UTCDateTime(), nullable=True),
        sa.Column("ops_waiting", sa.Integer(), nullable=False),
        sa.Column("app_version", sa.String(length=40), nullable=False),
        sa.CheckConstraint(
            "state IN ('online', 'offline')", name=op.f("ck_kiosk_heartbeats_state")
        ),
        sa.CheckConstraint("ops_waiting >= 0", name=op.f("ck_kiosk_heartbeats_ops_waiting")),
        sa.PrimaryKeyConstraint("kiosk_id", name=op.f("pk_kiosk_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("kiosk_heartbeats")
