"""Busy state: a thin indeterminate bar that shows while at least one call is in flight."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QProgressBar, QWidget


class BusyBar(QProgressBar):
    """Counts pending operations; visible (animated) while the count is above zero.

    The space it takes is kept when hidden so the layout does not jump on every load."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("busyBar")
        self.setAccessibleName("Loading")
        self.setTextVisible(False)
        self.setRange(0, 0)
        self.setFixedHeight(3)
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.setSizePolicy(policy)
        self._pending = 0
        self.hide()

    @property
    def pending(self) -> int:
        return self._pending

    def push(self) -> None:
        self._pending += 1
        if self._pending == 1:
            self.show()
            self.busy_changed.emit(True)

    def pop(self) -> None:
        if self._pending == 0:
            return
        self._pending -= 1
        if self._pending == 0:
            self.hide()
            self.busy_changed.emit(False)
