"""Building blocks for dialogs: a header, a message banner, busy state and OK/Cancel buttons
(Enter submits, Esc cancels), plus a helper that runs the dialog's service call."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.ui.common.banner import Banner
from parking_desktop.ui.common.busy import BusyBar
from parking_desktop.ui.common.elide import elide, elide_words
from parking_desktop.ui.common.forms import Form
from parking_desktop.ui.common.ops import Failure, Op, OpHandle

T = TypeVar("T")
MAX_DIALOG_WIDTH = 640


class ServiceDialog(QDialog):
    """A dialog whose OK button runs one service call; a refusal keeps it open with the
    service's message shown at the top."""

    def __init__(self, parent: QWidget | None, title: str, *, subtitle: str = "",
                 ok_text: str = "Save", destructive: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setModal(True)
        self.setMinimumWidth(460)
        # Long names wrap or are elided inside this width instead of widening the dialog.
        self.setMaximumWidth(MAX_DIALOG_WIDTH)
        self.result_value: Any = None
        self._op: OpHandle | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.busy = BusyBar(self)
        outer.addWidget(self.busy)
        body = QWidget(self)
        body.setObjectName("dialogBody")
        outer.addWidget(body)
        self.layout_ = QVBoxLayout(body)
        self.layout_.setContentsMargins(24, 20, 24, 20)
        self.layout_.setSpacing(14)
        self.setWindowTitle(elide(title, 80))
        heading = QLabel(elide_words(title), body)
        heading.setObjectName("dialogTitle")
        heading.setWordWrap(True)
        heading.setToolTip(title if elide_words(title) != title else "")
        self.layout_.addWidget(heading)
        if subtitle:
            sub = QLabel(elide_words(subtitle), body)
            sub.setObjectName("dialogSubtitle")
            sub.setWordWrap(True)
            self.layout_.addWidget(sub)
        self.banner = Banner(body)
        self.layout_.addWidget(self.banner)
        self.body = body
        self.buttons = QDialogButtonBox(self)
        self.ok_button = QPushButton(ok_text, self)
        self.ok_button.setObjectName("dangerButton" if destructive else "primaryButton")
        self.ok_button.setAccessibleName(ok_text)
        self.ok_button.setDefault(True)
        self.ok_button.setAutoDefault(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.setAutoDefault(False)
        self.buttons.addButton(self.ok_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        footer = QWidget(self)
        footer.setObjectName("dialogFooter")
        footer_layout = QVBoxLayout(footer)
        footer_layout.setContentsMargins(24, 12, 24, 16)
        footer_layout.addWidget(self.buttons)
        outer.addWidget(footer)
        # A refusal or a field's message makes the content taller: the dialog grows with it
        # (a dialog only takes its minimum by itself, which cuts wrapped text).
        self._grow = QTimer(self)
        self._grow.setSingleShot(True)
        self._grow.setInterval(0)
        self._grow.timeout.connect(self.fit_content)
        body.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and self.isVisible():
            self._grow.start()
        return False

    def fit_content(self) -> None:
        """Grow (never shrink) to the height the content needs at the current width, within
        the screen."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        width = self.width()
        # The size hint too: a form layout under-reports the height its wrapped messages need
        # at a given width, the hint (measured at a narrower width) never does.
        needed = max(layout.totalSizeHint().height(), layout.totalMinimumSize().height())
        if layout.hasHeightForWidth():
            needed = max(needed, layout.totalHeightForWidth(width))
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        if screen is not None:
            needed = min(needed, screen.height() - 40)
        if needed > self.height():
            self.resize(width, needed)

    @property
    def working(self) -> bool:
        return self._op is not None

    def submit(self) -> None:  # overridden: validate, then self.run(...)
        raise NotImplementedError

    def run(self, fn: Callable[..., T], *args: object,
            on_success: Callable[[T], None] | None = None, **kwargs: object) -> None:
        """Run the dialog's service call; accept with its result unless ``on_success`` decides.
        OK stays disabled until the call answers (a second Enter starts nothing)."""
        if self._op is not None:
            return
        self.banner.clear()
        self._set_working(True)

        def done(value: T) -> None:
            self._op = None
            self._set_working(False)
            if on_success is not None:
                on_success(value)
            else:
                self.result_value = value
                self.accept()

        self._op = Op(lambda _work: fn(*args, **kwargs), on_success=done,
                      on_failure=self._failed, owner=self).start()

    def reject(self) -> None:
        if self._op is not None:
            self._op.discard()
            self._op = None
        super().reject()

    def _failed(self, failure: Failure) -> None:
        self._op = None
        self.banner.show_error(failure.message)
        self._set_working(False)

    def _set_working(self, working: bool) -> None:
        (self.busy.push if working else self.busy.pop)()
        self.body.setEnabled(not working)
        self.ok_button.setEnabled(not working and self.can_submit())
        if not working:
            self.focus_first_problem()

    def can_submit(self) -> bool:
        return True

    def focus_first_problem(self) -> None:
        """Where the cursor goes after a refusal (overridden by forms)."""

class FormDialog(ServiceDialog):
    """A ServiceDialog around a Form: OK is enabled only while every field passes its rule;
    subclasses add fields to ``self.form``/``self.rows``, call ``finish_layout()`` and
    implement ``save()``."""

    def __init__(self, parent: QWidget | None, title: str, subtitle: str, ok_text: str) -> None:
        super().__init__(parent, title, subtitle=subtitle, ok_text=ok_text)
        self.form = Form(self)
        self.rows = QFormLayout()
        self.rows.setSpacing(8)
        self.rows.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.layout_.addLayout(self.rows)
        self.form.valid_changed.connect(lambda _v: self.ok_button.setEnabled(self.can_submit()))

    def finish_layout(self) -> None:
        editors = [f.editor for f in self.form.fields.values()]
        chain = [*editors, self.ok_button, self.cancel_button]
        for first, second in itertools.pairwise(chain):
            self.setTabOrder(first, second)
        self.ok_button.setEnabled(self.can_submit())
        if editors:
            editors[0].setFocus()

    def can_submit(self) -> bool:
        return self.form.valid

    def focus_first_problem(self) -> None:
        field = self.form.first_invalid()
        if field is not None:
            field.editor.setFocus()

    def submit(self) -> None:
        if not self.form.valid:
            self.form.reveal_all()
            self.focus_first_problem()
            return
        self.save()

    def save(self) -> None:
        raise NotImplementedError



def confirm(parent: QWidget, title: str, text: str, ok_text: str, *,
            destructive: bool = False) -> bool:
    """A yes/no question; Esc and Cancel answer no."""
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setText(text)
    box.setIcon(QMessageBox.Icon.Warning if destructive else QMessageBox.Icon.Question)
    box.setAccessibleName(title)
    ok = box.addButton(ok_text, QMessageBox.ButtonRole.AcceptRole)
    ok.setAccessibleName(ok_text)
    ok.setObjectName("dangerButton" if destructive else "primaryButton")
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    cancel.setAccessibleName("Cancel")
    box.setDefaultButton(cancel if destructive else ok)
    box.setEscapeButton(cancel)
    box.exec()
    return box.clickedButton() is ok


def section_label(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setObjectName("sectionLabel")
    label.setAlignment(Qt.AlignmentFlag.AlignLeft)
    return label
