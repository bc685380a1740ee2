"""Kiosks (manager only): each kiosk's link to the database, from its heartbeats — online,
offline since …, not heard from since …, and the operations it still has to send; below, the
operations replayed after an outage that needed a decision (``sync_conflicts``), with what
the kiosk did and what the server had."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any, cast

from PySide6.QtWidgets import QHBoxLayout, QLabel, QTableView, QWidget

from parking_desktop.services.kiosks.operations import ConflictView
from parking_desktop.services.kiosks.replay import ReplayService
from parking_desktop.services.kiosks.views import KioskView, Seen
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.table import ROW_ROLE, Column, RowTableModel
from parking_desktop.ui.common.widgets import ColumnFitter, configure_table, tool_button
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


def _at(raw: Any, day: datetime, tz: tzinfo) -> str:
    """The time; the date too when it is not the replay's day (an outage over midnight)."""
    try:
        when = datetime.fromisoformat(str(raw)).astimezone(tz)
    except ValueError:
        return "—"
    same_day = when.date() == day.astimezone(tz).date()
    return when.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S")


def kiosk_did(c: ConflictView, tz: tzinfo) -> str:
    """The kiosk's version, in words."""
    k = c.kiosk_version
    at = _at(k.get("at"), c.created_at, tz)
    if c.kind == "check_in":
        return f"In at {at}, spot {k.get('spot_number', '?')}"
    return f"Out at {at}, fee {k.get('cost', '?')}"


def server_had(c: ConflictView) -> str:
    return (
        ", ".join(
            f"{key.replace('_', ' ')}: {value}"
            for key, value in c.server_version.items()
            if value is not None
        )
        or "—"
    )


def conflict_columns(session: SignedIn, hosts: dict[str, str]) -> list[Column[ConflictView]]:
    tz = session.tz
    return [
        Column("Replayed", lambda c: moment(c.created_at, tz), sort_value=lambda c: c.created_at),
        Column(
            "Kiosk",
            lambda c: hosts.get(c.kiosk_id, c.kiosk_id[:8]),
            tooltip=lambda c: f"kiosk id {c.kiosk_id}, operation {c.op_id}",
        ),
        Column("Vehicle", lambda c: c.vehicle_number),
        Column(
            "State",
            lambda c: "Dealt with" if c.resolved_at else "To deal with",
            tooltip=lambda c: f"Dealt with {moment(c.resolved_at, tz)}" if c.resolved_at else "",
            colour=lambda c: None if c.resolved_at else "#b45309",
        ),
        Column("The kiosk did", lambda c: kiosk_did(c, tz)),
        Column("The server had", server_had, tooltip=server_had),
        Column(
            "What was applied",
            lambda c: c.outcome,
            tooltip=lambda c: f"{c.outcome}\nThe server had: {server_had(c)}",
        ),
    ]


class ConflictModel(RowTableModel[ConflictView]):
    REPLAYED, KIOSK, VEHICLE, STATE, KIOSK_DID, SERVER_HAD, OUTCOME = range(7)

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hosts: dict[str, str] = {}  # filled before each set_rows: columns read it
        self.COLUMNS = conflict_columns(session, self.hosts)


class KiosksScreen(Screen):
    TITLE = "Kiosks"
    SUBTITLE = "Each kiosk's link to the database, from the heartbeat it sends every 2 seconds"
    AUTO_REFRESH_MS = 3_000  # heartbeats are not announced: read them again

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.resolve_button = tool_button(
            "Mark as dealt with",
            "check",
            self,
            primary=True,
            tooltip="The selected offline conflict has been dealt with (a refund, a car moved, "
            "a booking recorded by hand)",
        )
        self.resolve_button.setEnabled(False)
        self.resolve_button.clicked.connect(self.resolve)
        cast(QHBoxLayout, self.actions).addWidget(self.resolve_button)
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
        self.conflicts_title = QLabel("", self)
        self.conflicts_title.setObjectName("sectionTitle")
        self.conflicts_title.setAccessibleName("Offline conflicts")
        self.body.addWidget(self.conflicts_title)
        self.conflict_model = ConflictModel(session, self)
        self.conflict_table = QTableView(self)
        self.conflict_table.setModel(self.conflict_model)
        configure_table(
            self.conflict_table, "Offline operations that needed a decision", sortable=False
        )
        # The outcome is what a manager acts on: the versions give up width first (tooltips
        # hold them whole).
        self.conflict_fitter = ColumnFitter(
            self.conflict_table,
            ConflictModel.OUTCOME,
            260,
            shrink=(ConflictModel.SERVER_HAD,),
            optional=(ConflictModel.SERVER_HAD,),
            cap=300,
        )
        self.conflict_table.selectionModel().selectionChanged.connect(self._selected)
        self.body.addWidget(self.conflict_table, 1)
        self.replay = ReplayService(self.app.ctx)

    def refresh(self) -> None:
        super().refresh()
        actor = self.actor
        self.call(
            lambda: (self.app.heartbeats.kiosks(actor), self.replay.conflicts(actor)),
            on_success=self._show,
        )

    def _show(self, found: tuple[list[KioskView], list[ConflictView]]) -> None:
        kiosks, conflicts = found
        selected = self.selected_conflict()
        self.conflict_model.hosts.clear()
        self.conflict_model.hosts.update({k.kiosk_id: k.host for k in kiosks})
        self.conflict_model.set_rows(conflicts)
        self.conflict_fitter.fit()
        if selected is not None:  # the refresh every 3 s must not drop the manager's choice
            for row, conflict in enumerate(conflicts):
                if conflict.id == selected.id:
                    self.conflict_table.selectRow(row)
        self._selected()
        still = sum(1 for c in conflicts if c.resolved_at is None)
        self.conflicts_title.setText(
            f"Offline operations that needed a decision: {fmt.count(len(conflicts))}, "
            f"{fmt.count(still)} still to deal with"
            if conflicts
            else "No offline operation has needed a decision."
        )
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

    # --- offline conflicts ----------------------------------------------------------------------
    def selected_conflict(self) -> ConflictView | None:
        rows = self.conflict_table.selectionModel().selectedRows()
        if not rows:
            return None
        conflict: ConflictView = rows[0].data(ROW_ROLE)
        return conflict

    def _selected(self, *_args: object) -> None:
        conflict = self.selected_conflict()
        self.resolve_button.setEnabled(conflict is not None and conflict.resolved_at is None)

    def resolve(self) -> None:
        conflict = self.selected_conflict()
        if conflict is None or conflict.resolved_at is not None:
            return
        self.call(
            self.replay.resolve,
            self.actor,
            conflict.id,
            on_success=lambda _c: self.refresh(),
            disable=[self.resolve_button],
        )
