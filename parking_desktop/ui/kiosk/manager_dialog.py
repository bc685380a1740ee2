"""A manager signs in on the spot to approve what an attendant may not do alone (a waiver above
ATTENDANT_WAIVER_LIMIT). The dialog only collects the name and password: the money service
checks them (argon2, with the accounts' lock-out) off the GUI thread when the check-out runs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QVBoxLayout, QWidget

from parking_desktop.services.money.views import ManagerSignIn
from parking_desktop.ui.kiosk.payment import error_label, set_error
from parking_desktop.ui.kiosk.widgets import (
    KioskButton,
    KioskEdit,
    PasswordEdit,
    action_row,
    field,
    label,
    tab_chain,
)


class ManagerApprovalDialog(QDialog):
    def __init__(self, why: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("managerApproval")
        self.setWindowTitle("Manager approval")
        self.setAccessibleName("Manager approval")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setModal(True)
        self.setMinimumWidth(620)
        column = QVBoxLayout(self)
        column.setContentsMargins(36, 28, 36, 28)
        column.setSpacing(16)
        column.addWidget(label("Manager approval", "title", self))
        self.why = label(why, "lead", self, wrap=True)
        column.addWidget(self.why)
        self.login = KioskEdit("Manager's username", "username", self)
        self.login.setObjectName("managerLogin")
        column.addWidget(field("Manager", self.login))
        self.password = PasswordEdit("Manager's password", self)
        self.password.setObjectName("managerPassword")
        column.addWidget(field("Password", self.password))
        self.error = error_label(self)
        column.addWidget(self.error)
        self.approve_button = KioskButton("Approve", self, kind="primary")
        self.approve_button.setObjectName("managerApprove")
        self.cancel_button = KioskButton("Cancel", self)
        column.addLayout(action_row(self.approve_button, self.cancel_button))
        self.approve_button.clicked.connect(self._approve)
        self.cancel_button.clicked.connect(self.reject)
        self.password.returnPressed.connect(self._approve)
        self.login.returnPressed.connect(self.password.setFocus)
        tab_chain(self.login, self.password, self.approve_button, self.cancel_button)
        self.login.setFocus()

    def _approve(self) -> None:
        if not self.login.text().strip():
            set_error(self.error, "Type the manager's username.")
            self.login.setFocus()
            return
        if not self.password.text():
            set_error(self.error, "Type the manager's password.")
            self.password.setFocus()
            return
        self.accept()

    def sign_in(self) -> ManagerSignIn:
        return ManagerSignIn(self.login.text().strip(), self.password.text())
