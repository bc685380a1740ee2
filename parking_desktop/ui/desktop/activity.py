"""Activity log: everything recorded (sign-ins, bookings, the manager audit trail), newest
first, filterable by type, person and dates. An attendant sees only their own activity."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTableView,
    QWidget,
)

from parking_desktop.services.parking.activity import KNOWN_TYPES
from parking_desktop.services.views import ActivityView, Page
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.widgets import ColumnFitter, configure_table, tool_button
from parking_desktop.ui.desktop.filters import OptionalDate, date_bounds
from parking_desktop.ui.desktop.models import ActivityModel
from parking_desktop.ui.desktop.screen import Screen, SignedIn


class ActivityScreen(Screen):
    TITLE = "Activity log"
    SUBTITLE = "Everything recorded, including the manager audit trail"
    TOPICS = frozenset({"activity"})

    def __init__(self, session: SignedIn, parent: QWidget | None = None,
                 *, page_size: int = 200) -> None:
        super().__init__(session, parent)
        self.everyone = session.actor.is_manager
        if not self.everyone:
            self.subtitle_label.setText("Your own activity (a manager sees everyone's)")
        today = session.now().astimezone(session.tz).date()
        bar = QHBoxLayout()
        bar.setSpacing(10)
        self.type_box = QComboBox(self)
        self.type_box.setAccessibleName("Activity type")
        self.type_box.addItem("All activity", None)
        for kind in sorted(KNOWN_TYPES, key=fmt.activity_type):
            self.type_box.addItem(fmt.activity_type(kind), kind)
        self.type_box.setMinimumWidth(220)
        self.type_box.activated.connect(lambda _i: self.search())
        bar.addWidget(self.type_box)
        self.person = QLineEdit(self)
        self.person.setPlaceholderText("Username (exact)")
        self.person.setAccessibleName("Username")
        self.person.setClearButtonEnabled(True)
        self.person.returnPressed.connect(self.search)
        self.person.setVisible(self.everyone)
        bar.addWidget(self.person, 1)
        self.since = OptionalDate("From", today - timedelta(days=7), self)
        self.until = OptionalDate("To", today, self)
        self.since.changed.connect(self.search)
        self.until.changed.connect(self.search)
        bar.addWidget(self.since)
        bar.addWidget(self.until)
        self.search_button = tool_button("Search", "search", self, primary=True)
        self.search_button.clicked.connect(self.search)
        bar.addWidget(self.search_button)
        if not self.everyone:
            bar.addStretch(1)
        self.body.addLayout(bar)

        self.model = ActivityModel(session.tz, self, page_size=page_size)
        self.model.failed.connect(self.show_error)
        self.model.loading_changed.connect(lambda on: (self.busy.push if on else self.busy.pop)())
        self.model.total_changed.connect(lambda _t: self._update_footer())
        self.model.rowsInserted.connect(lambda *_: self._update_footer())
        self.model.page_loaded.connect(self._page_loaded)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        configure_table(self.table, "Activity", sortable=False)
        self.fitter = ColumnFitter(self.table, ActivityModel.DETAILS)
        self.body.addWidget(self.table, 1)
        self.footer = QLabel("", self)
        self.footer.setObjectName("tableFooter")
        self.footer.setAccessibleName("Result count")
        self.body.addWidget(self.footer)

    def refresh(self) -> None:
        super().refresh()
        self.search()

    def search(self) -> None:
        self.banner.clear()
        since, until = date_bounds(self.since.value(), self.until.value(), self.session.tz)
        kind = self.type_box.currentData()
        username = self.person.text().strip() if self.everyone else ""
        own_id = None if self.everyone else self.actor.user_id
        users, activity, actor = self.app.users, self.app.activity, self.actor
        resolved: dict[str, int | None] = {}

        def fetch(offset: int, limit: int, _sort: str, _desc: bool) -> Page[ActivityView]:
            user_id = own_id
            if username:  # resolved once, on the worker thread
                if "id" not in resolved:
                    resolved["id"] = users.find_by_username(actor, username).id
                user_id = resolved["id"]
            return activity.history(actor, user_id=user_id, activity_type=kind, since=since,
                                    until=until, offset=offset, limit=limit)

        self.model.set_query(fetch)

    def _page_loaded(self) -> None:
        self.fitter.fit_once()
        self.loaded()

    def _update_footer(self) -> None:
        self.footer.setText(fmt.scroll_footer(self.model.rowCount(), self.model.total,
                                              "entries", "Nothing recorded matches these filters."))

    def shutdown(self) -> None:
        self.model.discard()
        super().shutdown()
