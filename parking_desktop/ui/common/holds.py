"""Widgets held disabled while the work they started runs (ops.Op's ``disable``).

Several ops may hold one widget; it is enabled again when the last one answers, in the state
the screen asked for meanwhile through ``set_enabled`` (e.g. "Run now" is enabled again only
if the selected job may run). The counts live in the widget's dynamic properties."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

_HOLDS = "opsHolds"  # dynamic properties: how many ops hold a widget, and its wanted state
_WANTED = "opsWanted"


def hold(widget: QWidget) -> None:
    """Disable ``widget`` until a matching ``release``."""
    holds = int(widget.property(_HOLDS) or 0)
    if holds == 0:  # remember the widget's own state (not its parent's)
        widget.setProperty(_WANTED,
                           not widget.testAttribute(Qt.WidgetAttribute.WA_ForceDisabled))
    widget.setProperty(_HOLDS, holds + 1)
    widget.setEnabled(False)


def release(widget: QWidget) -> None:
    if not isValid(widget):
        return
    holds = max(0, int(widget.property(_HOLDS) or 0) - 1)
    widget.setProperty(_HOLDS, holds)
    if holds == 0:
        widget.setEnabled(bool(widget.property(_WANTED)))


def is_held(widget: QWidget) -> bool:
    """True while an op that was given this widget in ``disable`` is running."""
    return int(widget.property(_HOLDS) or 0) > 0


def set_enabled(widget: QWidget, enabled: bool) -> None:
    """Enable or disable a widget that ops may hold: while held it stays disabled and takes
    this state when the last op answers."""
    if is_held(widget):
        widget.setProperty(_WANTED, enabled)
    else:
        widget.setEnabled(enabled)
