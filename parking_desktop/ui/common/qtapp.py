"""The QApplication, the style sheet and the last-resort crash handler shared by both front ends."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

log = logging.getLogger(__name__)

# resources/ beside the package (source tree) or in a PyInstaller bundle (sys._MEIPASS).
RESOURCES = Path(getattr(sys, "_MEIPASS", "") or Path(__file__).resolve().parents[3]) / "resources"
STYLE_SHEET = RESOURCES / "style.qss"
CRASH_MESSAGE = ("Something went wrong on this screen; the details were written to the log. "
                 "You can carry on working.")


def ensure_qapplication(argv: list[str] | None = None) -> QApplication:
    """The process-wide QApplication (created once), named and styled."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        qapp = existing
    else:
        qapp = QApplication(argv if argv is not None else sys.argv[:1])
    qapp.setApplicationName("Parking Desktop")
    qapp.setOrganizationName("Parking Desktop")
    qapp.setApplicationDisplayName("Parking Desktop")
    apply_style(qapp)
    return qapp


def style_sheet() -> str:
    try:
        text = STYLE_SHEET.read_text(encoding="utf-8")
    except OSError:  # a missing style must never stop the app
        log.warning("style sheet %s could not be read", STYLE_SHEET)
        return ""
    # url() in a style sheet is relative to the working directory: make icon paths absolute.
    return text.replace("@ICONS@", (RESOURCES / "icons").as_posix())


def apply_style(qapp: QApplication) -> None:
    font = QFont(qapp.font())
    font.setPointSizeF(10.0)
    qapp.setFont(font)
    qapp.setStyleSheet(style_sheet())
    qapp.setWindowIcon(icon("app"))


def icon(name: str) -> QIcon:
    """An icon from resources/icons/<name>.svg (an empty icon if it is missing)."""
    path = RESOURCES / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


class CrashReporter(QObject):
    """Receives exceptions that escaped a slot (sys.excepthook): logs them and tells the user.

    PySide6 calls sys.excepthook for an exception raised in a slot and then carries on; without
    this hook the error would only reach stderr. The message is shown through a queued signal so
    a crash inside a paint or a nested loop does not open a dialog re-entrantly."""

    crashed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self._previous = sys.excepthook
        self.crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.show_dialogs = True
        self.count = 0

    def install(self) -> None:
        sys.excepthook = self.hook

    def uninstall(self) -> None:
        if sys.excepthook == self.hook:
            sys.excepthook = self._previous

    def hook(self, exc_type: type[BaseException], exc: BaseException,
             tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        self.count += 1
        log.error("Unhandled error in the user interface:\n%s",
                  "".join(traceback.format_exception(exc_type, exc, tb)))
        self.crashed.emit(CRASH_MESSAGE)

    def _show(self, message: str) -> None:
        if not self.show_dialogs:
            return
        parent = QApplication.activeWindow()
        box = QMessageBox(QMessageBox.Icon.Warning, "Parking Desktop", message,
                          QMessageBox.StandardButton.Ok, parent)
        box.setAccessibleName("Error message")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()


_reporter: CrashReporter | None = None


def install_crash_handler() -> CrashReporter:
    """Install (once) the handler for exceptions escaping Qt slots."""
    global _reporter
    if _reporter is None:
        _reporter = CrashReporter()
    _reporter.install()
    return _reporter


def show_startup_error(message: str) -> None:
    """A plain-words message before any window exists (e.g. the database cannot be reached)."""
    box = QMessageBox(QMessageBox.Icon.Critical, "Parking Desktop", message,
                      QMessageBox.StandardButton.Ok)
    box.setAccessibleName("Start-up error")
    box.exec()
