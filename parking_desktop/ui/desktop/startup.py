"""From start to the main window: first-run manager creation or sign-in, then the desktop;
signing out comes back here."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from parking_desktop.bootstrap import App
from parking_desktop.ui.common.ops import Op
from parking_desktop.ui.common.signin import FirstManagerDialog, SignInDialog
from parking_desktop.ui.desktop.mainwindow import MainWindow
from parking_desktop.ui.desktop.screen import SignedIn

log = logging.getLogger(__name__)


class DesktopStartup(QObject):
    """Owns whichever top-level window is current. ``finished`` fires when the user is done
    (sign-in cancelled or main window closed); ``window_shown`` when the desktop opens."""

    finished = Signal()
    window_shown = Signal(object)  # MainWindow

    def __init__(self, app: App, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.dialog: QDialog | None = None
        self.window: MainWindow | None = None
        self.error_box: QMessageBox | None = None

    def start(self) -> None:
        users = self.app.users
        Op(lambda _work: users.has_manager(), on_success=self._has_manager,
           on_failure=lambda failure: self._cannot_start(failure.message), owner=self).start()

    def _has_manager(self, has_manager: bool) -> None:
        if has_manager:
            self.show_sign_in()
        else:
            dialog = FirstManagerDialog(self.app)
            self._open(dialog)

    def show_sign_in(self) -> None:
        self._open(SignInDialog(self.app))

    def _open(self, dialog: FirstManagerDialog | SignInDialog) -> None:
        self._drop_dialog()
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._signed_in(dialog))
        dialog.rejected.connect(self._cancelled)
        dialog.open()

    def _signed_in(self, dialog: FirstManagerDialog | SignInDialog) -> None:
        assert dialog.actor is not None and dialog.user is not None
        window = MainWindow(SignedIn(self.app, dialog.actor, dialog.user))
        window.signed_out.connect(self._signed_out)
        window.closed.connect(self.finished)
        self.window = window
        fit_to_screen(window, QApplication.primaryScreen())
        window.show()
        self._drop_dialog()
        self.window_shown.emit(window)

    def _signed_out(self) -> None:
        if self.window is not None:
            self.window.deleteLater()
            self.window = None
        self.show_sign_in()

    def _cancelled(self) -> None:
        self._drop_dialog()
        self.finished.emit()

    def _cannot_start(self, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Critical, "Parking Desktop",
                          f"Parking Desktop could not start. {message}")
        box.setAccessibleName("Start-up error")
        box.finished.connect(lambda _r: self.finished.emit())
        self.error_box = box
        box.open()

    def _drop_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
            self.dialog = None

    def close(self) -> None:
        """Close everything (end of the application or of a test)."""
        self._drop_dialog()
        if self.window is not None:
            self.window.closed.disconnect(self.finished)
            self.window.close()
            self.window.deleteLater()
            self.window = None
        if self.error_box is not None:
            self.error_box.deleteLater()
            self.error_box = None


def fit_to_screen(window: QWidget, screen: QScreen | None) -> None:
    """Open at a comfortable size that never exceeds the screen: 1600x960 on a large screen,
    1280x800 where it fits, else the whole available area (a 1024x768 booth; no window manager
    may be there to shrink it)."""
    if screen is None:
        return
    area = screen.availableGeometry()
    if area.width() >= 1800:
        width, height = 1600, 960
    else:
        width, height = min(1280, area.width()), min(800, area.height())
    window.resize(max(width, window.minimumWidth()), max(height, window.minimumHeight()))
    window.move(area.x() + max(0, (area.width() - window.width()) // 2),
                area.y() + max(0, (area.height() - window.height()) // 2))

