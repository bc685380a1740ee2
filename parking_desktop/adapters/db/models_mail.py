"""The e-mail outbox: every mail is written here first, then delivered by the dispatcher.

Status flow: pending -> sending (claimed by one dispatcher, with a lease) -> sent | failed,
or back to pending with a later ``next_attempt_at`` after a transient failure. A dispatcher that
dies while holding rows leaves them 'sending' with an expired lease; the next one reclaims those
it had not begun to send. ``sent_at`` on a 'sending' row is the stamp "delivery began" (set, a
window at a time, before the mails are handed to the server): such a row may have arrived, so
it is failed as interrupted instead of being sent again (services/mail/outbox.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from parking_desktop.adapters.db.base import Base, BigId
from parking_desktop.adapters.db.types import UTCDateTime

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class EmailOutbox(Base):
    __tablename__ = "email_outbox"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')", name="status"
        ),
        CheckConstraint("attempts >= 0", name="attempts"),
        # The dispatcher's query: what is due, oldest first.
        Index("ix_email_outbox_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_email_outbox_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Queuing the same mail twice (one reminder per driver per day) hits this unique key.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # [{"filename", "content_type", "data" (base64), "content_id" (optional, inline)}]
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Fixed when queued, so a resend after a crash carries the same Message-ID.
    message_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
