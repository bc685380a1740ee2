"""Entry points for the GUI commands: ``desktop`` (manager desktop) and ``kiosk``.

Both create the one QApplication (style sheet, icons, crash handler), build the App, then hand
over. ``run_kiosk_window(app, fullscreen, stopper)`` shows the kiosk and returns
``QApplication.exec()``'s exit code; it must not create another QApplication (use
``QApplication.instance()``).

SIGTERM (the system shutting down, a service manager) and Ctrl+C close the windows through
their normal path and end the event loop with exit code 0; what follows the loop then stops the
scheduler, waits for calls in flight and closes the database, as after a manager quits. A signal
that arrives while the App is being built is acted on as soon as the event loop runs."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

from parking_desktop.bootstrap import App
from parking_desktop.config import ConfigError
from parking_desktop.ui.common.ops import user_message
from parking_desktop.ui.common.qtapp import (
    ensure_qapplication,
    install_crash_handler,
    show_startup_error,
)
from parking_desktop.ui.common.stop_signals import StopOnSignal

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


def _announce(what: str) -> None:
    """Logged once the event loop turns (and so can act on a stop signal)."""
    QTimer.singleShot(0, lambda: log.info("%s running; SIGTERM or Ctrl+C closes it", what))


def _end_loop(_signal_name: str) -> None:
    QApplication.exit(0)  # not quit(): a window that refuses to close must not keep us running


def run_desktop(app_factory: AppFactory) -> int:
    qapp = ensure_qapplication()
    install_crash_handler()
    from parking_desktop.ui.desktop.startup import DesktopStartup

    startup: DesktopStartup | None = None

    def stop(signal_name: str) -> None:
        if startup is not None:
            startup.close()  # the main window closes as when its user closes it
        _end_loop(signal_name)

    with StopOnSignal() as stopper:
        stopper.requested.connect(stop)
        app = _build(app_factory)
        if app is None:
            return 1
        qapp.setQuitOnLastWindowClosed(False)  # between sign-in and the window, none is open
        startup = DesktopStartup(app)
        startup.finished.connect(qapp.quit)
        from parking_desktop.ui.desktop.job_events import attach_job_notices

        startup.window_shown.connect(lambda window: attach_job_notices(window, app))
        _start_jobs(app)
        startup.start()
        _announce("Desktop")
        code = qapp.exec()
    startup.close()
    app.jobs.scheduler.shutdown()  # a running job stops at its next step
    QThreadPool.globalInstance().waitForDone(10_000)  # let calls in flight end before closing
    return int(code)


def run_kiosk(app_factory: AppFactory, fullscreen: bool = True) -> int:
    ensure_qapplication()
    install_crash_handler()
    with StopOnSignal() as stopper:
        stopper.requested.connect(_end_loop)  # before the window exists (a start-up message)
        app = _build(app_factory)
        if app is None:
            return 1
        from parking_desktop.ui.kiosk.window import run_kiosk_window

        _start_jobs(app)
        _announce("Kiosk")
        code = int(run_kiosk_window(app, fullscreen, stopper))
    app.jobs.scheduler.shutdown()
    QThreadPool.globalInstance().waitForDone(10_000)
    return code
