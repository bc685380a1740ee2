"""A message strip at the top of a screen or dialog: errors and refusals in plain words."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from parking_desktop.ui.common.elide import elide_words
from parking_desktop.ui.common.qtapp import icon


class Banner(QFrame):
    """Hidden until a message is shown. ``kind`` is 'error', 'info' or 'success' (QSS property)."""

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None, *, closable: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setAccessibleName("Message")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.setSpacing(8)
        self._icon = QLabel(self)
        self._icon.setFixedSize(18, 18)
        layout.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        self.label = QLabel(self)
        self.label.setObjectName("bannerText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName("Message text")
        layout.addWidget(self.label, 1)
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("bannerClose")
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAccessibleName("Dismiss message")
        self.close_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.close_button.clicked.connect(self.clear)
        self.close_button.setVisible(closable)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.setProperty("kind", "error")
        self.label.setProperty("kind", "error")
        self._message = ""
        self.hide()

    @property
    def text(self) -> str:
        """The message as given (the label may show long words shortened)."""
        return "" if self.isHidden() else self._message

    @property
    def kind(self) -> str:
        return str(self.property("kind"))

    def show_error(self, message: str) -> None:
        self._show(message, "error")

    def show_info(self, message: str) -> None:
        self._show(message, "info")

    def show_success(self, message: str) -> None:
        self._show(message, "success")

    def clear(self) -> None:
        if not self.isHidden():
            self.hide()
            self.dismissed.emit()

    def _show(self, message: str, kind: str) -> None:
        self._message = message
        shown = elide_words(message)  # an unbreakable 500-character name would not wrap
        self.label.setText(shown)
        self.label.setToolTip(message if shown != message else "")
        self.setAccessibleDescription(message)
        # The text carries the kind too: a descendant selector ("#banner[kind] #bannerText")
        # is not re-evaluated for the child when only the parent's property changes.
        for widget in (self, self.label):
            widget.setProperty("kind", kind)
        self._icon.setPixmap(icon({"error": "alert", "info": "info",
                                   "success": "check"}[kind]).pixmap(18, 18))
        # Re-polish so the [kind=...] selector in the style sheet applies.
        for widget in (self, self.label):
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        self.show()
