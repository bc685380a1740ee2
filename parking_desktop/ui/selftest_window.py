"""The ``windows`` check of ``--self-test`` (Qt stays under ui/): opens the manager's main
window and every screen it offers, then the kiosk, on the offscreen platform; checks the Qt
plugins a packaged build must carry (the native platform, svg images and icons) and the app's
resources (icons, style sheets). Returns one line of detail or raises CheckFailed."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from parking_desktop.domain.errors import CheckFailed

# The platform plugin a desktop or kiosk of each system needs besides "offscreen".
NATIVE_PLATFORMS = {"Linux": ("xcb", "wayland"), "Windows": ("windows",), "Darwin": ("cocoa",)}
LOAD_TIMEOUT_S = 30.0


def check_windows(app: Any, actor: Any, user: Any, pdf: bytes | None = None) -> str:
    """``pdf``: a document to print to a file (the PDF check's receipt), if it was made."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        # Never open a real window from a self-test, even on a machine with a display.
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    messages: list[str] = []

    def collect(kind: QtMsgType, _context: Any, message: str) -> None:
        if kind != QtMsgType.QtDebugMsg and kind != QtMsgType.QtInfoMsg:
            messages.append(message)

    previous = qInstallMessageHandler(collect)
    try:
        detail = _check(app, actor, user, pdf)
    finally:
        qInstallMessageHandler(previous)
    if messages:
        detail += f"; Qt said {len(messages)} thing(s), first: {messages[0]!r}"
    return detail


def _check(app: Any, actor: Any, user: Any, pdf: bytes | None) -> str:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import QCoreApplication, QEvent, QThreadPool
    from PySide6.QtGui import QImageReader

    from parking_desktop.ui.common.qtapp import RESOURCES, ensure_qapplication, icon, style_sheet

    qapp = ensure_qapplication()
    platforms = _platform_plugins()
    wanted = NATIVE_PLATFORMS.get(platform.system(), ())
    if wanted and not any(name.startswith(wanted) for name in platforms):
        raise CheckFailed(f"no {' or '.join(wanted)} platform plugin: the windows could not "
                          f"open on this system's display (found: {', '.join(sorted(platforms))})")
    formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    missing = {"svg", "png"} - formats
    if missing:
        raise CheckFailed(f"Qt cannot read {', '.join(sorted(missing))} images (image format "
                          "plugins missing)")
    if icon("app").isNull() or not style_sheet():
        raise CheckFailed(f"the icons or style sheet are missing from {RESOURCES}")
    if pdf is not None:
        _print(pdf)

    windows: list[Any] = []
    try:
        screens = _main_window(app, actor, user, windows)
        kiosk_lots = _kiosk(app, windows)
    finally:
        for window in windows:
            window.shutdown()
        QThreadPool.globalInstance().waitForDone(10_000)
        for window in windows:
            window.close()
            window.deleteLater()
        for _ in range(3):
            QCoreApplication.processEvents()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    lots = f"{kiosk_lots} lot" + ("" if kiosk_lots == 1 else "s")
    return (f"Qt {pyside_version} on {qapp.platformName()}: the main window with its "
            f"{screens} screens and the kiosk ({lots}) opened; platform plugins "
            f"{', '.join(sorted(platforms))}; svg icons and style sheets loaded"
            + ("; a receipt printed to a PDF file" if pdf is not None else ""))


def _print(pdf: bytes) -> None:
    """QtPdf and QtPrintSupport (receipts at the kiosk): the PDF printed to a file."""
    import tempfile
    from pathlib import Path

    from PySide6.QtPrintSupport import QPrinter

    from parking_desktop.ui.common.print_pdf import print_pdf_to

    with tempfile.TemporaryDirectory() as folder:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        target = Path(folder) / "printed.pdf"
        printer.setOutputFileName(str(target))
        pages = print_pdf_to(printer, pdf)
        if pages != 1 or not target.is_file() or target.stat().st_size == 0:
            raise CheckFailed("a PDF could not be printed (QtPdf or QtPrintSupport missing)")


def _main_window(app: Any, actor: Any, user: Any, windows: list[Any]) -> int:
    from parking_desktop.ui.desktop.mainwindow import MainWindow
    from parking_desktop.ui.desktop.screen import SignedIn

    window = MainWindow(SignedIn(app, actor, user))
    windows.append(window)
    window.show()
    for entry in window.entries:  # every screen a manager can open
        screen = window.navigate(entry.key)

        def loaded(s: Any = screen) -> bool:
            return bool(s.loads > 0 and not s.busy.pending)

        _wait(loaded, f"the {entry.title} screen did not load")
        if screen.banner.property("kind") == "error" and screen.banner.text:
            raise CheckFailed(f"the {entry.title} screen shows an error: {screen.banner.text}")
    return len(window.entries)


def _kiosk(app: Any, windows: list[Any]) -> int:
    from parking_desktop.ui.kiosk.window import KioskWindow

    kiosk = KioskWindow(app, locked=False)
    windows.append(kiosk)
    kiosk.show()
    _wait(lambda: kiosk.home.loaded > 0 or kiosk.home.banner.text != "",
          "the kiosk's home page did not load")
    if kiosk.home.loaded == 0:
        raise CheckFailed(f"the kiosk shows an error: {kiosk.home.banner.text}")
    return len(kiosk.home.tiles)


def _wait(condition: Callable[[], bool], failure: str) -> None:
    """Run the event loop until ``condition`` holds (worker results arrive through it)."""
    from PySide6.QtCore import QCoreApplication

    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while not condition():
        if time.monotonic() > deadline:
            raise CheckFailed(f"{failure} within {LOAD_TIMEOUT_S:.0f} s")
        QCoreApplication.processEvents()
        time.sleep(0.01)


def _platform_plugins() -> set[str]:
    """Names of the platform plugins Qt can find (e.g. offscreen, xcb, wayland)."""
    from PySide6.QtCore import QCoreApplication

    found = set()
    for folder in QCoreApplication.libraryPaths():
        for path in (Path(folder) / "platforms").glob("*q*"):
            stem = path.name.split(".")[0]
            found.add(stem.removeprefix("lib").removeprefix("q"))
    return found
