"""The kiosk's on-screen keyboard (touch screens have none): shown at the bottom of the window
while one of its text fields has the keyboard focus, hidden otherwise.

Two layouts, chosen by the field's ``keyboard`` property: "plate" (digits and capital letters,
big keys: a vehicle number) and "full" (letters with Shift, digits and the symbols under
Shift, ``@ . - _`` and space: usernames, e-mail addresses and passwords). Every key sends a
real key event to the focused field, so the field behaves as with a hardware keyboard
(normalising, Enter submitting). The keys never take the focus, and nothing but the field
itself shows what was typed (a password stays dots). KIOSK_ON_SCREEN_KEYBOARD=false turns it
off."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QWidget,
)

PLATE, FULL = "plate", "full"
MAX_WIDTH = 1280  # px
PROPERTY = "keyboard"  # on a QLineEdit: which layout it wants ("" or unset: none)
BACKSPACE, ENTER, SHIFT, SPACE, HIDE = "⌫", "Enter", "Shift", "Space", "Hide ⌄"

PLATE_ROWS = ["1234567890", "QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"]
FULL_ROWS = ["1234567890", "qwertyuiop", "asdfghjkl@", "zxcvbnm.-_"]
SHIFTED = dict(zip("1234567890.-_@", "!@#$%^&*(),+=?", strict=True))


def _key_code(char: str) -> int:
    upper = char.upper()
    if "A" <= upper <= "Z" or "0" <= upper <= "9":
        return ord(upper)  # Qt.Key_A... and Qt.Key_0... are their ASCII codes
    if char == " ":
        return int(Qt.Key.Key_Space.value)
    return int(Qt.Key.Key_unknown.value)


def _scroll_area_of(widget: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    return parent if isinstance(parent, QScrollArea) else None


class Key(QPushButton):
    def __init__(self, label: str, parent: QWidget | None = None, *, role: str = "char",
                 accessible: str | None = None) -> None:
        super().__init__(parent)
        self.char = label
        self.show_char(label)
        self.setObjectName("oskKey")
        self.setProperty("kind", "key")
        self.setProperty("keyRole", role)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the field keeps the focus
        self.setAccessibleName(accessible or f"Key {label}")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def show_char(self, char: str) -> None:
        self.char = char
        self.setText(char.replace("&", "&&"))  # a lone "&" would be a mnemonic, not shown


class OnScreenKeyboard(QWidget):
    """Follows the application's focus: appears under a field of ``window`` that asks for a
    layout, types into it, disappears when the focus goes elsewhere."""

    layout_changed = Signal(str)

    def __init__(self, window: QWidget, *, enabled: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("onScreenKeyboard")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setAccessibleName("On-screen keyboard")
        self.window_ = window
        self.enabled = enabled
        self.target: QLineEdit | None = None
        self.layout_name = ""
        self.shift = False
        self.scale = 1.0
        self.keys: dict[str, Key] = {}
        self._hidden_for: QLineEdit | None = None  # "Hide" was pressed while this had focus
        outer = QHBoxLayout(self)
        outer.setContentsMargins(16, 10, 16, 12)
        # Keys no wider than a hand can span on a big screen: the board is centred.
        board = QWidget(self)
        board.setMaximumWidth(MAX_WIDTH)
        self.grid = QGridLayout(board)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(8)
        outer.addStretch(1)
        outer.addWidget(board, 100)
        outer.addStretch(1)
        self.board = board
        self.hide()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)

    # --- following the focus ------------------------------------------------------------
    def detach(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            with contextlib.suppress(RuntimeError, TypeError):  # already gone
                app.focusChanged.disconnect(self._focus_changed)

    def _focus_changed(self, _old: QObject | None, new: QObject | None) -> None:
        if new is None:  # the window lost the focus (another window): keep as is
            return
        if isinstance(new, QLineEdit) and self.window_.isAncestorOf(new):
            self.attach(new)
        elif isinstance(new, QWidget) and self.window_.isAncestorOf(new) \
                and not self.isAncestorOf(new):
            self.detach_target()

    def attach(self, edit: QLineEdit) -> None:
        wanted = str(edit.property(PROPERTY) or "")
        if not self.enabled or wanted not in (PLATE, FULL) or edit is self._hidden_for:
            self.detach_target()
            return
        if edit is not self.target:
            edit.installEventFilter(self)
        self.target = edit
        if wanted != self.layout_name:
            self._build(wanted)
        self.show()
        area = _scroll_area_of(edit)
        if area is not None:
            # The page shrinks to make room for the keyboard a layout pass later: the field is
            # brought into view when the page's scroll range has changed (and at once).
            area.verticalScrollBar().rangeChanged.connect(
                self._range_changed, Qt.ConnectionType.UniqueConnection)
        QTimer.singleShot(0, lambda: self._reveal(edit))

    def _range_changed(self, _low: int, _high: int) -> None:
        if self.target is not None and self.isVisible():
            self._reveal(self.target)

    def _reveal(self, edit: QLineEdit) -> None:
        """Scroll the page so the field is not under the keyboard."""
        if self.target is not edit:
            return
        area = _scroll_area_of(edit)
        if area is not None:
            area.ensureWidgetVisible(edit, 0, 24)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A tap on the field whose keyboard was hidden brings it back.
        if (event.type() == QEvent.Type.MouseButtonPress and watched is self._hidden_for
                and isinstance(watched, QLineEdit)):
            self._hidden_for = None
            self.attach(watched)
        return False

    def detach_target(self) -> None:
        self.target = None
        self._hidden_for = None
        self.hide()

    # --- keys -------------------------------------------------------------------------------
    def _build(self, name: str) -> None:
        for key in self.keys.values():
            self.grid.removeWidget(key)
            key.deleteLater()
        self.keys = {}
        self.layout_name = name
        self.shift = False
        rows = PLATE_ROWS if name == PLATE else FULL_ROWS
        columns = max(len(r) for r in rows) + 2  # two columns for the wide keys on the right
        for row, chars in enumerate(rows):
            for column, char in enumerate(chars):
                key = Key(char, self)
                key.clicked.connect(lambda _c=False, k=key: self._char(k.char))
                self.grid.addWidget(key, row, column)
                self.keys[char] = key
        last = len(rows) - 1
        backspace = Key(BACKSPACE, self, role="wide", accessible="Backspace")
        backspace.setAutoRepeat(True)  # held down: keeps deleting
        backspace.clicked.connect(lambda: self._send(int(Qt.Key.Key_Backspace.value), ""))
        enter = Key(ENTER, self, role="enter", accessible="Enter")
        enter.clicked.connect(lambda: self._send(int(Qt.Key.Key_Return.value), "\r"))
        hide = Key(HIDE, self, role="wide", accessible="Hide the keyboard")
        hide.clicked.connect(self._hide_pressed)
        self.grid.addWidget(backspace, 0, columns - 2, 1, 2)
        self.grid.addWidget(enter, 1, columns - 2, 2, 2)
        self.grid.addWidget(hide, last, columns - 2, 1, 2)
        self.keys.update({BACKSPACE: backspace, ENTER: enter, HIDE: hide})
        if name == FULL:
            bottom = QHBoxLayout()
            shift = Key(SHIFT, self, role="wide", accessible="Shift")
            shift.setCheckable(True)
            shift.toggled.connect(self._set_shift)
            space = Key(SPACE, self, role="wide", accessible="Space")
            space.clicked.connect(lambda: self._send(int(Qt.Key.Key_Space.value), " "))
            bottom.addWidget(shift, 1)
            bottom.addWidget(space, 4)
            self.grid.addLayout(bottom, len(rows), 0, 1, columns)
            self.keys.update({SHIFT: shift, SPACE: space})
        self.rescale(self.scale)
        self.layout_changed.emit(name)

    def _set_shift(self, on: bool) -> None:
        self.shift = on
        for char, key in self.keys.items():
            if len(char) == 1:
                key.show_char(self._shifted(char))

    def _shifted(self, char: str) -> str:
        if not self.shift:
            return char
        return char.upper() if char.isalpha() else SHIFTED.get(char, char)

    def _char(self, text: str) -> None:
        self._send(_key_code(text), text)
        if self.shift and SHIFT in self.keys:
            self.keys[SHIFT].setChecked(False)  # one character, as on a phone

    def _send(self, key: int, text: str) -> None:
        target = self.target
        if target is None or not target.isEnabled() or not target.isVisible():
            return
        modifiers = Qt.KeyboardModifier.NoModifier
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(target, QKeyEvent(kind, key, modifiers, text))

    def _hide_pressed(self) -> None:
        hidden_for = self.target
        self.detach_target()
        self._hidden_for = hidden_for  # until the focus moves to another field

    def press(self, label: str) -> None:
        """Tap the key showing ``label`` (scripts and tests)."""
        for key in self.keys.values():
            if key.char == label:
                key.click()
                return
        raise KeyError(label)

    def rescale(self, scale: float) -> None:
        """Key sizes come from the kiosk style sheet, which grows with the screen; this only
        remembers the scale and widens the board with it."""
        self.scale = scale
        self.board.setMaximumWidth(round(MAX_WIDTH * scale))
