"""People: drivers and staff, searchable; managers create, edit, deactivate and reset
passwords; opening a person shows their page (summary, spending, history, activity)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.domain.roles import Role
from parking_desktop.services.views import Page, UserView
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.holds import set_enabled
from parking_desktop.ui.common.widgets import (
    ColumnFitter,
    SearchBox,
    configure_table,
    tool_button,
)
from parking_desktop.ui.desktop.models import PeopleModel
from parking_desktop.ui.desktop.people_dialogs import PersonDialog, ResetPasswordDialog
from parking_desktop.ui.desktop.person_page import PersonPage
from parking_desktop.ui.desktop.screen import Screen, SignedIn


class PeopleScreen(Screen):
    TITLE = "People"
    SUBTITLE = "Drivers and staff accounts"
    TOPICS = frozenset({"users", "reservations"})

    def __init__(self, session: SignedIn, parent: QWidget | None = None,
                 *, page_size: int = 200) -> None:
        super().__init__(session, parent)
        self.dialog: dialogs.ServiceDialog | None = None
        self.pages = QStackedWidget(self)
        self.body.addWidget(self.pages, 1)
        self.list_page = QWidget(self.pages)
        column = QVBoxLayout(self.list_page)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(14)
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.search = SearchBox("Search by username, name or e-mail", self.list_page)
        self.search.search.connect(lambda _t: self.load_people())
        bar.addWidget(self.search, 1)
        self.role_box = QComboBox(self.list_page)
        self.role_box.setAccessibleName("Role")
        self.role_box.addItem("Everyone", None)
        for role, label in ((Role.DRIVER, "Drivers"), (Role.ATTENDANT, "Attendants"),
                            (Role.MANAGER, "Managers")):
            self.role_box.addItem(label, role.value)
        self.role_box.activated.connect(lambda _i: self.load_people())
        bar.addWidget(self.role_box)
        self.inactive = QCheckBox("Show deactivated", self.list_page)
        self.inactive.setAccessibleName("Show deactivated accounts")
        self.inactive.setChecked(True)
        self.inactive.toggled.connect(lambda _on: self.load_people())
        bar.addWidget(self.inactive)
        bar.addStretch(1)
        self.open_button = tool_button("Open", "user", self.list_page)
        self.edit_button = tool_button("Edit", "edit", self.list_page)
        self.active_button = tool_button("Deactivate", "deactivate", self.list_page)
        self.password_button = tool_button("Reset password", "key", self.list_page)
        for button, slot in ((self.open_button, self.open_person),
                             (self.edit_button, self.edit_person),
                             (self.active_button, self.toggle_active),
                             (self.password_button, self.reset_password)):
            button.clicked.connect(slot)
            self.header_actions.addWidget(button)
        self.new_button = tool_button("New person", "add", self, primary=True)
        self.new_button.clicked.connect(self.create_person)
        self.header_actions.addWidget(self.new_button)
        column.addLayout(bar)
        self.model = PeopleModel(session.tz, self, page_size=page_size)
        self.model.failed.connect(self.show_error)
        self.model.loading_changed.connect(lambda on: (self.busy.push if on else self.busy.pop)())
        self.model.page_loaded.connect(self._page_loaded)
        self.model.total_changed.connect(lambda _t: self._update_footer())
        self.model.rowsInserted.connect(lambda *_: self._update_footer())
        self.table = QTableView(self.list_page)
        self.table.setModel(self.model)
        configure_table(self.table, "People", sortable=False)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.model.modelReset.connect(self._update_buttons)
        self.table.activated.connect(self._activated)
        self.fitter = ColumnFitter(self.table, PeopleModel.EMAIL)
        column.addWidget(self.table, 1)
        self.footer = QLabel("", self.list_page)
        self.footer.setObjectName("tableFooter")
        column.addWidget(self.footer)
        self.pages.addWidget(self.list_page)
        self.person_page = PersonPage(self, self.pages)
        self.person_page.back.connect(self.show_list)
        self.header_actions.insertWidget(0, self.person_page.back_button)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self.person_page, self.show_list,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.pages.addWidget(self.person_page)
        self._update_buttons()

    # --- loading --------------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        if self.pages.currentWidget() is self.person_page and self.person_page.user is not None:
            self.call(self.app.users.get, self.actor, self.person_page.user.id,
                      on_success=self.show_person)
        self.load_people()

    def load_people(self) -> None:
        users, actor = self.app.users, self.actor
        text = self.search.text().strip()
        role = Role(self.role_box.currentData()) if self.role_box.currentData() else None
        include_inactive = self.inactive.isChecked()

        def fetch(offset: int, limit: int, _sort: str, _desc: bool) -> Page[UserView]:
            return users.search(actor, text, role=role, include_inactive=include_inactive,
                                offset=offset, limit=limit)

        self.model.set_query(fetch)

    def _page_loaded(self) -> None:
        self.fitter.fit_once()
        self.loaded()

    def _update_footer(self) -> None:
        self.footer.setText(fmt.scroll_footer(self.model.rowCount(), self.model.total,
                                              "people", "Nobody matches."))

    # --- selection ----------------------------------------------------------------------------
    def selected_user(self) -> UserView | None:
        """The person the buttons act on: the open page's, or the table's selection."""
        if self.pages.currentWidget() is self.person_page:
            return self.person_page.user
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def select_username(self, username: str) -> bool:
        for row, user in enumerate(self.model.rows()):
            if user.username == username:
                self.table.selectRow(row)
                return True
        return False

    def _update_buttons(self) -> None:
        user = self.selected_user()
        for button in (self.open_button, self.edit_button, self.active_button,
                       self.password_button):
            set_enabled(button, user is not None)
        if user is not None:
            self.active_button.setText("Reactivate" if not user.is_active else "Deactivate")
            self.active_button.setAccessibleName(self.active_button.text())

    def _set_list_actions(self, visible: bool) -> None:
        for button in (self.open_button, self.new_button):
            button.setVisible(visible)
        self.person_page.back_button.setVisible(not visible)

    def _activated(self, _index: QModelIndex) -> None:
        self.open_person()

    # --- pages --------------------------------------------------------------------------------
    def open_person(self) -> None:
        user = self.selected_user()
        if user is not None:
            self.show_person(user)

    def show_person(self, user: UserView) -> None:
        self.banner.clear()
        self.person_page.show_user(user)
        self.pages.setCurrentWidget(self.person_page)
        self._update_buttons()
        self.title_label.setText(user.full_name or user.username)
        extra = [user.username, fmt.role(user.role.value), user.email or "no e-mail"]
        if not user.is_active:
            extra.append("deactivated")
        self.subtitle_label.setText("  ·  ".join(extra))
        self._set_list_actions(False)

    def show_list(self) -> None:
        self.banner.clear()
        self.pages.setCurrentWidget(self.list_page)
        self.title_label.setText(self.TITLE)
        self.subtitle_label.setText(self.SUBTITLE)
        self._set_list_actions(True)
        self._update_buttons()
        self.table.setFocus()

    # --- actions ---------------------------------------------------------------------------
    def create_person(self) -> None:
        self._open(PersonDialog(self.session, None, self), "Account '{}' created.")

    def edit_person(self) -> None:
        user = self.selected_user()
        if user is not None:
            self._open(PersonDialog(self.session, user, self), "Account '{}' saved.")

    def reset_password(self) -> None:
        user = self.selected_user()
        if user is not None:
            dialog = ResetPasswordDialog(self.session, user, self)
            self._open(dialog, f"The password of '{user.username}' was reset.")

    def _open(self, dialog: dialogs.ServiceDialog, message: str) -> None:
        self.dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.show_success(
            message.format(getattr(dialog.result_value, "username", ""))))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        dialog.open()

    def toggle_active(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        activate = not user.is_active
        if not activate and not dialogs.confirm(
                self, "Deactivate account",
                f"Deactivate '{user.username}'? They can no longer sign in; their history is "
                "kept and you can reactivate them later.", "Deactivate", destructive=True):
            return
        self.call(self.app.users.set_active, self.actor, user.id, activate,
                  on_success=lambda changed: self.show_success(
                      f"'{changed.username}' is {'active' if changed.is_active else 'deactivated'}"
                      " now."), disable=[self.active_button])

    def shutdown(self) -> None:
        self.model.discard()
        self.person_page.shutdown()
        super().shutdown()
