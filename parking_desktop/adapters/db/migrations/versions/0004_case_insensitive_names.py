"""usernames and active lot names unique whatever their case

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from parking_desktop.domain.errors import ConflictError

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ACTIVE_LOT = "archived_at IS NULL"
# Rows whose lower-cased value is shared with another row: what the new indexes would refuse.
USER_CLASHES = sa.text(
    "SELECT id, username FROM users WHERE lower(username) IN "
    "(SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1) "
    "ORDER BY lower(username), id"
)
LOT_CLASHES = sa.text(
    "SELECT id, name FROM parking_lots WHERE archived_at IS NULL AND lower(name) IN "
    "(SELECT lower(name) FROM parking_lots WHERE archived_at IS NULL "
    "GROUP BY lower(name) HAVING count(*) > 1) ORDER BY lower(name), id"
)


def _listed(rows: list[sa.Row[tuple[int, str]]]) -> str:
    shown = [f"'{value}' (id {row_id})" for row_id, value in rows[:20]]
    more = f" and {len(rows) - 20} more" if len(rows) > 20 else ""
    return ", ".join(shown) + more


def clashes_message(connection: sa.Connection) -> str | None:
    """What stops this migration, or None: names that differ only in case."""
    users = list(connection.execute(USER_CLASHES))
    lots = list(connection.execute(LOT_CLASHES))
    if not users and not lots:
        return None
    parts = []
    if users:
        parts.append(f"usernames differing only in case: {_listed(users)}")
    if lots:
        parts.append(f"active lots named alike: {_listed(lots)}")
    return (
        "The database cannot be upgraded: " + "; ".join(parts) + ". Names must now be unique "
        "whatever their case: rename all but one of each group (see docs/deployment.md, "
        "\"Names differing only in case\"), then start again. Nothing was changed."
    )


def upgrade() -> None:
    message = clashes_message(op.get_bind())
    if message is not None:
        raise ConflictError(message)
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")],
                    unique=True)
    op.create_index("uq_parking_lots_active_name_lower", "parking_lots",
                    [sa.text("lower(name)")], unique=True,
                    sqlite_where=sa.text(ACTIVE_LOT), postgresql_where=sa.text(ACTIVE_LOT))


def downgrade() -> None:
    op.drop_index("uq_parking_lots_active_name_lower", table_name="parking_lots")
    op.drop_index("uq_users_username_lower", table_name="users")
