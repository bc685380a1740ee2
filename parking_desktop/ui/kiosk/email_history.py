"""The kiosk's "E-mail me my history" button for a signed-in driver.

It asks for an export of the driver's own history (ExportService.email_my_history); the export
runs in the background and the export-ready mail, with the file attached when it is small, goes
to the driver's address. The driver can walk away at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget

from parking_desktop.ui.kiosk.icons import kiosk_icon
from parking_desktop.ui.kiosk.widgets import KioskButton

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.screen import KioskScreen


class EmailHistoryButton(KioskButton):
    def __init__(self, page: KioskScreen, parent: QWidget | None = None) -> None:
        super().__init__(" E-mail me my history", parent, kind="quiet",
                         accessible="E-mail me my history")
        self.setObjectName("emailHistory")
        self.setIcon(kiosk_icon("mail"))
        self.setIconSize(QSize(26, 26))
        self.page = page
        self.clicked.connect(self.request)

    def request(self) -> None:
        kiosk = self.page.kiosk
        self.page.call(kiosk.app.exports.email_my_history, kiosk.actor,
                       on_success=self._requested)

    def _requested(self, _job_id: str) -> None:
        user = self.page.kiosk.user
        where = f" to {user.email}" if user is not None and user.email else ""
        self.page.show_info(f"Your history is being prepared; it will be e-mailed{where} "
                            "in a few minutes.")
