"""Drivers' mail preferences: whether they get the daily reminders and the monthly reports.

No row means both on (the behaviour before preferences existed, and the default for a new
account), so existing sites need no data migration. Transactional mail (a requested CSV, a
receipt) is not a preference: it is always sent. The row goes with the account (ON DELETE
CASCADE) and with an erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from parking_desktop.adapters.db.base import Base, BigId
from parking_desktop.adapters.db.types import UTCDateTime


class MailPreference(Base):
    __tablename__ = "mail_preferences"

    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    reports: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # How the last change came: "kiosk", "desktop", "cli" or "request" (a pasted unsubscribe).
    source: Mapped[str] = mapped_column(String(16))
