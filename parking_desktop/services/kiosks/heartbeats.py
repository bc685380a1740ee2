"""Heartbeats: each kiosk's upsert, and the list the desktop's Kiosks screen shows.

A beat is written without change topics: it is not a change anyone's cache holds, and a NOTIFY
every few seconds per kiosk would wake every machine for nothing. The Kiosks screen polls."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from parking_desktop.adapters.db.heartbeats import upsert_heartbeat
from parking_desktop.adapters.db.models_kiosks import KioskHeartbeat
from parking_desktop.domain.roles import Actor
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager
from parking_desktop.services.kiosks.views import HeartbeatReport, KioskView, LinkState, Seen

HEARTBEAT_SECONDS = 2.0  # a kiosk beats this often: a lost database shows within 3 s
SILENT_AFTER_BEATS = 3  # the desktop calls a kiosk silent after this many missed beats


def seen_as(
    state: LinkState, last_seen: datetime, now: datetime, interval: float = HEARTBEAT_SECONDS
) -> Seen:
    if now - last_seen > timedelta(seconds=interval * SILENT_AFTER_BEATS):
        return Seen.SILENT
    return Seen.ONLINE if state is LinkState.ONLINE else Seen.OFFLINE


class HeartbeatService:
    def __init__(self, ctx: ServiceContext, interval: float = HEARTBEAT_SECONDS) -> None:
        self.ctx = ctx
        self.interval = interval

    def beat(self, report: HeartbeatReport) -> datetime:
        """Record the kiosk's beat (no role: the kiosk itself writes it, signed in or not).
        Returns the time recorded."""
        now = self.ctx.clock.now()
        with self.ctx.write() as session:
            upsert_heartbeat(
                session,
                {
                    "kiosk_id": report.kiosk_id,
                    "host": report.host[:255],
                    "lot": report.lot[:120],
                    "state": report.state.value,
                    "last_seen": now,
                    "offline_since": report.offline_since,
                    "ops_waiting": report.ops_waiting,
                    "app_version": report.app_version[:40],
                },
            )
        return now

    def kiosks(self, actor: Actor) -> list[KioskView]:
        """Every kiosk that ever beat, silent ones first, then by host."""
        require_manager(actor, "see the kiosks")
        return self._views()

    def kiosk(self, kiosk_id: str) -> KioskView | None:
        """One kiosk's row (the `kiosk status` command of that machine)."""
        found = [view for view in self._views(kiosk_id) if view.kiosk_id == kiosk_id]
        return found[0] if found else None

    def _views(self, kiosk_id: str | None = None) -> list[KioskView]:
        query = select(KioskHeartbeat)
        if kiosk_id is not None:
            query = query.where(KioskHeartbeat.kiosk_id == kiosk_id)
        with self.ctx.read() as session:
            rows = session.scalars(query).all()
            now = self.ctx.clock.now()
            views = [
                KioskView(
                    kiosk_id=row.kiosk_id,
                    host=row.host,
                    lot=row.lot,
                    state=LinkState(row.state),
                    last_seen=row.last_seen,
                    offline_since=row.offline_since,
                    ops_waiting=row.ops_waiting,
                    app_version=row.app_version,
                    seen=seen_as(LinkState(row.state), row.last_seen, now, self.interval),
                )
                for row in rows
            ]
        order = {Seen.SILENT: 0, Seen.OFFLINE: 1, Seen.ONLINE: 2}
        return sorted(views, key=lambda v: (order[v.seen], v.host.lower(), v.kiosk_id))
