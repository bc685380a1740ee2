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
from parking_desktop.ui.common.ops import user_message
from parking_desktop.ui.common.qtapp import (
    ensure_qapplication,
    install_crash_handler,
    show_startup_error,
)

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


def _start_jobs(app: App) -> None:
    """The scheduled jobs run with the desktop and kiosk unless SCHEDULER_ENABLED is false
    (a kiosk beside a back-office worker); a scheduler that cannot start never stops the GUI."""
    if not app.settings.scheduler_enabled:
        log.info("SCHEDULER_ENABLED is false: no scheduled jobs in this process")
        return
    try:
        app.jobs.scheduler.start()
    except Exception:
        log.error("The job scheduler could not start", exc_info=True)


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
    from parking_desktop.ui.desktop.job_events import attach_job_notices

    startup.window_shown.connect(lambda window: attach_job_notices(window, app))
    _start_jobs(app)
    startup.start()
    code = qapp.exec()
    startup.close()
    app.jobs.scheduler.shutdown()  # a running job stops at its next step
    QThreadPool.globalInstance().waitForDone(10_000)  # let calls in flight end before closing
    return int(code)


def run_kiosk(app_factory: AppFactory, fullscreen: bool = True) -> int:
    ensure_qapplication()
    install_crash_handler()
    app = _build(app_factory)
    if app is None:
        return 1
    from parking_desktop.ui.kiosk.window import run_kiosk_window

    _start_jobs(app)
    code = int(run_kiosk_window(app, fullscreen))
    app.jobs.scheduler.shutdown()
    QThreadPool.globalInstance().waitForDone(10_000)
    return code
