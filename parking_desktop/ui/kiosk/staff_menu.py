"""The attendant's start page: check in, check out, find a vehicle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QHBoxLayout, QWidget

from parking_desktop.services.money.views import ShiftView
from parking_desktop.ui.kiosk.format import clock_time, idle_words
from parking_desktop.ui.kiosk.icons import kiosk_icon
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import TileButton, label, tab_chain

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow


class StaffMenuScreen(KioskScreen):
    name = "staff"
    title = "Attendant"
    has_back = False

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(kiosk, parent)
        self.greeting = label("", "lead", self, wrap=True)
        self.body.addWidget(self.greeting)
        self.body.addStretch(1)
        row = QHBoxLayout()
        row.setSpacing(24)
        self.check_in_button = self._tile("Check in", "A vehicle arrives", "car", "checkin")
        self.check_out_button = self._tile("Check out", "Fee and receipt", "release",
                                           "checkout")
        self.find_button = self._tile("Find a vehicle", "Where is it parked?", "search", "find")
        self.shift_button = self._tile("Open shift", "Cash float", "key", "shift")
        for button in (self.check_in_button, self.check_out_button, self.find_button,
                       self.shift_button):
            row.addWidget(button, 1)
        self.body.addLayout(row)
        self.body.addStretch(2)
        self.hint = label("Esc signs you out. The kiosk also signs you out after a minute "
                          "without activity.", "hint", self, wrap=True)
        self.body.addWidget(self.hint)
        tab_chain(self.check_in_button, self.check_out_button, self.find_button,
                  self.shift_button, self.sign_out_button)

    def _tile(self, title: str, caption: str, icon: str, target: str) -> TileButton:
        button = TileButton(title, caption, kiosk_icon(icon, "#ffffff").pixmap(QSize(64, 64)),
                            self)
        button.setObjectName(f"menu_{target}")
        button.clicked.connect(lambda: self.kiosk.go(target))
        return button

    def enter(self, message: str = "", **kwargs: Any) -> None:
        if message:
            self.show_info(message)
        # Offline the tile keeps its last words (the shift lives on the server).
        self.call(self.kiosk.app.money.current_shift, self.kiosk.actor, quiet=True,
                  on_success=self._shift_known, on_error=lambda _message: None)
        user = self.kiosk.user
        name = (user.full_name or user.username) if user is not None else ""
        self.greeting.setText(f"Hello {name}. What would you like to do?")
        self.hint.setText("Esc signs you out. The kiosk also signs you out after "
                          f"{idle_words(self.kiosk.idle_seconds)} without activity.")

    def _shift_known(self, shift: ShiftView | None) -> None:
        """The shift tile says what it will do: open one, or count and close this one."""
        if shift is None:
            self.shift_button.title.setText("Open shift")
            self.shift_button.caption.setText("Cash float first")
        else:
            self.shift_button.title.setText("Close shift")
            self.shift_button.caption.setText(
                f"Shift {shift.id} since {clock_time(shift.opened_at, self.kiosk.app.settings.tz)}")
        self.shift_button.setAccessibleName(self.shift_button.title.text())

    def back(self) -> None:
        self.kiosk.sign_out()

    def first_focus(self) -> QWidget | None:
        return self.check_in_button
