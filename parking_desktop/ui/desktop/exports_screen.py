"""Exports: ask for a CSV export (scope, dates, anonymise), watch it run, cancel it, and save the
finished file through the platform's save dialog. Managers see everyone's exports (by status, in
pages) and can clean up expired files; an attendant exports their own shift.

The export runs in the service's background thread; this screen follows its own export with an
Op (export_op) whose progress signals move the bar, and reloads the list when the service
announces a change (other people's exports: every few seconds). The save dialog is behind
``choose_save_path`` (tests replace it: a native dialog cannot be driven offscreen)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

from PySide6.QtCore import QItemSelection, QSettings, QStandardPaths
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QWidget,
)

from parking_desktop.services.exports.cleanup import CleanupSummary
from parking_desktop.services.exports.exports import ExportJobView
from parking_desktop.services.exports.scope import ExportForm, FieldError
from parking_desktop.services.views import LotView, Page
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.elide import elide
from parking_desktop.ui.common.holds import set_enabled
from parking_desktop.ui.common.ops import Failure, Op
from parking_desktop.ui.common.table import ROW_ROLE
from parking_desktop.ui.common.widgets import Card, ColumnFitter, configure_table, tool_button
from parking_desktop.ui.desktop.export_op import export_and_follow, with_progress
from parking_desktop.ui.desktop.export_table import (
    STATUS_TEXT,
    ExportsModel,
    ProgressDelegate,
    file_suffix,
    rows_text,
    suggested_filename,
)
from parking_desktop.ui.desktop.screen import Screen, SignedIn

PAGE_SIZE = 50
PREFERENCES_FILE = "desktop-preferences.ini"
LAST_FOLDER_KEY = "exports/last_folder"
FILTERS = [("All exports", None), ("Running", "processing"), ("Waiting", "pending"),
           ("Ready", "completed"), ("Expired", "expired"), ("Failed", "failed"),
           ("Cancelled", "cancelled")]
SCOPES_MANAGER = [("Everything", "all"), ("One lot", "lot"), ("One driver's history", "driver"),
                  ("One driver's personal data (ZIP)", "data")]
SCOPES_ATTENDANT = [("My shift (the last 12 hours)", "shift")]

SavePathChooser = Callable[[QWidget, str], str | None]


def native_save_dialog(parent: QWidget, start: str) -> str | None:
    """The platform's save dialog on ``start`` (a folder and the suggested file name)."""
    kinds = ("ZIP files (*.zip);;All files (*)" if start.endswith(".zip")
             else "CSV files (*.csv);;All files (*)")
    path, _filter = QFileDialog.getSaveFileName(parent, "Save export as", start, kinds)
    return path or None


def default_save_folder() -> Path:
    """The user's Documents, else Downloads, else home: never the program's own folder (a
    relative name would open wherever the program was started)."""
    for location in (QStandardPaths.StandardLocation.DocumentsLocation,
                     QStandardPaths.StandardLocation.DownloadLocation,
                     QStandardPaths.StandardLocation.HomeLocation):
        folder = QStandardPaths.writableLocation(location)
        if folder and Path(folder).is_dir():
            return Path(folder)
    return Path.home()


class ExportsScreen(Screen):
    TITLE = "Exports"
    SUBTITLE = "CSV files of reservations, made in the background; save them where you like"
    TOPICS = frozenset({"exports"})
    AUTO_REFRESH_MS = 5_000  # exports asked for elsewhere (their progress is in the database)

    # The seam for the save dialog: (parent, start folder / suggested name) -> path or None.
    choose_save_path: SavePathChooser = staticmethod(native_save_dialog)

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.is_manager = session.actor.is_manager
        self._lots_loaded = False
        self._offset = 0
        self._total = 0
        self.last_saved: Path | None = None
        if not self.is_manager:
            self.subtitle_label.setText("The check-ins and check-outs of your shift as a CSV "
                                        "file")
        self.cleanup_button = tool_button("Clean up now", "refresh", self,
                                          tooltip="Delete expired export files now")
        self.cleanup_button.clicked.connect(self.clean_up)
        self.cleanup_button.setVisible(self.is_manager)
        cast(QHBoxLayout, self.actions).addWidget(self.cleanup_button)

        self._build_request_card()
        self._build_current_card()
        self._build_table()
        self._export: Op[ExportJobView] | None = None  # this screen's export, followed
        self._latest: tuple[int, int] | None = None  # its newest progress (done, total)
        self._asking = False  # the request itself is on its way (busy bar on)

    # --- layout -------------------------------------------------------------------------
    def _build_request_card(self) -> None:
        card = Card("New export", self)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        self.scope = QComboBox(card)
        self.scope.setAccessibleName("What to export")
        for label, kind in (SCOPES_MANAGER if self.is_manager else SCOPES_ATTENDANT):
            self.scope.addItem(label, kind)
        self.scope.currentIndexChanged.connect(lambda _i: self._scope_changed())
        form.addRow("Export", self.scope)
        self.lot = QComboBox(card)
        self.lot.setAccessibleName("Lot")
        self.lot_label = QLabel("Lot", card)
        form.addRow(self.lot_label, self.lot)
        self.driver = QLineEdit(card)
        self.driver.setAccessibleName("Driver's username")
        self.driver.setPlaceholderText("username")
        self.driver_label = QLabel("Driver", card)
        form.addRow(self.driver_label, self.driver)
        dates = QHBoxLayout()
        self.date_from = QLineEdit(card)
        self.date_from.setAccessibleName("From date")
        self.date_from.setPlaceholderText("from YYYY-MM-DD (optional)")
        self.date_to = QLineEdit(card)
        self.date_to.setAccessibleName("To date")
        self.date_to.setPlaceholderText("to YYYY-MM-DD (optional)")
        dates.addWidget(self.date_from)
        dates.addWidget(self.date_to)
        self.dates_label = QLabel("Reserved", card)
        form.addRow(self.dates_label, dates)
        self.anonymise = QCheckBox("Anonymise (drivers as pseudonyms, vehicle numbers masked)",
                                   card)
        self.anonymise.setAccessibleName("Anonymise")
        form.addRow("", self.anonymise)
        card.content.addLayout(form)
        row = QHBoxLayout()
        row.addStretch(1)
        self.export_button = tool_button("Export", "export", card, primary=True)
        self.export_button.clicked.connect(self.request_export)
        row.addWidget(self.export_button)
        card.content.addLayout(row)
        self.body.addWidget(card)
        self._scope_changed()

    def _build_current_card(self) -> None:
        self.current_card = Card("Your export in progress", self)
        line = QHBoxLayout()
        self.current_label = QLabel("", self.current_card)
        self.current_label.setAccessibleName("Export in progress")
        line.addWidget(self.current_label, 1)
        self.cancel_current_button = tool_button("Cancel export", "cancel", self.current_card,
                                                 danger=True)
        self.cancel_current_button.clicked.connect(self.cancel_current)
        line.addWidget(self.cancel_current_button)
        self.current_card.content.addLayout(line)
        self.progress = QProgressBar(self.current_card)
        self.progress.setAccessibleName("Export progress")
        self.progress.setRange(0, 100)
        self.current_card.content.addWidget(self.progress)
        self.current_card.hide()
        self.current_job: ExportJobView | None = None
        self.body.addWidget(self.current_card)

    def _build_table(self) -> None:
        bar = QHBoxLayout()
        bar.setSpacing(6)  # eight controls in a row: they must fit at 1024x768
        self.list_title = QLabel("All exports" if self.is_manager else "Your last ten exports",
                                 self)
        self.list_title.setObjectName("sectionLabel")
        bar.addWidget(self.list_title)
        self.filter = QComboBox(self)
        self.filter.setAccessibleName("Show")
        for label, status in FILTERS:
            self.filter.addItem(label, status)
        self.filter.activated.connect(lambda _i: self._first_page())
        self.filter.setVisible(self.is_manager)
        bar.addWidget(self.filter)
        bar.addStretch(1)
        self.page_label = QLabel("", self)
        self.page_label.setAccessibleName("Page")
        bar.addWidget(self.page_label)
        self.previous_button = QPushButton("Previous", self)
        self.next_button = QPushButton("Next", self)
        for button, step in ((self.previous_button, -PAGE_SIZE), (self.next_button, PAGE_SIZE)):
            button.setAccessibleName(f"{button.text()} page")
            button.clicked.connect(lambda _c=False, s=step: self._turn(s))
            button.setVisible(self.is_manager)
            bar.addWidget(button)
        self.save_button = tool_button("Save as…", "save", self, primary=True)
        self.save_button.clicked.connect(self.save_selected)
        bar.addWidget(self.save_button)
        self.cancel_button = tool_button("Cancel", "cancel", self)
        self.cancel_button.setAccessibleName("Cancel selected export")
        self.cancel_button.clicked.connect(self.cancel_selected)
        bar.addWidget(self.cancel_button)
        self.body.addLayout(bar)
        self.model = ExportsModel(self.session, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        configure_table(self.table, "Exports", sortable=False)
        self.table.setItemDelegateForColumn(ExportsModel.PROGRESS, ProgressDelegate(self.table))
        moment = fmt.date_time(self.session.now(), self.session.tz)
        self.fitter = ColumnFitter(
            self.table, ExportsModel.WHAT, 160,
            floors={ExportsModel.REQUESTED: [moment], ExportsModel.EXPIRES: [moment],
                    ExportsModel.STATUS: list(STATUS_TEXT.values()),
                    ExportsModel.PROGRESS: ["100%" + " " * 24]})
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.table.doubleClicked.connect(lambda _i: self.save_selected())
        self.body.addWidget(self.table, 1)
        self.error = QLabel("", self)
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Details of the selected export")
        self.body.addWidget(self.error)
        self._selected()

    # --- loading ------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        exports, actor = self.app.exports, self.actor
        status, offset = self.filter.currentData(), self._offset
        manager = self.is_manager
        need_lots = manager and not self._lots_loaded
        lots = self.app.lots

        def fetch() -> tuple[Page[ExportJobView], list[ExportJobView], list[LotView] | None]:
            mine = exports.history(actor)
            if manager:
                page = exports.jobs(actor, status=status, offset=offset, limit=PAGE_SIZE)
            else:
                page = Page(items=mine, total=len(mine), offset=0, limit=len(mine) or 1)
            return page, mine[:1], (lots.search(include_archived=True) if need_lots else None)

        self.call(fetch, on_success=self._show)

    def _show(self, result: tuple[Page[ExportJobView], list[ExportJobView],
                                  list[LotView] | None]) -> None:
        page, own, lots = result
        if lots is not None:
            self._fill_lots(lots)
        selected = self.selected()
        self.model.set_rows(page.items)
        self.fitter.fit()
        self._total = page.total
        if selected is not None:
            for row, job in enumerate(self.model.rows()):
                if job.job_id == selected.job_id:
                    self.table.selectRow(row)
        self._show_page_info(len(page.items))
        current = own[0] if own and own[0].is_open else None
        if current is not None and self._latest is not None and self._following():
            current = with_progress(current, *self._latest)  # newer than the database's
            self._show_row(current)
        self._show_current(current)
        self._selected()
        self.loaded()

    def _fill_lots(self, lots: list[LotView]) -> None:
        self._lots_loaded = True
        self.lot.clear()
        for lot in lots:
            self.lot.addItem(lot.name + (" (archived)" if lot.archived_at else ""), lot.id)

    def _show_page_info(self, shown: int) -> None:
        if not self.is_manager:
            self.page_label.setText("")
            return
        if self._total == 0:
            self.page_label.setText("No exports")
        else:
            self.page_label.setText(f"{self._offset + 1} to {self._offset + shown} of "
                                    f"{self._total}")
        set_enabled(self.previous_button, self._offset > 0)
        set_enabled(self.next_button, self._offset + shown < self._total)

    def _show_current(self, job: ExportJobView | None) -> None:
        self.current_job = job
        self.current_card.setVisible(job is not None)
        if job is None:
            return
        if job.status != "processing":
            state = "waiting to start"
        elif job.total_rows is None:
            state = "counting the rows…"
        else:
            state = f"{rows_text(job)} rows"
        self.current_label.setText(f"{job.label} — {state}")
        self.progress.setValue(job.progress)

    def _following(self) -> bool:
        return self._export is not None and self._export.running

    def _show_row(self, job: ExportJobView) -> None:
        for row, shown in enumerate(self.model.rows()):
            if shown.job_id == job.job_id:
                self.model.replace_row(row, job)

    def _first_page(self) -> None:
        self._offset = 0
        self.refresh()

    def _turn(self, step: int) -> None:
        self._offset = max(0, self._offset + step)
        self.refresh()

    # --- the form -------------------------------------------------------------------------
    def _scope_changed(self) -> None:
        kind = self.scope.currentData()
        self.lot.setVisible(kind == "lot")
        self.lot_label.setVisible(kind == "lot")
        self.driver.setVisible(kind in ("driver", "data"))
        self.driver_label.setVisible(kind in ("driver", "data"))

    def request_export(self) -> None:
        self.banner.clear()
        self._mark_field(None)
        kind = self.scope.currentData()
        lot_id = self.lot.currentData()
        # Instant answers for an empty required field; the service decides everything else.
        if kind == "lot" and lot_id is None:
            self.show_error("Choose the lot to export.")
            return
        if kind in ("driver", "data") and not self.driver.text().strip():
            self.show_error("Enter the username of the driver whose history to export.")
            self.driver.setFocus()
            return
        form = ExportForm(kind=kind, lot_id=lot_id, driver=self.driver.text(),
                          date_from=self.date_from.text(), date_to=self.date_to.text(),
                          anonymize=self.anonymise.isChecked())
        self._latest = None
        self._asking = True
        self.busy.push()
        op = Op(export_and_follow(self.app.exports, self.actor, form),
                on_progress=self._export_progress, on_success=self._export_ended,
                on_failure=self._request_failed, on_cancelled=self._stop_asking,
                owner=self, disable=[self.export_button], long_running=True)
        self._export = self.start(op, busy=False)

    def _stop_asking(self) -> None:
        if self._asking:
            self._asking = False
            self.busy.pop()

    def _export_progress(self, done: int, total: int, _text: str) -> None:
        if self._asking:  # the first report: the job exists
            self._stop_asking()
            self.banner.show_info("Export started. You can keep working; it appears below "
                                  "when it is ready.")
            self._offset = 0
            self.refresh()
        if total <= 0:
            return
        self._latest = (done, total)
        job = self.current_job
        if job is not None and job.is_open:
            job = with_progress(job, done, total)
            self._show_current(job)
            self._show_row(job)

    def _export_ended(self, job: ExportJobView) -> None:
        self._stop_asking()
        self._latest = None
        if job.status == "failed":
            self.show_error(job.error_message or "The export failed.")
        self.refresh()

    def _request_failed(self, failure: Failure) -> None:
        self._stop_asking()
        if isinstance(failure.error, FieldError):
            self._mark_field(failure.error.field)
        self.show_error(failure.message)

    def _mark_field(self, name: str | None) -> None:
        """Mark the field a refusal is about (and put the cursor there); None clears."""
        fields: dict[str, QWidget] = {"driver": self.driver, "date_from": self.date_from,
                                      "date_to": self.date_to, "lot_id": self.lot}
        for field_name, widget in fields.items():
            invalid = field_name == name
            if bool(widget.property("invalid")) != invalid:
                widget.setProperty("invalid", invalid)
                widget.style().unpolish(widget)
                widget.style().polish(widget)
            if invalid:
                widget.setFocus()

    # --- actions on jobs ------------------------------------------------------------------
    def selected(self) -> ExportJobView | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return cast(ExportJobView, rows[0].data(ROW_ROLE))

    def select_job(self, job_id: str) -> bool:
        for row, job in enumerate(self.model.rows()):
            if job.job_id == job_id:
                self.table.selectRow(row)
                return True
        return False

    def _selected(self, *_args: QItemSelection) -> None:
        job = self.selected()
        own_or_manager = job is not None and (self.is_manager or
                                              job.requested_by == self.actor.user_id)
        set_enabled(self.save_button, job is not None and job.can_save)
        set_enabled(self.cancel_button, job is not None and job.is_open and own_or_manager)
        if job is None:
            self.error.setText("")
        elif job.expired:
            self.error.setText("This export has expired; request a new one.")
        elif job.error_message:
            self.error.setText(job.error_message)
        else:
            self.error.setText("")

    def save_selected(self) -> None:
        job = self.selected()
        if job is None:
            self.show_error("Select an export to save.")
            return
        if not job.can_save:
            self.show_error("This export has expired; request a new one." if job.expired
                            else "Only a finished export can be saved.")
            return
        chosen = self.choose_save_path(
            self, str(self.save_folder() / suggested_filename(job, self.session)))
        if not chosen:
            return
        target = Path(chosen)
        if target.suffix == "":
            target = target.with_suffix(file_suffix(job))
        self.banner.clear()
        self.call(self.app.exports.save, self.actor, job.job_id, target,
                  on_success=lambda path: self._saved(path, job), disable=[self.save_button])

    def save_folder(self) -> Path:
        """Where the save dialog opens: the folder of the last save, if it still exists."""
        last = str(self.preferences().value(LAST_FOLDER_KEY, "") or "")
        if last and Path(last).is_dir():
            return Path(last)
        return default_save_folder()

    def preferences(self) -> QSettings:
        """This desktop's own preferences, kept beside the program's data."""
        path = self.app.settings.data_dir / PREFERENCES_FILE
        return QSettings(str(path), QSettings.Format.IniFormat)

    def _saved(self, path: Path, job: ExportJobView) -> None:
        self.last_saved = path
        preferences = self.preferences()
        preferences.setValue(LAST_FOLDER_KEY, str(path.parent))
        preferences.sync()
        self.show_success(f"Saved {rows_text(job)} rows to {path}.")

    def cancel_selected(self) -> None:
        job = self.selected()
        if job is not None and self._confirm_cancel(job):
            self._cancel(job.job_id)

    def cancel_current(self) -> None:
        if self.current_job is not None and self._confirm_cancel(self.current_job):
            self._cancel(self.current_job.job_id)

    def _confirm_cancel(self, job: ExportJobView) -> bool:
        return dialogs.confirm(
            self, "Cancel export",
            f"Stop the export '{elide(job.label)}'? The rows written so far are thrown away; "
            "you can ask for it again later.", "Cancel export", destructive=True)

    def _cancel(self, job_id: str) -> None:
        self.banner.clear()
        self.call(self.app.exports.cancel, self.actor, job_id,
                  on_success=lambda _view: self._cancelled(),
                  disable=[self.cancel_button, self.cancel_current_button])

    def _cancelled(self) -> None:
        self.banner.show_info("Export cancelled.")
        self.refresh()

    def clean_up(self) -> None:
        self.banner.clear()
        self.call(self.app.exports.cleanup, self.actor, on_success=self._cleaned,
                  disable=[self.cleanup_button])

    def _cleaned(self, summary: CleanupSummary) -> None:
        self.show_success(f"Clean-up done: {summary.expired} exports expired, "
                          f"{summary.files_deleted} files deleted.")
        self.refresh()

    def shutdown(self) -> None:
        if self._export is not None:
            self._export.cancel()  # stop following; the export itself goes on
        super().shutdown()
