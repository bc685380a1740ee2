"""The warning in the main window's status bar: mail that is not getting out ("54 e-mails
waiting: Cannot reach the mail server … since 13:02"), lots past the full-alert level
("City Center 95 % full since 14:02") and cars parked past OVERSTAY_HOURS ("2 cars parked
over 24 h, longest AB123 at City Center, 30.5 h"). Hidden while all is well.

It follows change notices (this machine's writes and, on PostgreSQL, the others') and also
asks again every POLL_MS: an outbox failing on a worker elsewhere changes nothing here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.services.mail.outbox import OutboxHealth
from parking_desktop.services.parking.full_alerts import FullLot
from parking_desktop.services.parking.no_shows import Overstay, overstays
from parking_desktop.ui.common.bridge import ChangeBridge
from parking_desktop.ui.common.ops import Op, OpHandle

POLL_MS = 30_000
TOPICS = frozenset({"outbox", "lots", "spots", "reservations", "activity"})
STYLE = ("QLabel#statusWarning { background: #FEF3C7; color: #78350F; border: 1px solid #F59E0B;"
         " border-radius: 4px; padding: 1px 8px; font-weight: 600; }")


@dataclass(frozen=True)
class Warnings:
    mail: OutboxHealth | None = None  # None: not a manager (the outbox is theirs)
    full: list[FullLot] = field(default_factory=list)
    overstays: list[Overstay] = field(default_factory=list)
    overstay_hours: int = 0


def fetch(app: App, actor: Actor) -> Warnings:
    health = app.email.outbox.health(actor) if actor.is_manager else None
    full = app.alerts.full_lots(actor) if app.alerts is not None and actor.is_staff else []
    limit = app.settings.overstay_hours
    staying = overstays(app.ctx, actor, limit) if actor.is_staff else []
    return Warnings(health, full, staying, limit)


def _mails(n: int) -> str:
    return f"{n:,} e-mail" + ("" if n == 1 else "s")


def _at(moment: datetime | None, tz: tzinfo, now: datetime) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    same_day = local.date() == now.astimezone(tz).date()
    return f" since {local:%H:%M}" if same_day else f" since {local:%d %b %H:%M}"


def warning_text(found: Warnings, tz: tzinfo, now: datetime) -> str:
    parts = []
    mail = found.mail
    if mail is not None and mail.failing:
        reason = (mail.last_error or "the mail server did not take them").rstrip(".")
        parts.append(f"{_mails(mail.waiting)} waiting: {reason}{_at(mail.since, tz, now)}")
    elif mail is not None and mail.failed:
        reason = (mail.last_error or "").rstrip(".")
        parts.append(f"{_mails(mail.failed)} failed today" + (f": {reason}" if reason else ""))
    parts.extend(f"{lot.lot_name} {lot.percent} % full{_at(lot.since, tz, now)}"
                 for lot in found.full)
    if found.overstays:
        n, longest = len(found.overstays), found.overstays[0]
        parts.append(f"{n} car{'' if n == 1 else 's'} parked over {found.overstay_hours} h, "
                     f"longest {longest.vehicle_number} at {longest.lot_name}, "
                     f"{longest.hours} h")
    return "  ·  ".join(parts)


class StatusLine(QLabel):
    def __init__(self, app: App, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app, self.actor = app, actor
        self.setObjectName("statusWarning")
        self.setStyleSheet(STYLE)
        self.setAccessibleName("Warnings")
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.full_text = ""
        self.loaded = 0  # answers received (tests wait on it)
        self._op: OpHandle | None = None
        self._again = False
        self.hide()
        self.bridge = ChangeBridge(app.ctx, self)
        self.bridge.changed.connect(self._changed)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self.refresh()

    def _changed(self, topics: frozenset[str]) -> None:
        if topics & TOPICS:
            self.refresh()

    def refresh(self) -> None:
        if self._op is not None:  # one question at a time; ask again when it answers
            self._again = True
            return
        app, actor = self.app, self.actor
        self._op = Op(lambda _work: fetch(app, actor), on_success=self._show,
                      on_finished=self._answered, owner=self).start()

    def _answered(self) -> None:
        self._op = None
        if self._again:
            self._again = False
            self.refresh()

    def _show(self, found: Warnings) -> None:
        self.loaded += 1
        self.full_text = warning_text(found, self.app.ctx.tz, self.app.ctx.clock.now())
        self.setToolTip(self.full_text)
        self.setAccessibleDescription(self.full_text)
        self._elide()
        self.setVisible(bool(self.full_text))

    def _elide(self) -> None:
        # The status bar is one line: long reasons are cut with "…" (the tooltip has it all).
        room = max(40, self.contentsRect().width())
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight,
                                                   room))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def shutdown(self) -> None:
        self.timer.stop()
        self.bridge.detach()
        if self._op is not None:
            self._op.discard()
