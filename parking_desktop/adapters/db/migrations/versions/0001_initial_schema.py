"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-28 13:47:02.960757
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "job_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("period_key", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'failed', 'skipped')",
            name=op.f("ck_job_runs_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "period_key", name="uq_job_runs_job_period"),
    )
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.create_index("ix_job_runs_job_started", ["job", "started_at"], unique=False)

    op.create_table(
        "parking_lots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("pin_code", sa.String(length=10), nullable=False),
        sa.Column("price_per_hour", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("number_of_spots", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "number_of_spots BETWEEN 1 AND 5000", name=op.f("ck_parking_lots_spots_range")
        ),
        sa.CheckConstraint("price_per_hour > 0", name=op.f("ck_parking_lots_price_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parking_lots")),
    )
    with op.batch_alter_table("parking_lots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_parking_lots_pin_code"), ["pin_code"], unique=False)
        batch_op.create_index(
            "uq_parking_lots_active_name",
            ["name"],
            unique=True,
            sqlite_where=sa.text("archived_at IS NULL"),
            postgresql_where=sa.text("archived_at IS NULL"),
        )

    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("full_name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_login", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_booking", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('manager', 'attendant', 'driver')", name=op.f("ck_users_role")
        ),
        sa.CheckConstraint("failed_logins >= 0", name=op.f("ck_users_failed_logins")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_role"), ["role"], unique=False)

    op.create_table(
        "export_jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column(
            "requested_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=True),
        sa.Column("file_path", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed', 'cancelled', 'expired')",
            name=op.f("ck_export_jobs_status"),
        ),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name=op.f("ck_export_jobs_progress")),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["users.id"],
            name=op.f("fk_export_jobs_requested_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
        sa.UniqueConstraint("job_id", name=op.f("uq_export_jobs_job_id")),
    )
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_export_jobs_requested_by_created", ["requested_by", "created_at"], unique=False
        )
        batch_op.create_index(
            "uq_export_jobs_open_requester",
            ["requested_by"],
            unique=True,
            sqlite_where=sa.text("status IN ('pending', 'processing')"),
            postgresql_where=sa.text("status IN ('pending', 'processing')"),
        )

    op.create_table(
        "parking_spots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('A', 'R', 'O')", name=op.f("ck_parking_spots_status")),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["parking_lots.id"],
            name=op.f("fk_parking_spots_lot_id_parking_lots"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parking_spots")),
        sa.UniqueConstraint("lot_id", "number", name="uq_parking_spots_lot_number"),
        sa.UniqueConstraint("lot_id", "position", name="uq_parking_spots_lot_position"),
    )
    with op.batch_alter_table("parking_spots", schema=None) as batch_op:
        batch_op.create_index(
            "ix_parking_spots_lot_status_position", ["lot_id", "status", "position"], unique=False
        )

    op.create_table(
        "user_activity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("activity_type", sa.String(length=40), nullable=False),
        sa.Column("activity_data", sa.JSON(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_activity_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_activity")),
    )
    with op.batch_alter_table("user_activity", schema=None) as batch_op:
        batch_op.create_index("ix_user_activity_timestamp", ["timestamp"], unique=False)
        batch_op.create_index(
            "ix_user_activity_type_timestamp", ["activity_type", "timestamp"], unique=False
        )
        batch_op.create_index(
            "ix_user_activity_user_timestamp", ["user_id", "timestamp"], unique=False
        )

    op.create_table(
        "reservations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("spot_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("vehicle_number", sa.String(length=15), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("price_per_hour", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column(
            "created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('reserved', 'active', 'completed', 'cancelled')",
            name=op.f("ck_reservations_status"),
        ),
        sa.CheckConstraint(
            "cost IS NULL OR cost >= 0", name=op.f("ck_reservations_cost_non_negative")
        ),
        sa.CheckConstraint("price_per_hour >= 0", name=op.f("ck_reservations_price_non_negative")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_reservations_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["spot_id"],
            ["parking_spots.id"],
            name=op.f("fk_reservations_spot_id_parking_spots"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_reservations_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index("ix_reservations_left_at", ["left_at"], unique=False)
        batch_op.create_index("ix_reservations_reserved_at", ["reserved_at"], unique=False)
        batch_op.create_index(
            "ix_reservations_spot_reserved_at", ["spot_id", "reserved_at"], unique=False
        )
        batch_op.create_index("ix_reservations_status", ["status"], unique=False)
        batch_op.create_index(
            "ix_reservations_user_reserved_at", ["user_id", "reserved_at"], unique=False
        )
        batch_op.create_index("ix_reservations_vehicle_number", ["vehicle_number"], unique=False)
        batch_op.create_index(
            "uq_reservations_open_spot",
            ["spot_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('reserved', 'active')"),
            postgresql_where=sa.text("status IN ('reserved', 'active')"),
        )
        batch_op.create_index(
            "uq_reservations_open_user",
            ["user_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('reserved', 'active') AND user_id IS NOT NULL"),
            postgresql_where=sa.text("status IN ('reserved', 'active') AND user_id IS NOT NULL"),
        )
        batch_op.create_index(
            "uq_reservations_open_vehicle",
            ["vehicle_number"],
            unique=True,
            sqlite_where=sa.text("status IN ('reserved', 'active')"),
            postgresql_where=sa.text("status IN ('reserved', 'active')"),
        )


def downgrade() -> None:

    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_reservations_open_vehicle",
            sqlite_where=sa.text("status IN ('reserved', 'active')"),
            postgresql_where=sa.text("status IN ('reserved', 'active')"),
        )
        batch_op.drop_index(
            "uq_reservations_open_user",
            sqlite_where=sa.text("status IN ('reserved', 'active') AND user_id IS NOT NULL"),
            postgresql_where=sa.text("status IN ('reserved', 'active') AND user_id IS NOT NULL"),
        )
        batch_op.drop_index(
            "uq_reservations_open_spot",
            sqlite_where=sa.text("status IN ('reserved', 'active')"),
            postgresql_where=sa.text("status IN ('reserved', 'active')"),
        )
        batch_op.drop_index("ix_reservations_vehicle_number")
        batch_op.drop_index("ix_reservations_user_reserved_at")
        batch_op.drop_index("ix_reservations_status")
        batch_op.drop_index("ix_reservations_spot_reserved_at")
        batch_op.drop_index("ix_reservations_reserved_at")
        batch_op.drop_index("ix_reservations_left_at")

    op.drop_table("reservations")
    with op.batch_alter_table("user_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_user_activity_user_timestamp")
        batch_op.drop_index("ix_user_activity_type_timestamp")
        batch_op.drop_index("ix_user_activity_timestamp")

    op.drop_table("user_activity")
    with op.batch_alter_table("parking_spots", schema=None) as batch_op:
        batch_op.drop_index("ix_parking_spots_lot_status_position")

    op.drop_table("parking_spots")
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_export_jobs_open_requester",
            sqlite_where=sa.text("status IN ('pending', 'processing')"),
            postgresql_where=sa.text("status IN ('pending', 'processing')"),
        )
        batch_op.drop_index("ix_export_jobs_requested_by_created")

    op.drop_table("export_jobs")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_role"))

    op.drop_table("users")
    with op.batch_alter_table("parking_lots", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_parking_lots_active_name",
            sqlite_where=sa.text("archived_at IS NULL"),
            postgresql_where=sa.text("archived_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_parking_lots_pin_code"))

    op.drop_table("parking_lots")
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_job_runs_job_started")

    op.drop_table("job_runs")
