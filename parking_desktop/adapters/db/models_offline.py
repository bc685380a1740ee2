"""What kiosks replayed after working offline (``services/kiosks/replay.py``).

``applied_operations``: one row per journal operation the server applied, keyed by the id the
kiosk made for it. It is written in the same transaction as the operation's effect, so an
operation sent twice (a replay cut off after the commit, before the kiosk heard the answer)
finds its row and is answered from it instead of being applied again.

``sync_conflicts``: an operation that met a different world than the kiosk believed (the spot
was taken meanwhile, the car had already left elsewhere). The closest correct outcome is
applied and this row keeps both versions for a manager; ``resolved_*`` is set when one has
looked at it (the row itself is never edited otherwise)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parking_desktop.adapters.db.base import Base, BigId
from parking_desktop.adapters.db.types import UTCDateTime

OPERATION_KINDS = ("check_in", "check_out")
OUTCOMES = ("applied", "adjusted", "refused")


class AppliedOperation(Base):
    __tablename__ = "applied_operations"
    __table_args__ = (
        CheckConstraint("kind IN ('check_in', 'check_out')", name="kind"),
        CheckConstraint("outcome IN ('applied', 'adjusted', 'refused')", name="outcome"),
        Index("ix_applied_operations_kiosk_seq", "kiosk_id", "seq"),
    )

    # The kiosk's uuid for the operation: the primary key is the "at most once".
    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)  # the kiosk's local sequence number
    kind: Mapped[str] = mapped_column(String(16))
    done_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it happened at the kiosk
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the server applied it
    outcome: Mapped[str] = mapped_column(String(12))
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="RESTRICT")
    )
    message: Mapped[str] = mapped_column(Text, default="")


class SyncConflict(Base):
    __tablename__ = "sync_conflicts"
    __table_args__ = (Index("ix_sync_conflicts_created", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    op_id: Mapped[str] = mapped_column(String(36), index=True)
    kiosk_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(16))
    vehicle_number: Mapped[str] = mapped_column(String(15))
    # What the kiosk did and believed, and what the server had: both versions, as JSON.
    kiosk_version: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    server_version: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[str] = mapped_column(Text)  # what was applied instead, in words
    reservation_id: Mapped[int | None] = mapped_column(
        ForeignKey("reservations.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
