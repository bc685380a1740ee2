"""``board``: show the entrance board until the window is closed or a stop signal (SIGTERM at
shutdown, Ctrl+C) arrives. No scheduled jobs run in a board: it only reads."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QThreadPool, QTimer

from parking_desktop.bootstrap import App
from parking_desktop.services.parking.board import BoardLot
from parking_desktop.ui.board.window import BoardWindow
from parking_desktop.ui.common.qtapp import ensure_qapplication, install_crash_handler
from parking_desktop.ui.common.stop_signals import StopOnSignal

log = logging.getLogger(__name__)


def run_board(app: App, lots: Sequence[BoardLot], *, fullscreen: bool = True) -> int:
    qapp = ensure_qapplication()
    reporter = install_crash_handler()
    reporter.show_dialogs = False  # nobody is there to press OK: the log has it
    with StopOnSignal() as stopper:
        window = BoardWindow(app, lots)
        stopper.requested.connect(lambda _name: window.close())
        window.set_full_screen(fullscreen)
        QTimer.singleShot(0, lambda: log.info("Board running; SIGTERM or Ctrl+C closes it"))
        code = qapp.exec()
    window.shutdown()
    QThreadPool.globalInstance().waitForDone(10_000)  # a read in flight ends before the close
    window.deleteLater()
    return int(code)
