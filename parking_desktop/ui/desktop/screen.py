"""What every desktop screen shares: a heading, a busy bar, a message banner, service calls
off the GUI thread, and refreshing itself when the data it shows changes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.services.views import UserView
from parking_desktop.ui.common.banner import Banner
from parking_desktop.ui.common.busy import BusyBar
from parking_desktop.ui.common.ops import Failure, Op, OpHandle

T = TypeVar("T")


@dataclass(frozen=True)
class SignedIn:
    """The signed-in person and the app they work in."""

    app: App
    actor: Actor
    user: UserView

    @property
    def tz(self) -> ZoneInfo:
        return self.app.ctx.tz

    def now(self) -> datetime:
        return self.app.ctx.clock.now()


class Screen(QWidget):
    """Base class. Subclasses build their body into ``self.body`` and implement ``refresh``.

    ``TOPICS`` lists the change topics that make the screen reload: when it is visible it reloads
    shortly after; when hidden it reloads the next time it is shown."""

    TITLE = ""
    SUBTITLE = ""
    TOPICS: frozenset[str] = frozenset()
    AUTO_REFRESH_MS = 0  # > 0: also reload periodically while visible (other machines' changes)
    # > 0: on SQLite, reload this often while visible. Other processes' writes (a kiosk on the
    # same database file) send no notice there; on PostgreSQL they arrive as change notices.
    LIVE_REFRESH_MS = 0

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page")
        self.setAccessibleName(self.TITLE)
        self.session = session
        self.app = session.app
        self.actor = session.actor
        self._ops: set[OpHandle] = set()
        self._stale = True
        self.loads = 0  # finished refreshes (tests wait on this)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.busy = BusyBar(self)
        outer.addWidget(self.busy)
        inner = QWidget(self)
        outer.addWidget(inner, 1)
        self.page_layout = QVBoxLayout(inner)
        self.page_layout.setContentsMargins(28, 20, 28, 20)
        self.page_layout.setSpacing(14)
        header = QHBoxLayout()
        header.setSpacing(10)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.title_label = QLabel(self.TITLE, inner)
        self.title_label.setObjectName("pageTitle")
        titles.addWidget(self.title_label)
        self.subtitle_label = QLabel(self.SUBTITLE, inner)
        self.subtitle_label.setObjectName("pageSubtitle")
        self.subtitle_label.setVisible(bool(self.SUBTITLE))
        self.subtitle_label.setWordWrap(True)  # yields width to the buttons in a narrow window
        titles.addWidget(self.subtitle_label)
        header.addLayout(titles, 1)
        self.header_actions = QHBoxLayout()  # buttons at the right of the heading
        self.header_actions.setSpacing(8)
        header.addLayout(self.header_actions)
        # Older name, kept for screens written against it (it shadows QWidget.actions()).
        self.actions = self.header_actions  # type: ignore[assignment,method-assign]
        self.page_layout.addLayout(header)
        self.banner = Banner(inner)
        self.page_layout.addWidget(self.banner)
        self.body = QVBoxLayout()
        self.body.setSpacing(14)
        self.page_layout.addLayout(self.body, 1)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.refresh)
        self._periodic = QTimer(self)
        self._periodic.timeout.connect(self._periodic_refresh)
        intervals = [self.AUTO_REFRESH_MS] if self.AUTO_REFRESH_MS > 0 else []
        if self.LIVE_REFRESH_MS > 0 and self.app.settings.is_sqlite:
            intervals.append(self.LIVE_REFRESH_MS)
        self._periodic.setInterval(min(intervals, default=0))

    def scrolling_body(self) -> QVBoxLayout:
        """A column inside ``body`` that scrolls vertically when the window is too low for it
        (1024x768 with every field's message showing), instead of squeezing what it holds."""
        area = QScrollArea(self)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget(area)
        content.setObjectName("scrollContent")
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(14)
        area.setWidget(content)
        self.body.addWidget(area, 1)
        return column

    # --- service calls ------------------------------------------------------------------------
    def call(self, fn: Callable[..., T], *args: object,
             on_success: Callable[[T], None] | None = None,
             on_error: Callable[[str], None] | None = None,
             disable: Iterable[QWidget] = (), **kwargs: object) -> Op[T]:
        """Run ``fn(*args, **kwargs)`` off the GUI thread with the busy bar on; errors go to the
        banner unless ``on_error`` handles them. The ``disable`` widgets (the button that
        started the work) stay disabled until it answers."""
        show_error = on_error or self.show_error

        def failed(failure: Failure) -> None:
            show_error(failure.message)

        return self.start(Op(lambda _work: fn(*args, **kwargs), on_success=on_success,
                             on_failure=failed, disable=disable))

    def start(self, op: Op[T], *, busy: bool = True) -> Op[T]:
        """Start ``op`` as this screen's: dropped at ``shutdown``; with the busy bar unless
        ``busy`` is False (long work that shows its own progress)."""
        if busy:
            self.busy.push()

        def finished() -> None:
            if busy:
                self.busy.pop()
            self._ops.discard(op)

        op.add_finished(finished)
        self._ops.add(op)
        return op.start()

    def can_leave(self) -> bool:
        """Asked before the user moves to another screen or closes the window: a screen with
        unsaved changes asks (False: stay)."""
        return True

    def show_error(self, message: str) -> None:
        self.banner.show_error(message)

    def show_success(self, message: str) -> None:
        self.banner.show_success(message)

    # --- refreshing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload what the screen shows (subclasses); call ``loaded()`` when the data arrived."""
        self._stale = False

    @property
    def settling(self) -> bool:
        """Drawing still due after the data arrived (a debounced redraw): the screen is not
        finished until it is over (scripts/gui_latency.py counts it in the screen's load)."""
        return False

    def loaded(self) -> None:
        self.loads += 1

    def data_changed(self, topics: frozenset[str]) -> None:
        if not topics & self.TOPICS:
            return
        if self.isVisible():
            self._debounce.start()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            self.refresh()
        if self._periodic.interval() > 0:
            self._periodic.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._periodic.stop()

    def _periodic_refresh(self) -> None:
        if self.isVisible() and not self.busy.pending:
            self.refresh()

    def shutdown(self) -> None:
        """The window is closing: ignore results still in flight."""
        self._debounce.stop()
        self._periodic.stop()
        for op in list(self._ops):
            op.discard()
        self._ops.clear()


class RefusedScreen(Screen):
    """Shown instead of a screen the signed-in role may not open."""

    TITLE = "Not available"

    def __init__(self, session: SignedIn, title: str, message: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.title_label.setText(title)
        self.setAccessibleName(title)
        self._stale = False
        self.banner.show_error(message)
        self.banner.close_button.hide()
        self.body.addStretch(1)
