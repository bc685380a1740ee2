"""tariff versions; every existing lot gets today's flat rule as its first version

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 18:40:00
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from parking_desktop.adapters.db.base import BigId
from parking_desktop.adapters.db.types import UTCDateTime
from parking_desktop.domain.tariffs import flat_tariff, tariff_to_json

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tariff_versions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("lot_id", BigId, nullable=False),
        sa.Column("effective_from", UTCDateTime, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_by", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["parking_lots.id"],
            name=op.f("fk_tariff_versions_lot_id_parking_lots"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_tariff_versions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tariff_versions")),
    )
    op.create_index(
        "ix_tariff_versions_lot_effective", "tariff_versions", ["lot_id", "effective_from"]
    )
    # Nullable: stays recorded before tariffs keep being priced flat at their price_per_hour.
    # A plain ALTER TABLE ADD COLUMN on both databases (no foreign key, see models.py).
    op.add_column("reservations", sa.Column("tariff_version_id", BigId, nullable=True))
    op.create_index("ix_reservations_tariff_version_id", "reservations", ["tariff_version_id"])
    _flat_version_per_lot()


def _flat_version_per_lot() -> None:
    """Each lot (archived ones too) gets today's rule at its price_per_hour, in force since
    always, so no stay, figure or report changes by a cent."""
    bind = op.get_bind()
    lots = sa.table(
        "parking_lots", sa.column("id", BigId), sa.column("price_per_hour", sa.Numeric(12, 2))
    )
    versions = sa.table(
        "tariff_versions",
        sa.column("lot_id", BigId),
        sa.column("effective_from", UTCDateTime),
        sa.column("document", sa.JSON()),
        sa.column("currency", sa.String(3)),
        sa.column("created_by", BigId),
        sa.column("created_at", UTCDateTime),
    )
    now = datetime.now(UTC)
    rows = [
        {
            "lot_id": lot_id,
            "effective_from": version.effective_from,
            "document": tariff_to_json(version),
            "currency": version.currency,
            "created_by": None,
            "created_at": now,
        }
        for lot_id, price in bind.execute(sa.select(lots.c.id, lots.c.price_per_hour)).all()
        for version in [flat_tariff(Decimal(str(price)).quantize(Decimal("0.01")))]
    ]
    if rows:
        bind.execute(versions.insert(), rows)


def downgrade() -> None:
    op.drop_index("ix_reservations_tariff_version_id", table_name="reservations")
    # SQLite 3.35+ and PostgreSQL drop an unindexed column in place.
    op.execute("ALTER TABLE reservations DROP COLUMN tariff_version_id")
    op.drop_index("ix_tariff_versions_lot_effective", table_name="tariff_versions")
    op.drop_table("tariff_versions")
