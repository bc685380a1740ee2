"""Cache & performance (manager only): how the machine's cache is
doing (entries, size, hits, misses, hit ratio, whether it is in use) and how long each service
operation takes (count, median, 95th percentile, maximum), with "Clear cache".

Every figure is fetched through the worker pool; the screen reloads itself every few seconds
while it is visible."""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QTableView,
    QWidget,
)

from parking_desktop.services.cache.caching import CacheInfo
from parking_desktop.services.timing import OperationTiming
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.common.table import SORT_ROLE, Column, RowTableModel
from parking_desktop.ui.common.widgets import (
    Card,
    ColumnFitter,
    FigureTile,
    configure_table,
    tool_button,
)
from parking_desktop.ui.desktop.screen import Screen, SignedIn

TILES = [  # key, caption, accent
    ("entries", "Entries", "slate"),
    ("size", "Size on disk", "slate"),
    ("hits", "Hits", "green"),
    ("misses", "Misses", "amber"),
    ("ratio", "Hit ratio", "blue"),
]


def duration(ms: float) -> str:
    """A duration for people: microseconds below a millisecond, else milliseconds/seconds."""
    if ms < 1:
        return f"{ms * 1000:.0f} µs"
    if ms < 1000:
        return f"{ms:.1f} ms"
    return f"{ms / 1000:.2f} s"


def size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


class TimingsModel(RowTableModel[OperationTiming]):
    OPERATION, CALLS, ERRORS, MEDIAN, P95, MAX = range(6)
    COLUMNS = [
        Column("Operation", lambda t: t.name,
               tooltip=lambda t: ("the database work behind a cache miss"
                                  if t.name.endswith(":uncached") else "as callers saw it")),
        Column("Calls", lambda t: f"{t.count:,}", sort_value=lambda t: t.count, numeric=True),
        Column("Errors", lambda t: f"{t.errors:,}", sort_value=lambda t: t.errors,
               numeric=True, colour=lambda t: "#b91c1c" if t.errors else None),
        Column("Median", lambda t: duration(t.median_ms), sort_value=lambda t: t.median_ms,
               numeric=True),
        Column("95th percentile", lambda t: duration(t.p95_ms), sort_value=lambda t: t.p95_ms,
               numeric=True),
        Column("Maximum", lambda t: duration(t.max_ms), sort_value=lambda t: t.max_ms,
               numeric=True),
    ]


class CacheScreen(Screen):
    TITLE = "Cache & performance"
    SUBTITLE = "How often screens are served from this computer's cache, and how long " \
               "each operation takes"
    AUTO_REFRESH_MS = 5_000

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.info: CacheInfo | None = None
        self.refresh_button = tool_button("Refresh", "refresh", self, tooltip="Reload now")
        self.refresh_button.clicked.connect(self.refresh)
        self.clear_button = tool_button("Clear cache", "cancel", self, danger=True,
                                        tooltip="Remove every cached entry on this computer")
        self.clear_button.clicked.connect(self.clear_cache)
        self.header_actions.addWidget(self.refresh_button)
        self.header_actions.addWidget(self.clear_button)

        tiles = QGridLayout()
        tiles.setHorizontalSpacing(12)
        self.tiles: dict[str, FigureTile] = {}
        for position, (key, caption, accent) in enumerate(TILES):
            tile = FigureTile(caption, accent, self)
            self.tiles[key] = tile
            tiles.addWidget(tile, 0, position)
        self.body.addLayout(tiles)

        self.state = QLabel("", self)
        self.state.setWordWrap(True)
        self.state.setAccessibleName("Cache status")
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(self.state)

        card = Card("Operation timings", self)
        note = QLabel("Every program on this computer over the last day. "
                      "\u201c:uncached\u201d rows are the database work behind a cache miss.",
                      card)
        note.setWordWrap(True)
        note.setObjectName("pageSubtitle")
        card.content.addWidget(note)
        self.model = TimingsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView(card)
        self.table.setModel(self.proxy)
        configure_table(self.table, "Operation timings")
        # Figures fit their headers ("95th percentile" in full) and sit together; the
        # operation name takes the spare width.
        self.fitter = ColumnFitter(self.table, TimingsModel.OPERATION)
        self.fitter.fit()
        self.table.sortByColumn(TimingsModel.OPERATION, Qt.SortOrder.AscendingOrder)
        card.content.addWidget(self.table, 1)
        self.body.addWidget(card, 1)

    # --- loading -------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        cache, actor = self.app.cache, self.actor

        def fetch() -> tuple[CacheInfo, list[OperationTiming]]:
            return cache.info(actor), cache.timings_report()

        self.call(fetch, on_success=self._show, disable=[self.refresh_button])

    def _show(self, result: tuple[CacheInfo, list[OperationTiming]]) -> None:
        info, timings = result
        self.info = info
        self.tiles["entries"].set_value(f"{info.entries:,}")
        self.tiles["size"].set_value(size(info.size_bytes))
        self.tiles["hits"].set_value(f"{info.hits:,}")
        self.tiles["misses"].set_value(f"{info.misses:,}",
                                       f"{info.uncached:,} served uncached" if info.uncached
                                       else "")
        looked_up = info.hits + info.misses
        self.tiles["ratio"].set_value(f"{info.hit_ratio * 100:.1f} %" if looked_up else "—",
                                      f"of {looked_up:,} lookups" if looked_up else "")
        state = info.message if info.ok else f"Not in use: {info.message}"
        self.state.setText(f"{state}\nOther computers: {info.sync}")
        self.state.setProperty("problem", not info.ok)
        self.model.set_rows(timings)
        self.fitter.fit()
        self.loaded()

    # --- actions -------------------------------------------------------------------------
    def clear_cache(self) -> None:
        if not dialogs.confirm(self, "Clear cache",
                               "Remove every cached entry on this computer? Screens will "
                               "load from the database until the cache fills again.",
                               "Clear cache", destructive=True):
            return
        def cleared(removed: int) -> None:
            self.show_success(f"Cache cleared: {removed:,} "
                              f"entr{'y' if removed == 1 else 'ies'} removed.")
            self.refresh()

        self.call(self.app.cache.clear, self.actor, on_success=cleared,
                  disable=[self.clear_button])
