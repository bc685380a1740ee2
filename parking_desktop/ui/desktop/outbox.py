"""Outbox (manager only): every mail's fate — waiting, sent or failed — with the last error, and
"Retry now" for the selected mail (or for everything waiting or failed)."""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QItemSelection
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTableView, QWidget

from parking_desktop.services.mail.outbox import DispatchReport, OutboxView
from parking_desktop.services.views import Page
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.table import ROW_ROLE, Column, RowTableModel
from parking_desktop.ui.common.widgets import ColumnFitter, configure_table, tool_button
from parking_desktop.ui.desktop.screen import Screen, SignedIn


def header_actions(screen: Screen) -> QHBoxLayout:
    """The heading's button row (Screen.actions, which mypy confuses with QWidget.actions)."""
    return cast(QHBoxLayout, screen.actions)

STATUS_TEXT = {"pending": "Waiting", "sending": "Sending", "sent": "Sent", "failed": "Failed"}
STATUS_COLOUR = {"failed": "#b91c1c", "sent": "#15803d"}
FILTERS = [("All mail", None), ("Waiting", "pending"), ("Sent", "sent"), ("Failed", "failed")]
LIMIT = 500


def outbox_columns(session: SignedIn) -> list[Column[OutboxView]]:
    tz = session.tz
    return [
        Column("Queued", lambda m: fmt.date_time(m.created_at, tz),
               sort_value=lambda m: m.created_at),
        Column("To", lambda m: m.recipient),
        Column("Subject", lambda m: m.subject, tooltip=lambda m: m.subject),
        Column("Status", lambda m: STATUS_TEXT.get(m.status, m.status),
               colour=lambda m: STATUS_COLOUR.get(m.status)),
        Column("Attempts", lambda m: str(m.attempts), sort_value=lambda m: m.attempts,
               numeric=True),
        Column("Sent / next try", lambda m: fmt.date_time(
            m.sent_at if m.status == "sent" else
            (m.next_attempt_at if m.status == "pending" else None), tz)),
        Column("Last error", lambda m: m.last_error or "", tooltip=lambda m: m.last_error or ""),
    ]


class OutboxModel(RowTableModel[OutboxView]):
    QUEUED, TO, SUBJECT, STATUS, ATTEMPTS, WHEN, ERROR = range(7)

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.COLUMNS = outbox_columns(session)


class OutboxScreen(Screen):
    TITLE = "Outbox"
    SUBTITLE = "Every e-mail the program sends, and what became of it"
    TOPICS = frozenset({"outbox"})
    AUTO_REFRESH_MS = 15_000  # other machines' dispatchers change it too

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.retry_button = tool_button("Retry now", "refresh", self, primary=True,
                                        tooltip="Send the selected mail now, or everything "
                                                "waiting or failed when none is selected")
        self.retry_button.clicked.connect(self.retry)
        header_actions(self).addWidget(self.retry_button)

        bar = QHBoxLayout()
        self.filter = QComboBox(self)
        self.filter.setAccessibleName("Show")
        for label, status in FILTERS:
            self.filter.addItem(label, status)
        self.filter.activated.connect(lambda _i: self.refresh())
        bar.addWidget(self.filter)
        self.counts = QLabel("", self)
        self.counts.setAccessibleName("Outbox counts")
        bar.addWidget(self.counts, 1)
        self.body.addLayout(bar)

        self.model = OutboxModel(session, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        configure_table(self.table, "Outbox", sortable=False)
        self.fitter = ColumnFitter(self.table, OutboxModel.SUBJECT, 160)
        self._sized = False
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.body.addWidget(self.table, 1)
        self.error = QLabel("", self)
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Last error of the selected mail")
        self.body.addWidget(self.error)

    def refresh(self) -> None:
        super().refresh()
        outbox, actor, status = self.app.email.outbox, self.actor, self.filter.currentData()

        def fetch() -> tuple[dict[str, int], Page[OutboxView]]:
            return outbox.counts(actor), outbox.list(actor, status=status, limit=LIMIT)

        self.call(fetch, on_success=self._show)

    def _show(self, result: tuple[dict[str, int], Page[OutboxView]]) -> None:
        counts, page = result
        selected = self.selected()
        self.model.set_rows(page.items)
        if not self._sized:
            self._sized = bool(page.items)  # headers fit even while empty; rows once
            self.fitter.fit()
        waiting = counts["pending"] + counts["sending"]
        text = (f"{fmt.count(waiting)} waiting · {fmt.count(counts['sent'])} sent · "
                f"{fmt.count(counts['failed'])} failed")
        if page.total > len(page.items):
            text += f" — showing the newest {fmt.count(len(page.items))}"
        self.counts.setText(text)
        if selected is not None:
            for row, mail in enumerate(self.model.rows()):
                if mail.id == selected.id:
                    self.table.selectRow(row)
        self._selected()
        self.loaded()

    def selected(self) -> OutboxView | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        mail: OutboxView = rows[0].data(ROW_ROLE)
        return mail

    def _selected(self, *_args: QItemSelection) -> None:
        mail = self.selected()
        if mail is None:
            self.error.setText("")
        elif mail.last_error:
            self.error.setText(f"Last error: {mail.last_error}")
        else:
            self.error.setText("No error recorded.")

    def retry(self) -> None:
        self.banner.clear()
        mail = self.selected()
        if mail is not None and mail.status not in ("pending", "failed"):
            self.show_error("Only a waiting or failed mail can be retried.")
            return
        ids = [mail.id] if mail is not None else None
        self.call(self.app.email.outbox.retry, self.actor, ids, on_success=self._retried,
                  disable=[self.retry_button])

    def _retried(self, report: DispatchReport) -> None:
        if report.sent + report.failed + report.retrying == 0:
            self.banner.show_info("Nothing to retry.")
        elif report.failed or report.retrying:
            self.show_error(f"Sent {report.sent}; {report.failed} failed, {report.retrying} "
                            f"wait for another try: {report.errors[-1] if report.errors else ''}")
        else:
            self.show_success(f"Sent {report.sent}.")
        self.refresh()
