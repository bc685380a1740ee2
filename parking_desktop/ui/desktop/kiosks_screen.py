"""Kiosks (manager only): each kiosk's link to the database, from its heartbeats — online,
offline since …, not heard from since …, and the operations it still has to send."""

from __future__ import annotations

from datetime import datetime, tzinfo

from PySide6.QtWidgets import QLabel, QTableView, QWidget

from parking_desktop.services.kiosks.views import KioskView, Seen
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.table import Column, RowTableModel
from parking_desktop.ui.common.widgets import ColumnFitter, configure_table
from parking_desktop.ui.desktop.screen import Screen, SignedIn

SEEN_COLOUR = {Seen.SILENT: "#b91c1c", Seen.OFFLINE: "#b45309", Seen.ONLINE: "#15803d"}


def moment(dt: datetime | None, tz: tzinfo) -> str:
    """To the second: an outage of a few seconds must be told from the next one."""
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if dt else "—"


def state_text(kiosk: KioskView, tz: tzinfo) -> str:
    if kiosk.seen is Seen.SILENT:
        return f"Not heard from since {moment(kiosk.last_seen, tz)}"
    if kiosk.seen is Seen.OFFLINE:
        return f"Offline since {moment(kiosk.offline_since or kiosk.last_seen, tz)}"
    return "Online"


def kiosk_columns(session: SignedIn) -> list[Column[KioskView]]:
    tz = session.tz
    return [
        Column("Kiosk", lambda k: k.host, tooltip=lambda k: f"{k.host} — id {k.kiosk_id}"),
        Column("Lot", lambda k: k.lot or "—"),
        Column("State", lambda k: state_text(k, tz), colour=lambda k: SEEN_COLOUR[k.seen]),
        Column(
            "Operations waiting",
            lambda k: fmt.count(k.ops_waiting),
            sort_value=lambda k: k.ops_waiting,
            numeric=True,
        ),
        Column("Last seen", lambda k: moment(k.last_seen, tz), sort_value=lambda k: k.last_seen),
        Column("Version", lambda k: k.app_version),
    ]


class KioskModel(RowTableModel[KioskView]):
    KIOSK, LOT, STATE, WAITING, LAST_SEEN, VERSION = range(6)

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.COLUMNS = kiosk_columns(session)


class KiosksScreen(Screen):
    TITLE = "Kiosks"
    SUBTITLE = "Each kiosk's link to the database, from the heartbeat it sends every 2 seconds"
    AUTO_REFRESH_MS = 3_000  # heartbeats are not announced: read them again

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.summary = QLabel("", self)
        self.summary.setAccessibleName("Kiosk counts")
        self.body.addWidget(self.summary)
        self.model = KioskModel(session, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        configure_table(self.table, "Kiosks", sortable=False)
        self.fitter = ColumnFitter(self.table, KioskModel.STATE, 260)
        self._sized = False
        self.body.addWidget(self.table, 1)

    def refresh(self) -> None:
        super().refresh()
        self.call(self.app.heartbeats.kiosks, self.actor, on_success=self._show)

    def _show(self, kiosks: list[KioskView]) -> None:
        self.model.set_rows(kiosks)
        if not self._sized:
            self._sized = bool(kiosks)
            self.fitter.fit()
        if not kiosks:
            self.summary.setText("No kiosk has sent a heartbeat to this database yet.")
        else:
            counts = {seen: sum(1 for k in kiosks if k.seen is seen) for seen in Seen}
            waiting = sum(k.ops_waiting for k in kiosks)
            self.summary.setText(
                f"{fmt.count(len(kiosks))} kiosks: {fmt.count(counts[Seen.ONLINE])} online · "
                f"{fmt.count(counts[Seen.OFFLINE])} offline · "
                f"{fmt.count(counts[Seen.SILENT])} not heard from · "
                f"{fmt.count(waiting)} operations waiting"
            )
        self.loaded()
