"""Entry points for the GUI commands: ``desktop`` (manager desktop) and ``kiosk``.

Both create the one QApplication (style sheet, icons, crash handler), build the App, then hand
over. ``run_kiosk_window(app, fullscreen)`` shows the kiosk and returns ``QApplication.exec()``'s
exit code; it must not create another QApplication (use ``QApplication.instance()``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QThreadPool

from parking_desktop.bootstrap import App
from parking_desktop.config import ConfigError
from parking_desktop.ui.common.qtapp import (
    ensure_qapplication,
    install_crash_handler,
    show_startup_error,
)
from parking_desktop.ui.worker import user_message

log = logging.getLogger(__name__)

AppFactory = Callable[[], App]


def _build(app_factory: AppFactory) -> App | None:
    """Build the App before any window exists; a failure becomes a message box, not a traceback."""
    try:
        return app_factory()
    except Exception as exc:
        log.error("The application could not start", exc_info=True)
        message = str(exc) if isinstance(exc, ConfigError) else user_message(exc)
        show_startup_error(f"Parking Desktop could not start. {message}")
        return None


def run_desktop(app_factory: AppFactory) -> int:
    qapp = ensure_qapplication()
    install_crash_handler()
    app = _build(app_factory)
    if app is None:
        return 1
    from parking_desktop.ui.desktop.startup import DesktopStartup

    qapp.setQuitOnLastWindowClosed(False)  # between sign-in and the window, none is open
    startup = DesktopStartup(app)
    startup.finished.connect(qapp.quit)
    startup.start()
    code = qapp.exec()
    startup.close()
    QThreadPool.globalInstance().waitForDone(10_000)  # let calls in flight end before closing
    return int(code)


def run_kiosk(app_factory: AppFactory, fullscreen: bool = True) -> int:
    ensure_qapplication()
    install_crash_handler()
    app = _build(app_factory)
    if app is None:
        return 1
    from parking_desktop.ui.kiosk.window import run_kiosk_window

    code = int(run_kiosk_window(app, fullscreen))
    QThreadPool.globalInstance().waitForDone(10_000)
    return code
