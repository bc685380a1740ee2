"""Table models: a base class with column definitions and ``set_rows()``, and a paged variant
that fetches rows incrementally off the GUI thread (a million rows never freeze the window).

Subclasses list their columns once, in order, and name the positions as constants::

    class LotsModel(RowTableModel[LotView]):
        NAME, PRICE = range(2)
        COLUMNS = [Column("Name", lambda lot: lot.name), Column("Price", ..., numeric=True)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, SupportsInt, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor

from parking_desktop.services.views import Page
from parking_desktop.ui.common.ops import Failure, Op, OpHandle

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex

ROW_ROLE = int(Qt.ItemDataRole.UserRole.value) + 1  # the row object itself
SORT_ROLE = int(Qt.ItemDataRole.UserRole.value) + 2  # sorts correctly (numbers, datetimes)
DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole.value)
ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole.value)
FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
LEFT = int((Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter).value)
RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
_NO_INDEX = QModelIndex()
_COLOURS: dict[str, QColor] = {}


def _colour(name: str) -> QColor:
    if name not in _COLOURS:
        _COLOURS[name] = QColor(name)
    return _COLOURS[name]


@dataclass(frozen=True)
class Column(Generic[R]):
    title: str
    text: Callable[[R], str]
    sort_value: Callable[[R], Any] | None = None  # defaults to the text
    numeric: bool = False  # right-aligned
    server_sort: str | None = None  # sort key understood by the service (paged models)
    tooltip: Callable[[R], str] | None = None
    colour: Callable[[R], str | None] | None = None  # foreground colour name


class RowTableModel(QAbstractTableModel, Generic[R]):
    COLUMNS: Sequence[Column[Any]] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []
        self._texts: list[tuple[str, ...]] = []

    # --- data in ---------------------------------------------------------------------------
    def format_rows(self, rows: Sequence[R]) -> list[tuple[str, ...]]:
        """Display texts of every column. Pure Python (no Qt), so paged models run it on the
        worker thread: painting then only looks strings up."""
        columns = self.COLUMNS
        return [tuple(column.text(row) for column in columns) for row in rows]

    def set_rows(self, rows: Sequence[R], texts: list[tuple[str, ...]] | None = None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._texts = texts if texts is not None else self.format_rows(self._rows)
        self.endResetModel()

    def append_rows(self, rows: Sequence[R], texts: list[tuple[str, ...]] | None = None) -> None:
        if not rows:
            return
        first = len(self._rows)
        self.beginInsertRows(_NO_INDEX, first, first + len(rows) - 1)
        self._rows.extend(rows)
        self._texts.extend(texts if texts is not None else self.format_rows(rows))
        self.endInsertRows()

    def replace_row(self, row: int, value: R) -> None:
        """One row changed (e.g. progress): repaint it without resetting the view."""
        self._rows[row] = value
        self._texts[row] = self.format_rows([value])[0]
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_at(self, row: int) -> R:
        return self._rows[row]

    # --- QAbstractTableModel ------------------------------------------------------------------
    def rowCount(self, parent: Index = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        # Called for every visible cell and role on each paint: plain int compares and lookups.
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if r >= len(self._rows) or c >= len(self.COLUMNS):
            return None
        if role in (DISPLAY, ACCESSIBLE):
            return self._texts[r][c]
        column = self.COLUMNS[c]
        if role == ALIGNMENT:
            return RIGHT if column.numeric else LEFT
        if role == FOREGROUND:
            if column.colour is None:
                return None
            name = column.colour(self._rows[r])
            return _colour(name) if name else None
        if role == TOOLTIP:
            return column.tooltip(self._rows[r]) if column.tooltip is not None else None
        if role == SORT_ROLE:
            row = self._rows[r]
            value = column.sort_value(row) if column.sort_value else self._texts[r][c]
            return _sortable(value)
        if role == ROW_ROLE:
            return self._rows[r]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.COLUMNS):
            column = self.COLUMNS[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return column.title
            if role == Qt.ItemDataRole.TextAlignmentRole:
                horizontal = (Qt.AlignmentFlag.AlignRight if column.numeric
                              else Qt.AlignmentFlag.AlignLeft)
                return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return section + 1
        return None


def _sortable(value: Any) -> Any:
    """Qt sorts QVariants; give it numbers or text, never None or Decimal."""
    if value is None:
        return ""
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    try:
        return float(value)  # Decimal
    except (TypeError, ValueError):
        return str(value).lower()


Fetch = Callable[[int, int, str, bool], Page[Any]]


class PagedTableModel(RowTableModel[R]):
    """Rows arrive a page at a time as the view scrolls (canFetchMore/fetchMore), fetched with
    ``fetch(offset, limit, sort_key, descending)`` on the worker pool. Sorting by a column asks
    the service for a new order (``Column.server_sort``); a newer query drops older results."""

    loading_changed = Signal(bool)
    total_changed = Signal(int)  # -1 while unknown
    failed = Signal(str)
    page_loaded = Signal()

    def __init__(self, parent: QObject | None = None, *, page_size: int = 200) -> None:
        super().__init__(parent)
        self.page_size = page_size
        self._fetch: Fetch | None = None
        self._count: Callable[[], SupportsInt] | None = None
        self._sort_key = ""
        self._descending = True
        self._sort_column = -1
        self._has_more = False
        self._generation = 0
        self._in_flight: OpHandle | None = None
        self._count_op: OpHandle | None = None
        self.total = -1
        self.count_result: object = None  # what count() answered, as given (it may say more)

    # --- configuration ------------------------------------------------------------------------
    def set_query(self, fetch: Fetch, count: Callable[[], SupportsInt] | None = None) -> None:
        """A new query: clear the rows and load the first page (and the total, if ``count``)."""
        self._fetch = fetch
        self._count = count
        self.reload()

    def set_default_sort(self, column: int, descending: bool = True) -> None:
        self._sort_column = column
        self._sort_key = self.COLUMNS[column].server_sort or ""
        self._descending = descending

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return (Qt.SortOrder.DescendingOrder if self._descending
                else Qt.SortOrder.AscendingOrder)

    @property
    def loading(self) -> bool:
        return self._in_flight is not None

    def reload(self) -> None:
        self._generation += 1
        self._cancel()
        self._has_more = False  # a view reacting to the reset must not fetch the old query
        self.set_rows([])
        self.count_result = None
        self._set_total(-1)
        if self._fetch is not None:
            self._has_more = True
            self._load_page()
            if self._count is not None:
                generation, count = self._generation, self._count
                self._count_op = Op(
                    lambda _work: count(),
                    on_success=lambda total: self._count_done(generation, total),
                    on_failure=lambda f: self._count_failed(generation, f.message),
                    owner=self,
                ).start()

    def discard(self) -> None:
        """Stop caring about results in flight (the screen is closing)."""
        self._generation += 1
        self._cancel()

    # --- Qt incremental fetching -----------------------------------------------------------
    def canFetchMore(self, parent: Index = _NO_INDEX) -> bool:
        return not parent.isValid() and self._has_more and self._in_flight is None

    def fetchMore(self, parent: Index = _NO_INDEX) -> None:
        if self.canFetchMore(parent):
            self._load_page()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.COLUMNS) or not self.COLUMNS[column].server_sort:
            return
        key = self.COLUMNS[column].server_sort or ""
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) == (self._sort_key, self._descending):
            return
        self._sort_column, self._sort_key, self._descending = column, key, descending
        self.reload()

    # --- internals --------------------------------------------------------------------------
    def _load_page(self) -> None:
        assert self._fetch is not None
        if self._in_flight is not None:
            return
        generation = self._generation
        offset = len(self._rows)
        fetch = self._fetch

        limit, key, descending = self.page_size, self._sort_key, self._descending

        def fetch_and_format(_work: object) -> tuple[Page[R], list[tuple[str, ...]]]:
            page = fetch(offset, limit, key, descending)  # worker thread
            return page, self.format_rows(page.items)

        def failed(failure: Failure) -> None:
            self._page_failed(generation, failure.message)

        self._in_flight = Op(
            fetch_and_format,
            on_success=lambda result: self._page_done(generation, *result),
            on_failure=failed, owner=self,
        ).start()
        self.loading_changed.emit(True)

    def _page_done(self, generation: int, page: Page[R],
                   texts: list[tuple[str, ...]]) -> None:
        if generation != self._generation:
            return
        # Rows first, then "not loading": a view asks canFetchMore() while rows are inserted,
        # and must not start a fetch at the old offset.
        self._has_more = len(page.items) >= self.page_size
        self.append_rows(page.items, texts)
        self._in_flight = None
        if page.total >= 0 and self._count is None:
            self._set_total(page.total)
        elif not self._has_more and self.total < 0:
            self._set_total(len(self._rows))
        self.loading_changed.emit(False)
        self.page_loaded.emit()

    def _page_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._in_flight = None
        self._has_more = False
        self.loading_changed.emit(False)
        self.failed.emit(message)

    def _count_done(self, generation: int, total: SupportsInt) -> None:
        if generation == self._generation:
            self._count_op = None
            self.count_result = total
            self._set_total(int(total))

    def _count_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self._count_op = None
            self.failed.emit(message)

    def _set_total(self, total: int) -> None:
        if total != self.total:
            self.total = total
            self.total_changed.emit(total)

    def _cancel(self) -> None:
        was_loading = self._in_flight is not None
        for op in (self._in_flight, self._count_op):
            if op is not None:
                op.discard()
        self._in_flight = None
        self._count_op = None
        if was_loading:
            self.loading_changed.emit(False)
