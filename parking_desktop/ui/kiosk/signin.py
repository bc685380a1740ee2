"""Sign-in page, in two modes: staff (managers and attendants) and driver self-service. The
password is checked by UserService.authenticate; the role decides whether this door fits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from parking_desktop.domain.roles import STAFF_ROLES, Actor, Role
from parking_desktop.services.views import UserView
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.widgets import (
    Card,
    KioskButton,
    KioskEdit,
    PasswordEdit,
    action_row,
    field,
    label,
    tab_chain,
)

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow

MODES = {
    "staff": ("Staff sign-in", "Managers and attendants: sign in to check vehicles in and out."),
    "driver": ("Driver sign-in", "Sign in to book a spot, mark that you have parked, release "
               "your spot and see your history."),
}
WRONG_DOOR = {
    "staff": "This is a driver account. Drivers use “Driver sign-in” on the home screen.",
    "driver": "This is a staff account. Staff use “Staff sign-in” on the home screen.",
}


def allowed(mode: str, role: Role) -> bool:
    return role in STAFF_ROLES if mode == "staff" else role is Role.DRIVER


class SignInScreen(KioskScreen):
    name = "signin"
    title = "Sign in"

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(kiosk, parent)
        self.mode = "driver"
        card = Card(self)
        card.setObjectName("signInCard")
        card.setMaximumWidth(760)
        column = QVBoxLayout(card)
        column.setContentsMargins(40, 32, 40, 36)
        column.setSpacing(20)
        self.intro = label("", "lead", card, wrap=True)
        column.addWidget(self.intro)
        self.login = KioskEdit("Username or e-mail", "Username or e-mail", card)
        self.login.setMaxLength(254)
        self.password = PasswordEdit(parent=card)
        column.addWidget(field("Username or e-mail", self.login))
        column.addWidget(field("Password", self.password))
        self.submit_button = KioskButton("Sign in", card, kind="primary")
        self.submit_button.setObjectName("signInSubmit")
        self.cancel_button = KioskButton("Cancel", card, kind="secondary")
        row = action_row(self.submit_button, self.cancel_button)
        column.addLayout(row)
        centre = QHBoxLayout()
        centre.addStretch(1)
        centre.addWidget(card, 3)
        centre.addStretch(1)
        self.body.addLayout(centre)
        self.body.addStretch(1)

        self.busy_widgets = [self.login, self.password, self.submit_button]
        self.login.returnPressed.connect(self._next_or_submit)
        self.password.returnPressed.connect(self.submit)
        self.submit_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.back)
        tab_chain(self.login, self.password, self.submit_button, self.cancel_button,
                  self.back_button)

    def enter(self, mode: str = "driver", **kwargs: Any) -> None:
        self.mode = mode if mode in MODES else "driver"
        title, intro = MODES[self.mode]
        self.title_label.setText(title)
        self.setAccessibleName(title)
        self.intro.setText(intro)
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.login.clear()
        self.password.clear()

    def back(self) -> None:
        self.kiosk.go("home")

    def first_focus(self) -> QWidget | None:
        return self.login

    def _next_or_submit(self) -> None:
        if self.password.text():
            self.submit()
        else:
            self.password.setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        login, password = self.login.text().strip(), self.password.text()
        if not login or not password:
            self.show_error("Enter your username (or e-mail) and your password.")
            (self.login if not login else self.password).setFocus()
            return
        self.call(self.kiosk.desk.authenticate, login, password,
                  on_success=self._signed_in, on_error=self._refused)

    def _refused(self, message: str) -> None:
        self.show_error(message)
        self.password.clear()
        self.focus(self.password)

    def _signed_in(self, result: tuple[Actor, UserView]) -> None:
        actor, user = result
        if not allowed(self.mode, actor.role):
            self._refused(WRONG_DOOR[self.mode])
            return
        self.kiosk.sign_in(actor, user)
