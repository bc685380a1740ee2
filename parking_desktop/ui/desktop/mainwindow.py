"""The manager desktop's main window: navigation sidebar, screens, status bar."""

from __future__ import annotations

import logging

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.ui.common import formatting
from parking_desktop.ui.common.bridge import ChangeBridge
from parking_desktop.ui.common.elided_label import ElidedLabel
from parking_desktop.ui.common.qtapp import icon
from parking_desktop.ui.desktop.screen import RefusedScreen, Screen, SignedIn
from parking_desktop.ui.desktop.screens import SCREENS, ScreenEntry
from parking_desktop.ui.desktop.status_line import StatusLine

log = logging.getLogger(__name__)

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
MINIMUM_WIDTH, MINIMUM_HEIGHT = 960, 640
SIDEBAR_WIDTH = 252


class MainWindow(QMainWindow):
    signed_out = Signal()
    closed = Signal()  # closed for good (not signed out)

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        money = session.app.money
        formatting.use_site_currency(money.currency, money.policy.locale)
        self.setWindowTitle("Parking Desktop")
        self.setAccessibleName("Parking Desktop main window")
        self.setWindowIcon(icon("app"))
        # Fits a 1024x768 screen with the window frame and a panel; screens scroll or fold
        # their content below that rather than clip it.
        self.setMinimumSize(MINIMUM_WIDTH, MINIMUM_HEIGHT)
        self.resize(1280, 800)
        self.entries = [e for e in SCREENS if session.actor.role in e.roles]
        self.screens: dict[str, Screen] = {}
        self.bridge = ChangeBridge(session.app.ctx, self)
        self.bridge.changed.connect(self._data_changed)
        self._signing_out = False
        self._shut_down = False

        root = QWidget(self)
        layout = QHBoxLayout(root)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._build_sidebar(root))
        self.stack = QStackedWidget(root)
        self.stack.setObjectName("content")
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(root)
        self._build_status_bar()
        for number, item in enumerate(self.entries[:9], start=1):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{number}"), self)
            shortcut.activated.connect(lambda key=item.key: self.navigate(key))
        QShortcut(QKeySequence(QKeySequence.StandardKey.Refresh), self).activated.connect(
            self.refresh_current)
        if self.entries:
            self.navigate(self.entries[0].key)

    # --- layout --------------------------------------------------------------------------------
    def _build_sidebar(self, parent: QWidget) -> QWidget:
        side = QFrame(parent)
        side.setObjectName("sidebar")
        side.setFixedWidth(SIDEBAR_WIDTH)
        column = QVBoxLayout(side)
        column.setContentsMargins(16, 20, 16, 16)
        column.setSpacing(6)
        brand_row = QHBoxLayout()
        brand_row.setSpacing(10)
        logo = QLabel(side)
        logo.setPixmap(icon("app").pixmap(32, 32))
        brand_row.addWidget(logo)
        names = QVBoxLayout()
        names.setSpacing(0)
        brand = QLabel("Parking Desktop", side)
        brand.setObjectName("brand")
        names.addWidget(brand)
        sub = QLabel("Lot management", side)
        sub.setObjectName("brandSub")
        names.addWidget(sub)
        brand_row.addLayout(names, 1)
        column.addLayout(brand_row)
        column.addSpacing(18)
        self.nav = QListWidget(side)
        self.nav.setObjectName("navList")
        self.nav.setAccessibleName("Screens")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for number, item in enumerate(self.entries, start=1):
            row = QListWidgetItem(icon(item.icon), item.title)
            row.setData(KEY_ROLE, item.key)
            row.setToolTip(f"{item.title} (Ctrl+{number})" if number <= 9 else item.title)
            row.setData(Qt.ItemDataRole.AccessibleTextRole, item.title)
            self.nav.addItem(row)
        self.nav.currentRowChanged.connect(self._row_changed)
        column.addWidget(self.nav, 1)
        card = QFrame(side)
        card.setObjectName("sidebarUser")
        card_layout = QHBoxLayout(card)
        card_layout.setContentsMargins(10, 10, 10, 10)
        avatar = QLabel(card)
        avatar.setPixmap(icon("user").pixmap(22, 22))
        card_layout.addWidget(avatar)
        who = QVBoxLayout()
        who.setSpacing(0)
        user = self.session.user
        name = QLabel(user.full_name or user.username, card)
        name.setObjectName("sidebarUserName")
        who.addWidget(name)
        role = QLabel(formatting.role(user.role.value), card)
        role.setObjectName("sidebarUserRole")
        who.addWidget(role)
        card_layout.addLayout(who, 1)
        column.addWidget(card)
        self.sign_out_button = QPushButton(icon("signout"), "Sign out", side)
        self.sign_out_button.setObjectName("navSignOut")
        self.sign_out_button.setAccessibleName("Sign out")
        self.sign_out_button.clicked.connect(self.sign_out)
        column.addWidget(self.sign_out_button)
        return side

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        actor = self.session.actor
        self.user_status = QLabel(
            f"Signed in as {actor.username} ({formatting.role(actor.role.value)})", bar)
        self.user_status.setAccessibleName("Signed-in user")
        # A long database path must not push the rest of the bar off a 1024 px screen.
        self.db_status = ElidedLabel(f"Database: {self.session.app.db.description}", "", bar)
        self.db_status.setAccessibleName("Database")
        self.tz_status = QLabel(f"Times in {self.session.tz.key}", bar)
        self.tz_status.setAccessibleName("Time zone")
        self.warnings = StatusLine(self.session.app, actor, bar)  # mail and full lots
        bar.addWidget(self.user_status)
        bar.addWidget(self.db_status)
        bar.addWidget(self.warnings, 1)
        bar.addPermanentWidget(self.tz_status)

    # --- navigation --------------------------------------------------------------------------
    @property
    def current_screen(self) -> Screen | None:
        widget = self.stack.currentWidget()
        return widget if isinstance(widget, Screen) else None

    def navigate(self, key: str) -> Screen:
        """Open a screen by key. A screen this role may not open shows a refusal instead. A
        screen with unsaved changes may keep the user (then it is returned)."""
        current = self.current_screen
        if (current is not None and self.screens.get(key) is not current
                and not current.can_leave()):
            return current
        for row, item in enumerate(self.entries):
            if item.key == key:
                if self.nav.currentRow() != row:
                    self.nav.blockSignals(True)
                    self.nav.setCurrentRow(row)
                    self.nav.blockSignals(False)
                return self._show(item)
        entry = next((e for e in SCREENS if e.key == key), None)
        if entry is None:
            raise KeyError(key)
        return self._show_refusal(entry)

    def _row_changed(self, row: int) -> None:
        if 0 <= row < len(self.entries):
            current = self.current_screen
            target = self.screens.get(self.entries[row].key)
            if current is not None and current is not target and not current.can_leave():
                # Stay: put the sidebar back on the screen that is still showing.
                self.nav.blockSignals(True)
                self.nav.setCurrentRow(self._row_of(current))
                self.nav.blockSignals(False)
                return
            self._show(self.entries[row])

    def _row_of(self, screen: Screen) -> int:
        for row, item in enumerate(self.entries):
            if self.screens.get(item.key) is screen:
                return row
        return -1

    def _leaving(self) -> None:
        """Messages belong to the screen they were shown on: cleared when the user leaves."""
        current = self.current_screen
        if current is not None and not isinstance(current, RefusedScreen):
            current.banner.clear()

    def _show(self, entry: ScreenEntry) -> Screen:
        screen = self.screens.get(entry.key)
        if screen is not self.current_screen:
            self._leaving()
        if screen is None:
            screen = entry.build(self.session)
            self.screens[entry.key] = screen
            self.stack.addWidget(screen)
        self.stack.setCurrentWidget(screen)
        self.setWindowTitle(f"{entry.title} — Parking Desktop")
        return screen

    def _show_refusal(self, entry: ScreenEntry) -> Screen:
        key = f"refused:{entry.key}"
        screen = self.screens.get(key)
        if screen is None:
            roles = " or ".join(sorted(formatting.role(r.value).lower() for r in entry.roles))
            screen = RefusedScreen(
                self.session, entry.title,
                f"{entry.title} is not available to you: only a {roles} can open it.")
            self.screens[key] = screen
            self.stack.addWidget(screen)
        log.info("%s tried to open %s", self.session.actor.username, entry.key)
        self.nav.clearSelection()
        if screen is not self.current_screen:
            self._leaving()
        self.stack.setCurrentWidget(screen)
        return screen

    def refresh_current(self) -> None:
        screen = self.current_screen
        if screen is not None:
            screen.refresh()

    # --- data changes, sign-out, closing ------------------------------------------------------
    def _data_changed(self, topics: frozenset[str]) -> None:
        for screen in self.screens.values():
            screen.data_changed(topics)

    def sign_out(self) -> None:
        self._signing_out = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        current = self.current_screen
        if not self._shut_down and current is not None and not current.can_leave():
            event.ignore()
            self._signing_out = False
            return
        self.shutdown()
        super().closeEvent(event)
        if self._signing_out:
            self.signed_out.emit()
        else:
            self.closed.emit()

    def shutdown(self) -> None:
        self._shut_down = True  # closing for good now: nothing left to ask
        self.bridge.detach()
        self.warnings.shutdown()
        for screen in self.screens.values():
            screen.shutdown()
