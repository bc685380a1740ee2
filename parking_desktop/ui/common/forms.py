"""Forms that validate as you type, reusing the domain's validation functions.

Each field runs its rule on every keystroke; the rule's sentence shows under the field once the
user has typed in it, and the form's submit button stays disabled until every field passes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from parking_desktop.domain import validation
from parking_desktop.domain.errors import ValidationError

Rule = Callable[[str], Any]


def _restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class WrappedMessage(QLabel):
    """A word-wrapped message that claims the height of its lines at its actual width: a form
    layout works out heights for a guessed column width and would cut the last line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        # Under its field: any spare height the layout hands out goes below the text.
        self.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._claim()

    def setText(self, text: str) -> None:
        super().setText(text)
        self._claim()

    def _claim(self) -> None:
        needed = self.heightForWidth(self.width()) if self.text() else 0
        if needed != self.minimumHeight():
            self.setMinimumHeight(max(0, needed))


class Field(QObject):
    """A line edit, its rule, and the label that shows the rule's message."""

    changed = Signal()

    def __init__(self, editor: QLineEdit, rule: Rule, *, required_message: str = "") -> None:
        super().__init__(editor)
        self.editor = editor
        self.rule = rule
        self.touched = False
        self.error = WrappedMessage(editor.parentWidget())
        self.error.setObjectName("fieldError")
        self.error.setAccessibleName(f"{editor.accessibleName()} problem")
        self.error.hide()
        self._value: Any = None
        self._message = ""
        editor.textEdited.connect(self._edited)
        editor.textChanged.connect(self._validate)
        self._validate()

    @property
    def valid(self) -> bool:
        return not self._message

    @property
    def message(self) -> str:
        return self._message

    @property
    def value(self) -> Any:
        return self._value

    def set_text(self, text: str) -> None:
        self.editor.setText(text)

    def reveal(self) -> None:
        """Show the message even if the user has not typed here yet (e.g. on submit)."""
        self.touched = True
        self._refresh()

    def revalidate(self) -> None:
        self._validate()

    def _edited(self, _text: str) -> None:
        self.touched = True

    def _validate(self, _text: str = "") -> None:
        try:
            self._value = self.rule(self.editor.text())
            self._message = ""
        except ValidationError as exc:
            self._value = None
            self._message = str(exc)
        self._refresh()
        self.changed.emit()

    def _refresh(self) -> None:
        show = bool(self._message) and self.touched
        self.error.setText(self._message if show else "")
        self.error.setVisible(show)
        self.editor.setProperty("invalid", show)
        self.editor.setAccessibleDescription(self._message if show else "")
        _restyle(self.editor)


class Form(QObject):
    """A group of fields; ``valid_changed`` drives the submit button."""

    valid_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, Field] = {}
        self._valid = False

    def add(self, name: str, field: Field) -> Field:
        self.fields[name] = field
        field.changed.connect(self._recheck)
        self._recheck()
        return field

    @property
    def valid(self) -> bool:
        return all(f.valid for f in self.fields.values())

    def values(self) -> dict[str, Any]:
        return {name: f.value for name, f in self.fields.items()}

    def reveal_all(self) -> None:
        for f in self.fields.values():
            f.reveal()

    def first_invalid(self) -> Field | None:
        return next((f for f in self.fields.values() if not f.valid), None)

    def _recheck(self) -> None:
        valid = self.valid
        if valid != self._valid:
            self._valid = valid
            self.valid_changed.emit(valid)


FULL_NAME_LENGTH = 120


def full_name_rule(text: str) -> str:
    """Optional full name: spaces collapsed; refused (not cut) beyond the column's length."""
    return validation.at_most(" ".join(text.split()), FULL_NAME_LENGTH, "The full name")


def line_edit(parent: QWidget, accessible_name: str, *, placeholder: str = "",
              text: str = "", password: bool = False, max_length: int = 0) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setAccessibleName(accessible_name)
    edit.setPlaceholderText(placeholder)
    if text:
        edit.setText(text)
    if password:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
    if max_length:
        # Only a guard against pasting megabytes: the field's rule refuses over-long text with
        # a message (cutting it silently would save something else than what was typed).
        edit.setMaxLength(max(4 * max_length, 1024))
    return edit


def add_row(layout: QFormLayout, label: str, field: Field, hint: str = "") -> None:
    """A form row: label, the editor, then its message (and an optional hint) underneath."""
    box = QWidget(field.editor.parentWidget())
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(2)
    field.editor.setParent(box)
    field.error.setParent(box)
    column.addWidget(field.editor)
    if hint:
        hint_label = QLabel(hint, box)
        hint_label.setObjectName("fieldHint")
        hint_label.setWordWrap(True)
        column.addWidget(hint_label)
    column.addWidget(field.error)
    caption = QLabel(label, layout.parentWidget())
    caption.setBuddy(field.editor)
    layout.addRow(caption, box)
