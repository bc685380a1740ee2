"""The base of every kiosk page: a header (Back, title, who is signed in, Sign out), a message
banner, a busy bar, and ``call()`` which runs a service call off the GUI thread with the page
marked busy and any refusal shown in the banner."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.ui.common.banner import Banner
from parking_desktop.ui.common.busy import BusyBar
from parking_desktop.ui.common.ops import Failure, Op, OpHandle
from parking_desktop.ui.kiosk.icons import kiosk_icon
from parking_desktop.ui.kiosk.widgets import KioskButton, label

if TYPE_CHECKING:
    from parking_desktop.ui.kiosk.window import KioskWindow

T = TypeVar("T")


class KioskBanner(Banner):
    """The shared banner with its icon as tall as the kiosk's text line and centred on the
    first line (the desktop's 18 px icon is a speck beside 22 px text)."""

    def _show(self, message: str, kind: str) -> None:
        super()._show(message, kind)
        self.label.ensurePolished()
        line = self.label.fontMetrics().height()
        self._icon.setFixedSize(line, line)
        name = {"error": "alert", "info": "info", "success": "check"}[kind]
        self._icon.setPixmap(kiosk_icon(name, "#ffffff").pixmap(QSize(line, line)))
        layout = self.layout()
        if layout is not None:
            layout.setAlignment(self._icon, Qt.AlignmentFlag.AlignTop)
            # The label's first line starts at its top: the icon lines up with it.
            layout.setSpacing(max(8, line // 2))


class KioskScreen(QWidget):
    """Subclasses build their body in ``self.body`` and override ``enter``/``reset``/``back``.

    Results of calls started on a page are dropped once the page is left or reset (a newer
    user must never see an older user's data arriving late)."""

    name = ""
    title = ""
    has_back = True

    def __init__(self, kiosk: KioskWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kiosk = kiosk
        self.setObjectName(f"screen_{self.name}")
        self.setAccessibleName(self.title)
        self._generation = 0
        self._ops: set[OpHandle] = set()
        self.busy_widgets: list[QWidget] = []
        self._shown_busy = False
        self._focus_before_busy: QWidget | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.header = QWidget(self)
        self.header.setObjectName("header")
        self.header.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        top = self.header_layout = QHBoxLayout(self.header)
        top.setContentsMargins(28, 14, 28, 14)
        top.setSpacing(18)
        self.back_button = KioskButton(" Back", self.header, accessible="Back")
        self.back_button.setObjectName("backButton")
        self.back_button.setIcon(kiosk_icon("back"))
        self.back_button.setIconSize(QSize(26, 26))
        self.back_button.clicked.connect(self.back)
        self.back_button.setVisible(self.has_back)
        top.addWidget(self.back_button)
        self.title_label = label(self.title, "title", self.header)
        self.title_label.setAccessibleName("Screen title")
        self.title_label.setMinimumWidth(120)  # the title gives way first in a crowded header
        top.addWidget(self.title_label, 1)
        self.busy_label = label("Please wait…", "busy", self.header)
        self.busy_label.setAccessibleName("Busy")
        self.busy_label.hide()  # takes the title's spare room while shown; nothing jumps
        top.addWidget(self.busy_label)
        self.user_label: QLabel = label("", "user", self.header)
        self.user_label.setAccessibleName("Signed in as")
        top.addWidget(self.user_label)
        self.sign_out_button = KioskButton("Sign out", self.header, kind="quiet")
        self.sign_out_button.setObjectName("signOutButton")
        self.sign_out_button.clicked.connect(lambda: self.kiosk.sign_out())
        top.addWidget(self.sign_out_button)
        outer.addWidget(self.header)

        self.busy_bar = BusyBar(self)
        outer.addWidget(self.busy_bar)
        # The page scrolls rather than squashing its contents when the window is short (a
        # 768-line screen with the on-screen keyboard up); with room to spare it never does.
        self.page_scroll = QScrollArea(self)
        self.page_scroll.setObjectName("pageScroll")
        self.page_scroll.setWidgetResizable(True)
        self.page_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.page_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.page_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget()
        content.setObjectName("content")
        column = QVBoxLayout(content)
        column.setContentsMargins(40, 20, 40, 28)
        column.setSpacing(18)
        self.banner = KioskBanner(content)
        column.addWidget(self.banner)
        self.body = QVBoxLayout()
        self.body.setSpacing(18)
        column.addLayout(self.body, 1)
        self.page_scroll.setWidget(content)
        QScroller.grabGesture(self.page_scroll.viewport(),
                              QScroller.ScrollerGestureType.TouchGesture)
        outer.addWidget(self.page_scroll, 1)

    # --- navigation hooks -------------------------------------------------------------------
    def enter(self, **kwargs: Any) -> None:
        """Called each time the page is shown (``kiosk.go(name, **kwargs)``)."""

    def leave(self) -> None:
        """Called when another page is shown: results still in flight are dropped."""
        self._drop_calls()

    def reset(self) -> None:
        """Called at sign-out: forget everything the last user typed or saw."""
        self._drop_calls()
        self.banner.clear()

    def back(self) -> None:
        """Esc and the Back button."""

    def first_focus(self) -> QWidget | None:
        """The control that gets the keyboard when the page opens."""
        return None

    def rescale(self, scale: float) -> None:
        """The kiosk's text size changed (window moved to a bigger or smaller screen)."""

    def refresh_header(self) -> None:
        user = self.kiosk.user
        signed_in = user is not None
        self.user_label.setVisible(signed_in)
        self.sign_out_button.setVisible(signed_in)
        if user is not None:
            self.user_label.setText(f"{user.username} · {user.role.value.capitalize()}")

    # --- service calls --------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return bool(self._ops)

    def call(
        self,
        fn: Callable[..., T],
        *args: object,
        on_success: Callable[[T], None],
        on_error: Callable[[str], None] | None = None,
        quiet: bool = False,
        disable: Iterable[QWidget] = (),
        **kwargs: object,
    ) -> Op[T]:
        """Run ``fn(*args, **kwargs)`` off the GUI thread. Unless ``quiet``, the page is busy
        (its ``busy_widgets`` disabled) until the call answers, and the banner is cleared
        first; ``disable`` adds widgets to keep disabled until then."""
        generation = self._generation
        if not quiet:
            self.banner.clear()

        # The page stops being busy as the answer arrives, before it is shown: a key pressed
        # the moment a refusal appears must not be dropped as "still busy".
        def succeeded(result: T) -> None:
            self._ops.discard(op)
            if generation == self._generation:
                on_success(result)

        def failed(failure: Failure) -> None:
            self._ops.discard(op)
            if self.kiosk.link is not None:  # a call that could not reach the database
                self.kiosk.link.report_failure(failure.error)
            if generation == self._generation:
                (on_error or self.show_error)(failure.message)

        held = [*disable, *([] if quiet else self.busy_widgets)]
        op = Op(lambda _work: fn(*args, **kwargs), on_success=succeeded, on_failure=failed,
                owner=self, disable=held)

        def finished() -> None:
            self._ops.discard(op)
            if not quiet:
                self._update_busy()

        op.add_finished(finished)
        if not quiet:
            self._ops.add(op)
            self._update_busy()
        return op.start()

    def focus(self, widget: QWidget) -> None:
        """Give ``widget`` the keyboard (after the busy state ends, if a call is running)."""
        if self._shown_busy:
            self._focus_before_busy = widget
        else:
            widget.setFocus()

    def show_error(self, message: str) -> None:
        self.banner.show_error(message)

    def show_info(self, message: str) -> None:
        self.banner.show_info(message)

    def _drop_calls(self) -> None:
        self._generation += 1
        for op in list(self._ops):
            op.discard()
        self._ops.clear()
        self._update_busy()

    def _update_busy(self) -> None:
        busy = self.busy
        if busy == self._shown_busy:
            return
        self._shown_busy = busy
        if busy:
            self.busy_bar.push()
            # This page's focus child (also right while the window is not the active one).
            self._focus_before_busy = self.focusWidget()
        else:
            self.busy_bar.pop()
        self.busy_label.setVisible(busy)
        if not busy:
            # Disabling the focused control sent the keyboard elsewhere; bring it back.
            focused, self._focus_before_busy = self._focus_before_busy, None
            if focused is not None and self.isAncestorOf(focused) \
                    and focused.isVisibleTo(self) and focused.isEnabled():
                focused.setFocus()

    # --- keyboard -------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.back()
            event.accept()
            return
        super().keyPressEvent(event)
