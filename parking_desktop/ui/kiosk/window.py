"""The kiosk window: one full-screen page at a time, who is signed in, the idle sign-out, and the
manager-password guard on leaving full screen or quitting.

``run_kiosk_window(app, fullscreen, stopper)`` is called by ``ui.launch.run_kiosk`` once the
QApplication exists; it shows the window and returns the event loop's exit code. The manager's
password guards against people at the kiosk, not against the system: a stop signal (SIGTERM at
shutdown) closes even a locked kiosk."""

from __future__ import annotations

import logging
import re
from typing import Any, TypeVar

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import QApplication, QStackedWidget, QVBoxLayout, QWidget

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.services.kiosks.desk import KioskDesk, build_desk
from parking_desktop.services.kiosks.identity import KioskIdError
from parking_desktop.services.kiosks.link import build_link
from parking_desktop.services.kiosks.monitor import ConnectionMonitor
from parking_desktop.services.kiosks.syncing import KioskSync
from parking_desktop.services.views import UserView
from parking_desktop.ui.common.bridge import ChangeBridge
from parking_desktop.ui.common.formatting import use_site_currency
from parking_desktop.ui.common.fullscreen import fill_screen
from parking_desktop.ui.common.qtapp import RESOURCES
from parking_desktop.ui.common.stop_signals import StopOnSignal
from parking_desktop.ui.kiosk.checkin import CheckInScreen
from parking_desktop.ui.kiosk.checkout import CheckOutScreen
from parking_desktop.ui.kiosk.driver import DriverScreen
from parking_desktop.ui.kiosk.exit import ExitScreen
from parking_desktop.ui.kiosk.find_vehicle import FindVehicleScreen
from parking_desktop.ui.kiosk.format import idle_words
from parking_desktop.ui.kiosk.history import HistoryScreen
from parking_desktop.ui.kiosk.home import REFRESH_MS, HomeScreen
from parking_desktop.ui.kiosk.idle import IdleWatcher
from parking_desktop.ui.kiosk.keyboard import OnScreenKeyboard
from parking_desktop.ui.kiosk.link_banner import LinkBanner, attach_channel, detach_channel
from parking_desktop.ui.kiosk.mail_prefs import MailPrefsScreen
from parking_desktop.ui.kiosk.receipt import ReceiptScreen
from parking_desktop.ui.kiosk.screen import KioskScreen
from parking_desktop.ui.kiosk.shift import ShiftScreen
from parking_desktop.ui.kiosk.signin import SignInScreen
from parking_desktop.ui.kiosk.staff_menu import StaffMenuScreen

log = logging.getLogger(__name__)
P = TypeVar("P", bound=KioskScreen)

STYLE_SHEET = RESOURCES / "kiosk.qss"
EXIT_KEYS = "Ctrl+Alt+Q"
STAFF_SCREENS = frozenset({"staff", "checkin", "checkout", "find", "shift"})
DRIVER_SCREENS = frozenset({"driver", "history", "mail_prefs"})
WINDOWED_SIZE = (1280, 800)


_PX = re.compile(r"(\d+)px")


def kiosk_style(scale: float = 1.0) -> str:
    """The kiosk style sheet with every size multiplied by ``scale`` (1080-line screens get
    bigger text: the sheet is written for 800 lines)."""
    try:
        text = STYLE_SHEET.read_text(encoding="utf-8")
    except OSError:  # a missing style must never stop the kiosk
        log.warning("kiosk style sheet %s could not be read", STYLE_SHEET)
        return ""
    if scale == 1.0:
        return text
    return _PX.sub(lambda m: f"{max(1, round(int(m.group(1)) * scale))}px", text)


def scale_for(height: int) -> float:
    """1 up to about 900 lines, then in proportion (1080 lines: 1.3), never below 1."""
    return 1.0 if height < 950 else round(min(2.0, height / 830), 2)


class KioskWindow(QWidget):
    """``idle_ms`` and ``refresh_ms`` default to the setting (KIOSK_IDLE_SECONDS) and five
    seconds; tests pass short values. ``locked=False`` lets the window close without a
    manager's password (screenshots and tests that are not about the lock). ``link``: the
    connection monitor (started by the caller) whose changes the top strip shows; without
    one (tests not about the connection) there is no strip. ``desk``: what the attendant and
    driver pages call (``services/kiosks/desk.py``: the journal while offline); without one,
    the server only."""

    quit_requested = Signal()
    scale_changed = Signal(float)

    def __init__(self, app: App, *, idle_ms: int | None = None, refresh_ms: int = REFRESH_MS,
                 locked: bool = True, link: ConnectionMonitor | None = None,
                 desk: KioskDesk | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app = app
        use_site_currency(app.money.currency, app.money.policy.locale)
        self.link = link
        self.desk = desk or KioskDesk(app.parking, app.lots, app.kiosk, users=app.users,
                                     money=app.money)
        self.user: UserView | None = None
        self._actor: Actor | None = None
        self._may_close = not locked
        self._shut_down = False
        self.setObjectName("kiosk")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setWindowTitle("Parking kiosk")
        self.setAccessibleName("Parking kiosk")
        self.scale = 1.0
        self.setStyleSheet(kiosk_style(self.scale))
        self.setMinimumSize(1024, 700)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.link_banner: LinkBanner | None = None
        if link is not None:
            self.link_banner = LinkBanner(link, self)
            layout.addWidget(self.link_banner)
            attach_channel(link, app.cache.sync)
        self.stack = QStackedWidget(self)
        layout.addWidget(self.stack, 1)
        self.keyboard = OnScreenKeyboard(self, enabled=app.settings.kiosk_on_screen_keyboard,
                                         parent=self)
        layout.addWidget(self.keyboard)
        self.home = HomeScreen(self, self.stack, refresh_ms=refresh_ms)
        self.screens: dict[str, KioskScreen] = {"home": self.home}
        for kind in (SignInScreen, StaffMenuScreen, CheckInScreen, CheckOutScreen,
                     FindVehicleScreen, ReceiptScreen, DriverScreen, HistoryScreen, MailPrefsScreen,
                     ExitScreen, ShiftScreen):
            page: KioskScreen = kind(self, self.stack)
            self.screens[page.name] = page
        for screen in self.screens.values():
            self.stack.addWidget(screen)
        self.current: KioskScreen = self.home

        timeout = idle_ms if idle_ms is not None else app.settings.kiosk_idle_seconds * 1000
        self.idle = IdleWatcher(timeout, self)
        self.idle.timed_out.connect(self._idle_timeout)
        # Our own writes show on the home page at once; other kiosks' writes by polling.
        self.bridge = ChangeBridge(app.ctx, self)
        self.bridge.changed.connect(self._data_changed)
        self.scale_changed.connect(self._rescale_pages)
        self.exit_shortcut = QShortcut(QKeySequence(EXIT_KEYS), self)
        self.exit_shortcut.activated.connect(self.request_exit)

        self.go("home")
        self.idle.start()

    # --- who is signed in -------------------------------------------------------------------
    @property
    def actor(self) -> Actor:
        """The signed-in person (pages that call services are only reachable when signed in)."""
        if self._actor is None:
            raise RuntimeError("nobody is signed in at the kiosk")
        return self._actor

    @property
    def signed_in(self) -> bool:
        return self._actor is not None

    @property
    def idle_seconds(self) -> int:
        return max(1, round(self.idle.timeout_ms / 1000))

    def sign_in(self, actor: Actor, user: UserView) -> None:
        self._actor, self.user = actor, user
        self.go("staff" if actor.is_staff else "driver")

    def sign_out(self, message: str = "") -> None:
        """Forget the user and everything the pages showed them, then go home."""
        self._actor, self.user = None, None
        self.current.leave()
        for screen in self.screens.values():
            screen.reset()
        self.current = self.home
        self.go("home", message=message)

    # --- navigation -------------------------------------------------------------------------
    def page(self, kind: type[P]) -> P:
        """The page of that class (typed access for scripts and tests)."""
        screen = self.screens[kind.name]
        if not isinstance(screen, kind):
            raise TypeError(f"the {kind.name!r} page is a {type(screen).__name__}")
        return screen

    def go(self, name: str, **kwargs: Any) -> None:
        if not self._may_see(name):
            name, kwargs = "home", {}
        screen = self.screens[name]
        if screen is not self.current:
            self.current.leave()
        self.current = screen
        screen.refresh_header()
        self.stack.setCurrentWidget(screen)
        screen.enter(**kwargs)
        target = screen.first_focus()
        if target is not None:
            screen.focus(target)
        self.idle.poke()

    def _may_see(self, name: str) -> bool:
        """Staff pages need staff, driver pages a driver (a page never outlives its user)."""
        if name in STAFF_SCREENS:
            return self._actor is not None and self._actor.is_staff
        if name in DRIVER_SCREENS:
            return self._actor is not None and not self._actor.is_staff
        return True

    def request_exit(self) -> None:
        """Open the manager-password page (the key button, Ctrl+Alt+Q, or a close attempt)."""
        if self.current.name != "exit":
            self.go("exit", return_to=self.current.name)

    def _idle_timeout(self) -> None:
        if self.current is self.home and not self.signed_in:
            return
        self.sign_out(f"Signed out after {idle_words(self.idle_seconds)} without activity."
                      if self.signed_in else "")

    def _rescale_pages(self, scale: float) -> None:
        self.keyboard.rescale(scale)
        for page in self.screens.values():
            page.rescale(scale)

    def _data_changed(self, topics: frozenset[str]) -> None:
        if self.current is self.home and topics & {"lots", "spots"}:
            self.home.refresh()

    # --- full screen and quitting -------------------------------------------------------------
    def set_full_screen(self, on: bool) -> None:
        if on:
            fill_screen(self)
        else:
            self.showNormal()
            if self.width() < WINDOWED_SIZE[0] or self.height() < WINDOWED_SIZE[1]:
                self.resize(*WINDOWED_SIZE)

    def quit_kiosk(self) -> None:
        """Only the unlocked exit page calls this."""
        self._may_close = True
        self.quit_requested.emit()
        self.close()

    def end(self) -> None:
        """The system ends the program (a stop signal): close without asking for the password."""
        self.shutdown()
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_close:
            event.ignore()
            self.request_exit()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop timers and drop work in flight (idempotent). Afterwards the window may close:
        whoever calls this is ending the program, not a passer-by."""
        if self._shut_down:
            return
        self._shut_down = True
        self._may_close = True
        self.idle.stop()
        if self.link is not None and self.link_banner is not None:
            self.link_banner.detach()
            detach_channel(self.link, self.app.cache.sync)
        self.bridge.detach()
        self.keyboard.detach()
        self.home.timer.stop()
        for screen in self.screens.values():
            screen.leave()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        scale = scale_for(event.size().height())
        if scale != self.scale:
            self.scale = scale
            self.setStyleSheet(kiosk_style(scale))
            self.scale_changed.emit(scale)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Reached only when no control has the keyboard: Esc still means "back".
        if event.key() == Qt.Key.Key_Escape:
            self.current.back()
            event.accept()
            return
        super().keyPressEvent(event)


def run_kiosk_window(app: App, fullscreen: bool = True,
                     stopper: StopOnSignal | None = None) -> int:
    """Show the kiosk (the QApplication already exists) and run until a manager quits it or
    ``stopper`` reports a stop signal."""
    qapp = QApplication.instance()
    if not isinstance(qapp, QApplication):
        raise RuntimeError("run_kiosk_window needs the QApplication to exist")
    link: ConnectionMonitor | None = None
    try:
        link = build_link(app.heartbeats, app.ctx.clock, app.settings.data_dir,
                          app.settings.kiosk_lot)
    except KioskIdError as exc:  # no heartbeat is no reason to leave the queue waiting
        log.error("No connection monitor: %s", exc)
    desk, sync = build_desk(app.ctx, app.parking, app.lots, app.kiosk, app.settings.data_dir,
                            link, app.users, app.money)
    window = KioskWindow(app, link=link, desk=desk)
    if link is not None:
        link.start()
    if sync is not None:
        sync.start()
    window.quit_requested.connect(qapp.quit)
    if stopper is not None:
        stopper.requested.connect(lambda _signal_name: window.end())
    if fullscreen:
        fill_screen(window)
    else:
        window.resize(*WINDOWED_SIZE)
        window.show()
    code = qapp.exec()
    window.shutdown()
    _stop(link, sync, desk)
    QThreadPool.globalInstance().waitForDone(10_000)
    window.deleteLater()
    return int(code)


def _stop(link: ConnectionMonitor | None, sync: KioskSync | None, desk: KioskDesk) -> None:
    if sync is not None:
        sync.stop()
    if link is not None:
        link.stop()
    if desk.offline is not None:
        desk.offline.close()
