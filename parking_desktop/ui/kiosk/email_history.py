"""The kiosk's "E-mail me my history" button for a signed-in driver.

It asks for an export of the driver's own history (ExportService.email_my_history); the export
runs in the background and the export-ready mail, with the file attached when it is small, goes
to the driver's address. The driver can walk away at once.

One tap makes one export: the button is disabled while the request is on its way and, once it
was accepted, stays so (as "History requested") until the page is opened again."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QWidget

from parking_desktop.services.views import HistoryRequest
from parking_desktop.ui.common.holds import set_enabled
from parking_desktop.ui.kiosk.icons import kiosk_icon
from parking_desktop.ui.kiosk.widgets import KioskButton

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.screen import KioskScreen


CAPTION = " E-mail me my history"
REQUESTED = " History requested"


class EmailHistoryButton(KioskButton):
    def __init__(self, page: KioskScreen, parent: QWidget | None = None) -> None:
        super().__init__(CAPTION, parent, kind="quiet", accessible="E-mail me my history")
        self.setObjectName("emailHistory")
        self.setIcon(kiosk_icon("mail"))
        self.setIconSize(QSize(26, 26))
        self.page = page
        self.clicked.connect(self.request)

    def request(self) -> None:
        app, actor = self.page.kiosk.app, self.page.kiosk.actor
        # app.exports is built on first use: on the worker, never on the GUI thread.
        self.page.call(lambda: app.exports.email_my_history(actor),
                       on_success=self._requested, disable=[self])

    def ready(self) -> None:
        """A new visit of the page: the driver may ask again."""
        self.setText(CAPTION)
        set_enabled(self, True)

    def _requested(self, request: HistoryRequest) -> None:
        set_enabled(self, False)  # taps after this would make another export and mail
        self.setText(REQUESTED)
        user = self.page.kiosk.user
        where = f" to {user.email}" if user is not None and user.email else ""
        if request.mail_delayed:
            # Promise nothing the outbox cannot keep right now.
            self.page.show_error(f"Your history is being prepared and its e-mail{where} is "
                                 "queued, but e-mail is delayed right now: it goes out once "
                                 "the mail server answers again.")
        else:
            self.page.show_info(f"Your history is being prepared; its e-mail{where} is queued "
                                "and goes out when the file is ready.")
