"""Leaving kiosk mode: a manager's password unlocks "Leave full screen" and "Quit the kiosk".
Reached from the small key button on the home page, Ctrl+Alt+Q, or any attempt to close."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import (
    Card,
    KioskButton,
    PasswordEdit,
    action_row,
    field,
    label,
    tab_chain,
)

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow

WRONG = "That is not a manager's password. The kiosk stays as it is."
TOO_MANY = "Too many wrong passwords: try again in a minute."
MAX_TRIES = 5  # wrong passwords in a row before the exit page pauses
PAUSE_MS = 60_000


class ExitScreen(KioskScreen):
    name = "exit"
    title = "Leave kiosk mode"

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(kiosk, parent)
        self.return_to = "home"
        self.unlocked = False
        # The password check has no lockout of its own; pause guessing at the kiosk.
        self.failures = 0
        self.pause = QTimer(self)
        self.pause.setSingleShot(True)
        self.pause.setInterval(PAUSE_MS)
        self.pause.timeout.connect(self._end_pause)
        card = Card(self)
        card.setMaximumWidth(820)
        outer = QVBoxLayout(card)
        outer.setContentsMargins(40, 30, 40, 34)
        outer.setSpacing(18)
        # Two steps in one card; only the current one is shown (and takes room).
        ask = QWidget(card)
        column = QVBoxLayout(ask)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(18)
        column.addWidget(label("Only a manager can leave full screen or quit the kiosk.",
                               "lead", ask, wrap=True))
        self.password = PasswordEdit("Manager password", ask)
        column.addWidget(field("Manager password", self.password))
        self.unlock_button = KioskButton("Unlock", ask, kind="primary")
        self.unlock_button.setObjectName("exitUnlock")
        self.cancel_button = KioskButton("Cancel", ask)
        row = action_row(self.unlock_button, self.cancel_button)
        column.addLayout(row)
        outer.addWidget(ask)
        self.ask_page = ask

        choose = QWidget(card)
        column = QVBoxLayout(choose)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(18)
        column.addWidget(label("Unlocked. What would you like to do?", "lead", choose,
                               wrap=True))
        self.fullscreen_button = KioskButton("Leave full screen", choose)
        self.fullscreen_button.setObjectName("exitFullScreen")
        self.quit_button = KioskButton("Quit the kiosk", choose, kind="danger")
        self.quit_button.setObjectName("exitQuit")
        self.stay_button = KioskButton("Back to the kiosk", choose, kind="primary")
        self.stay_button.setObjectName("exitStay")
        for button in (self.stay_button, self.fullscreen_button, self.quit_button):
            column.addWidget(button)
        outer.addWidget(choose)
        choose.hide()
        self.choose_page = choose

        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(card, 3)
        centre.addStretch(1)
        self.body.addLayout(centre)
        self.body.addStretch(1)

        self.busy_widgets = [self.password, self.unlock_button]
        self.password.returnPressed.connect(self.unlock)
        self.unlock_button.clicked.connect(self.unlock)
        self.cancel_button.clicked.connect(self.back)
        self.stay_button.clicked.connect(self.back)
        self.fullscreen_button.clicked.connect(self._toggle_full_screen)
        self.quit_button.clicked.connect(self._quit)
        tab_chain(self.password, self.unlock_button, self.cancel_button)
        tab_chain(self.stay_button, self.fullscreen_button, self.quit_button)

    def enter(self, return_to: str = "home", **kwargs: Any) -> None:
        self.return_to = return_to if return_to != self.name else self.return_to
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.unlocked = False
        self.password.clear()
        self._show_page(self.ask_page)

    def leave(self) -> None:
        super().leave()
        self.reset()  # the unlocked state never outlives the page

    def _show_page(self, page: QWidget) -> None:
        self.ask_page.setVisible(page is self.ask_page)
        self.choose_page.setVisible(page is self.choose_page)

    def current_page(self) -> QWidget:
        return self.choose_page if self.choose_page.isVisibleTo(self) else self.ask_page

    def back(self) -> None:
        self.kiosk.go(self.return_to)

    def first_focus(self) -> QWidget | None:
        return self.stay_button if self.unlocked else self.password

    def unlock(self) -> None:
        if self.busy:
            return
        if self.pause.isActive():
            self.password.clear()
            self.show_error(TOO_MANY)
            return
        password = self.password.text()
        if not password:
            self.show_error("Enter a manager's password.")
            self.password.setFocus()
            return
        self.call(self.kiosk.app.users.verify_manager_password, password,
                  on_success=self._checked)

    def _checked(self, ok: bool) -> None:
        self.password.clear()
        if not ok:
            self.failures += 1
            if self.failures >= MAX_TRIES:
                self.pause.start()
            self.show_error(TOO_MANY if self.pause.isActive() else WRONG)
            self.focus(self.password)
            return
        self.failures = 0
        self.unlocked = True
        self.fullscreen_button.setText("Leave full screen" if self.kiosk.isFullScreen()
                                       else "Go full screen")
        self.fullscreen_button.setAccessibleName(self.fullscreen_button.text())
        self._show_page(self.choose_page)
        self.focus(self.stay_button)

    def _end_pause(self) -> None:
        self.failures = 0

    def _toggle_full_screen(self) -> None:
        if self.unlocked:
            self.kiosk.set_full_screen(not self.kiosk.isFullScreen())
            self.back()

    def _quit(self) -> None:
        if self.unlocked:
            self.kiosk.quit_kiosk()
