"""Small presentational widgets: cards, figure tiles, a search box, labelled values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.ui.common.icons import ON_COLOUR, tinted_icon
from parking_desktop.ui.common.qtapp import icon


class Card(QFrame):
    """A white, rounded panel with an optional title; put content in ``content``."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.setAccessibleName(title or "Panel")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(10)
        self.header = QHBoxLayout()
        self.title_label = QLabel(title, self)
        self.title_label.setObjectName("cardTitle")
        self.header.addWidget(self.title_label, 1)
        if title:
            layout.addLayout(self.header)
        self.content = QVBoxLayout()
        self.content.setSpacing(8)
        layout.addLayout(self.content, 1)


class FigureTile(QFrame):
    """One key figure: a caption, a big number and an optional note."""

    def __init__(self, caption: str, accent: str = "blue", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tile")
        self.setProperty("accent", accent)
        self.setAccessibleName(caption)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 9, 14, 9)
        layout.setSpacing(1)
        self.caption = QLabel(caption, self)
        self.caption.setObjectName("tileLabel")
        layout.addWidget(self.caption)
        self.value = QLabel("—", self)
        self.value.setObjectName("tileValue")
        layout.addWidget(self.value)
        self.note = QLabel("", self)
        self.note.setObjectName("tileNote")
        self.note.setWordWrap(True)  # a long note takes two lines rather than widen the tile
        layout.addWidget(self.note)

    def set_value(self, value: str, note: str = "") -> None:
        self.value.setText(value)
        self.note.setText(note)
        self.setAccessibleDescription(f"{value} {note}".strip())

    @property
    def text(self) -> str:
        return self.value.text()


class SearchBox(QLineEdit):
    """A line edit that announces its text shortly after typing stops (and at once on Enter)."""

    search = Signal(str)

    def __init__(self, placeholder: str, parent: QWidget | None = None,
                 delay_ms: int = 300) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setAccessibleName(placeholder)
        self.setClearButtonEnabled(True)
        self.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.setMinimumWidth(320)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._emit)
        self.textChanged.connect(lambda _t: self._timer.start())
        self.returnPressed.connect(self._emit)

    def _emit(self) -> None:
        self._timer.stop()
        self.search.emit(self.text().strip())


def tool_button(text: str, icon_name: str, parent: QWidget, *, primary: bool = False,
                danger: bool = False, tooltip: str = "") -> QPushButton:
    # On a blue or red button the slate icon would vanish: drawn in white there.
    shown = tinted_icon(icon_name, ON_COLOUR) if primary or danger else icon(icon_name)
    button = QPushButton(shown, text, parent)
    button.setAccessibleName(text)
    if primary:
        button.setObjectName("primaryButton")
    elif danger:
        button.setObjectName("dangerButton")
    if tooltip:
        button.setToolTip(tooltip)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button


class DetailGrid(QWidget):
    """Key/value rows ("Vehicle  AB123CD")."""

    def __init__(self, keys: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(16)
        grid.setVerticalSpacing(8)
        self.values: dict[str, QLabel] = {}
        for row, key in enumerate(keys):
            caption = QLabel(key, self)
            caption.setObjectName("detailKey")
            value = QLabel("—", self)
            value.setObjectName("detailValue")
            value.setWordWrap(True)
            value.setAccessibleName(key)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(caption, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, row, 1)
            self.values[key] = value
        grid.setColumnStretch(1, 1)

    def set(self, key: str, text: str) -> None:
        self.values[key].setText(text)

    def get(self, key: str) -> str:
        return self.values[key].text()


def configure_table(view: QTableView, name: str, *, sortable: bool = True) -> None:
    """The look and behaviour every table shares."""
    view.setAccessibleName(name)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setSortingEnabled(sortable)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(34)
    view.horizontalHeader().setHighlightSections(False)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setMinimumSectionSize(60)
    # Fit columns to the first rows only: measuring every row of a big page costs seconds.
    view.horizontalHeader().setResizeContentsPrecision(40)
    view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
    view.setTabKeyNavigation(False)  # Tab leaves the table (keyboard users)


class ColumnFitter(QObject):
    """Columns sized to their contents, and one chosen column absorbs the difference with the
    table's width: it takes the spare width of a wide window (rather than the last column,
    which would put a gap before e.g. a cost) and gives up width (down to ``minimum``, its
    text elided) in a narrow one, so the other columns stay readable without scrolling.

    ``shrink`` are further columns that give up width after the stretch column (names, lots);
    ``optional`` columns are hidden when the table is still too narrow; ``floors`` give a column
    a sample text it must always hold (a date, the longest status), since only the first rows
    are measured; no column grows past ``cap`` (a 100-character name is elided, not shown
    whole at the expense of the numbers)."""

    PADDING = 20  # cell padding and the sort indicator's room

    def __init__(self, view: QTableView, stretch_column: int, minimum: int = 140, *,
                 shrink: Sequence[int] = (), optional: Sequence[int] = (),
                 floors: Mapping[int, Sequence[str]] | None = None, cap: int = 320) -> None:
        super().__init__(view)
        self.view = view
        self.stretch_column = stretch_column
        self.minimum = minimum
        self.shrink = [stretch_column, *(c for c in shrink if c != stretch_column)]
        self.optional = list(optional)
        self.floors = dict(floors or {})
        self.cap = cap
        self._natural = 0
        self._content: dict[int, int] = {}
        self._widths: dict[int, int] = {}
        self._fitted_rows = False
        view.horizontalHeader().setStretchLastSection(False)
        view.viewport().installEventFilter(self)

    def fit(self) -> None:
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column in self.optional:
            self.view.setColumnHidden(column, False)
        self.view.resizeColumnsToContents()
        metrics = self.view.fontMetrics()
        bold = QFont(header.font())
        bold.setBold(True)
        header_metrics = QFontMetrics(bold)
        model = self.view.model()
        for column in range(header.count()):
            width = min(header.sectionSize(column), self.cap)
            title = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
            width = max(width, header_metrics.horizontalAdvance(title) + self.PADDING)
            for sample in self.floors.get(column, ()):
                width = max(width, metrics.horizontalAdvance(sample) + self.PADDING)
            header.resizeSection(column, width)
        self._content = {column: header.sectionSize(column) for column in self.shrink}
        self._widths = {column: header.sectionSize(column) for column in self.optional}
        self._natural = header.length()
        self._apply()

    def fit_once(self) -> None:
        """Fit the first time the table has rows; later pages (scrolled in) keep the widths,
        so the columns do not jump under the user."""
        if not self._fitted_rows and self.view.model().rowCount() > 0:
            self._fitted_rows = True
            self.fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self._natural:
            self._apply()
        return False

    def _apply(self) -> None:
        header = self.view.horizontalHeader()
        available = self.view.viewport().width()
        for column in self.optional:
            self.view.setColumnHidden(column, False)
        hidden: list[int] = []
        for optional in [None, *self.optional]:
            if optional is not None:  # still too wide with every name shortened: hide one
                self.view.setColumnHidden(optional, True)
                hidden.append(optional)
            excess = self._natural - sum(self._widths[c] for c in hidden) - available
            if self._shrink(excess):
                break
        if header.length() < available:  # room left (e.g. after hiding): the names take it
            stretch = next((c for c in self.shrink if not self.view.isColumnHidden(c)), None)
            if stretch is not None:
                header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)

    def _shrink(self, excess: int) -> bool:
        """Give the shrinking columns their content width less ``excess`` (each down to
        ``minimum``); False when that is not enough."""
        header = self.view.horizontalHeader()
        for column, width in self._content.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)
        for column in self.shrink:
            if excess <= 0:
                break
            if self.view.isColumnHidden(column):
                continue
            width = self._content[column]
            smaller = max(min(self.minimum, width), width - excess)
            excess -= width - smaller
            header.resizeSection(column, smaller)
        return excess <= 0
