"""Kiosk building blocks: big buttons that also answer Enter, a vehicle field that normalises
as you type, cards and label/value grids. Sizes and colours come from resources/kiosk.qss
(dynamic properties ``kind`` and ``role`` select the look)."""

from __future__ import annotations

import re
from itertools import pairwise

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.ui.common.elided_label import ElidedLabel

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_SEPARATORS = re.compile(r"[\s\-]")


def restyle(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    widget.update()


class KioskButton(QPushButton):
    """A large touch button. Outside a dialog a QPushButton ignores Enter; a kiosk user
    expects Enter (as well as Space) to press the focused button."""

    def __init__(self, text: str, parent: QWidget | None = None, *, kind: str = "secondary",
                 accessible: str | None = None) -> None:
        super().__init__(text, parent)
        self.setProperty("kind", kind)
        self.setAccessibleName(accessible or text.replace("\n", " "))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        # Never narrower than the text: a crowded row squeezes labels, not button captions.
        self.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)

    def set_kind(self, kind: str) -> None:
        self.setProperty("kind", kind)
        restyle(self)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in ENTER_KEYS and not event.isAutoRepeat() and self.isEnabled():
            self.animateClick()
            event.accept()
            return
        super().keyPressEvent(event)


class KioskEdit(QLineEdit):
    """A large text field with an accessible name and a placeholder."""

    def __init__(self, accessible: str, placeholder: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(accessible)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(False)
        self.setProperty("keyboard", "full")  # the on-screen keyboard's layout for it


class PasswordEdit(KioskEdit):
    def __init__(self, accessible: str = "Password", parent: QWidget | None = None) -> None:
        super().__init__(accessible, "Password", parent)
        self.setEchoMode(QLineEdit.EchoMode.Password)
        self.setMaxLength(1024)


def normalise_plate_input(text: str) -> str:
    """The domain's rule, applied while typing: spaces and dashes go, a-z become A-Z. Anything
    else stays visible so that the service can say what is wrong with it."""
    return "".join(c.upper() if c.isascii() else c for c in _SEPARATORS.sub("", text))


class VehicleEdit(KioskEdit):
    """Vehicle number, normalised as typed (``ab-12 cd`` becomes ``AB12CD``), the same rule the
    service applies; the service still validates it and explains a refusal."""

    def __init__(self, parent: QWidget | None = None, *,
                 accessible: str = "Vehicle number") -> None:
        super().__init__(accessible, "e.g. AB123CD", parent)
        self.setObjectName("vehicleEdit")
        self.setProperty("keyboard", "plate")
        self.setMaxLength(32)  # generous: a pasted plate keeps its separators until cleaned
        self.setInputMethodHints(Qt.InputMethodHint.ImhPreferUppercase
                                 | Qt.InputMethodHint.ImhNoPredictiveText)
        self.textEdited.connect(self._normalise)

    def _normalise(self, text: str) -> None:
        cleaned = normalise_plate_input(text)
        if cleaned == text:
            return
        # Keep the cursor where the user was typing.
        before_cursor = normalise_plate_input(text[: self.cursorPosition()])
        self.setText(cleaned)
        self.setCursorPosition(min(len(before_cursor), len(cleaned)))


class Card(QFrame):
    """A rounded panel (background and border from the style sheet)."""

    def __init__(self, parent: QWidget | None = None, *, kind: str = "") -> None:
        super().__init__(parent)
        self.setProperty("card", True)
        if kind:
            self.setProperty("kind", kind)


def label(text: str = "", role: str = "", parent: QWidget | None = None, *,
          wrap: bool = False, align: Qt.AlignmentFlag | None = None) -> QLabel:
    """A QLabel with a style ``role`` such as title, caption, huge, value."""
    widget = QLabel(text, parent)
    if role:
        widget.setProperty("role", role)
    widget.setWordWrap(wrap)
    if align is not None:
        widget.setAlignment(align)
    return widget


def field(title: str, editor: QWidget, hint: str = "") -> QWidget:
    """A caption above an editor (caption is the editor's buddy, for screen readers)."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(6)
    caption = label(title, "fieldLabel")
    caption.setBuddy(editor)
    layout.addWidget(caption)
    layout.addWidget(editor)
    if hint:
        layout.addWidget(label(hint, "hint", wrap=True))
    return box


def short(text: str, limit: int = 48) -> str:
    """``text`` cut to ``limit`` characters with "…" (a lot name inside a sentence)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class InfoGrid(QWidget):
    """Label / value rows (a receipt, a booking). ``set_rows`` replaces the contents."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(28)
        self._grid.setVerticalSpacing(10)
        self._grid.setColumnStretch(1, 1)
        self.values: dict[str, QLabel] = {}

    def set_rows(self, rows: list[tuple[str, str]], emphasise: str = "") -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item is not None and (widget := item.widget()) is not None:
                widget.deleteLater()
        self.values = {}
        for row, (name, value) in enumerate(rows):
            key = label(name, "infoKey")
            # One line each: a long lot name ends in "…" instead of pushing the rows apart.
            shown = ElidedLabel(value, "infoTotal" if name == emphasise else "infoValue")
            shown.setAccessibleName(name)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            self._grid.addWidget(key, row, 0, Qt.AlignmentFlag.AlignVCenter)
            self._grid.addWidget(shown, row, 1, Qt.AlignmentFlag.AlignVCenter)
            self.values[name] = shown

    def text(self, name: str) -> str:
        return self.values[name].text() if name in self.values else ""


class SpotCard(Card):
    """The spot number, huge, with the lot and a detail line: what a driver or attendant must
    be able to read from a metre away."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, kind="spot")
        self.setObjectName("spotCard")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 24, 40, 28)
        layout.setSpacing(4)
        self.caption = label("Your spot", "spotCaption", self, align=Qt.AlignmentFlag.AlignCenter)
        self.number = label("", "spotNumber", self, align=Qt.AlignmentFlag.AlignCenter)
        self.number.setAccessibleName("Spot number")
        self.lot = label("", "spotLot", self, wrap=True, align=Qt.AlignmentFlag.AlignCenter)
        self.lot.setAccessibleName("Lot")
        self.detail = label("", "spotDetail", self, wrap=True,
                            align=Qt.AlignmentFlag.AlignCenter)
        self.detail.setAccessibleName("Details")
        for widget in (self.caption, self.number, self.lot, self.detail):
            layout.addWidget(widget)

    def show_spot(self, caption: str, number: str, lot: str, detail: str = "") -> None:
        self.caption.setText(caption)
        self.number.setText(number)
        self.lot.setText(lot)
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        self.setAccessibleName(f"{caption} {number}, {lot}")

    def clear(self) -> None:
        self.show_spot("", "", "")


class TileButton(KioskButton):
    """A big square-ish button with an icon, a title and a caption underneath (a plain
    QPushButton cannot wrap or size two lines of different weight)."""

    def __init__(self, title: str, caption: str, icon: QPixmap,
                 parent: QWidget | None = None) -> None:
        super().__init__("", parent, kind="tile", accessible=title)
        self.setAccessibleDescription(caption)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 24, 20, 24)
        layout.setSpacing(8)
        layout.addStretch(1)
        picture = QLabel(self)
        picture.setPixmap(icon)
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = label(title, "tileTitle", self, align=Qt.AlignmentFlag.AlignCenter,
                           wrap=True)
        self.caption = label(caption, "tileCaption", self, align=Qt.AlignmentFlag.AlignCenter,
                             wrap=True)
        for widget in (picture, self.title, self.caption):
            # Clicks and touches go to the button underneath.
            widget.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
            layout.addWidget(widget)
        layout.addStretch(1)


def tab_chain(*widgets: QWidget) -> None:
    """Tab moves through ``widgets`` in this order (Enter/Tab-only use of the kiosk)."""
    for first, second in pairwise(widgets):
        QWidget.setTabOrder(first, second)


def action_row(primary: QPushButton, secondary: QPushButton) -> QHBoxLayout:
    """The kiosk's button row: the main action twice as wide as the way back."""
    row = QHBoxLayout()
    row.setSpacing(18)
    row.addWidget(primary, 2)
    row.addWidget(secondary, 1)
    return row
