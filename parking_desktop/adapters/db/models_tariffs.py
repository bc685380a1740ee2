"""Tariff versions: what a lot charges, from a moment on (docs/tariffs.md).

A version is never updated: an edit inserts a new one, and a reservation records the version it
was priced by (``reservations.tariff_version_id``), so a stay keeps its price whatever changes
later. The version itself is its JSON form (``domain.tariffs.json_form``): one document, read
back exactly, instead of tables of bands that would have to be kept in step with the engine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from parking_desktop.adapters.db.base import Base, BigId
from parking_desktop.adapters.db.types import UTCDateTime


class TariffVersion(Base):
    __tablename__ = "tariff_versions"
    __table_args__ = (
        # "The version in force at t": the latest effective_from <= t of a lot.
        Index("ix_tariff_versions_lot_effective", "lot_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("parking_lots.id", ondelete="RESTRICT"))
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    # Null: made by the system (the migration, a lot's first booking) or a removed account.
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
