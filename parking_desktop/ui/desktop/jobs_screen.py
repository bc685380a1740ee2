"""Jobs (manager only): each scheduled job with its schedule, next run and last run (status,
duration, counts, error), "Run now", pause/resume, the history of runs, and a preview of any
driver's monthly report for any month.

Scheduler events arrive through ``JobEventBridge`` (job_events); the screen shows a notice
when a job starts, finishes or fails. Tables: job_models; dialogs: schedule_dialog and
report_preview."""

from __future__ import annotations

from typing import cast

from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QTableView, QWidget

from parking_desktop.jobs.events import CHANGED, FAILED, FINISHED, STARTED, JobEvent
from parking_desktop.jobs.scheduler import JobInfo
from parking_desktop.services.jobs.ledger import JobRunView
from parking_desktop.ui.common.holds import set_enabled
from parking_desktop.ui.common.table import ROW_ROLE
from parking_desktop.ui.common.widgets import ColumnFitter, configure_table, tool_button
from parking_desktop.ui.desktop.job_events import JobEventBridge
from parking_desktop.ui.desktop.job_models import JobsModel, RunsModel, counts_text
from parking_desktop.ui.desktop.report_preview import ReportPreviewDialog
from parking_desktop.ui.desktop.schedule_dialog import ScheduleDialog
from parking_desktop.ui.desktop.screen import Screen, SignedIn

HISTORY_LIMIT = 100


class JobsScreen(Screen):
    TITLE = "Jobs"
    SUBTITLE = "Scheduled e-mails and housekeeping: when they run and how they went"
    TOPICS = frozenset({"jobs"})
    AUTO_REFRESH_MS = 30_000  # runs on other machines show up too

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.scheduler = session.app.jobs.scheduler
        # The subtitle wraps rather than squeezing the four header buttons (clipped captions).
        self.subtitle_label.setWordWrap(True)
        actions = cast(QHBoxLayout, self.actions)
        self.preview_button = tool_button("Preview report…", "mail", self,
                                          tooltip="A driver's monthly report for any month")
        self.preview_button.clicked.connect(self.open_preview)
        self.schedule_button = tool_button("Schedule…", "calendar", self,
                                           tooltip="Change when the jobs run")
        self.schedule_button.clicked.connect(self.open_schedule)
        self.pause_button = tool_button("Pause", "deactivate", self)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.run_button = tool_button("Run now", "refresh", self, primary=True,
                                      tooltip="Run the selected job at once")
        self.run_button.clicked.connect(self.run_selected)
        for button in (self.preview_button, self.schedule_button, self.pause_button,
                       self.run_button):
            actions.addWidget(button)

        self.model = JobsModel(session, self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        configure_table(self.table, "Jobs", sortable=False)
        # Name, schedule, next run and state fit their text; Error takes the spare width.
        self.fitter = ColumnFitter(self.table, JobsModel.ERROR)
        self.table.setMaximumHeight(220)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self.body.addWidget(self.table)
        self.where = QLabel("", self)
        self.where.setWordWrap(True)
        self.where.setAccessibleName("Where jobs run")
        self.body.addWidget(self.where)
        self.history_title = QLabel("History of runs", self)
        self.history_title.setObjectName("cardTitle")
        self.body.addWidget(self.history_title)
        self.runs = RunsModel(session, self)
        self.history = QTableView(self)
        self.history.setModel(self.runs)
        configure_table(self.history, "History of runs", sortable=False)
        self.history_fitter = ColumnFitter(self.history, RunsModel.RESULT)
        self.body.addWidget(self.history, 1)

        self.bridge = JobEventBridge(self.scheduler, self)
        self.bridge.job_event.connect(self._on_event)
        self.preview: ReportPreviewDialog | None = None
        self.run_question: QMessageBox | None = None  # "Run now" of a job that mails drivers
        self._history_for: str | None = None  # the job whose runs are listed (None: all)
        self._selected()

    # --- loading -------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        scheduler, actor = self.scheduler, self.actor
        job = self.selected_job()
        name = job.name if job is not None else None

        def fetch() -> tuple[list[JobInfo], list[JobRunView], str | None]:
            return scheduler.jobs(actor), scheduler.history(actor, name, HISTORY_LIMIT), name

        self.call(fetch, on_success=self._show)

    def _show(self, result: tuple[list[JobInfo], list[JobRunView], str | None]) -> None:
        jobs, runs, history_for = result
        self._history_for = history_for
        chosen = self.selected_job()
        self.model.scheduling = self.scheduler.running
        self.model.set_rows(jobs)
        self.fitter.fit()
        row = next((i for i, j in enumerate(jobs) if chosen and j.name == chosen.name), 0)
        if jobs:
            self.table.selectRow(row)
        self._show_runs(runs)
        self.where.setText(
            "Jobs are scheduled on this computer; other desktops and workers on the same "
            "database never run a period twice." if self.scheduler.running else
            "Jobs are not scheduled on this computer (SCHEDULER_ENABLED is false, or the "
            "scheduler is stopped): a worker or another desktop runs them. Run now works here.")
        self._selected()
        self.loaded()

    def selected_job(self) -> JobInfo | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        job: JobInfo = rows[0].data(ROW_ROLE)
        return job

    def _selected(self) -> None:
        job = self.selected_job()
        set_enabled(self.run_button, job is not None and not job.running)
        set_enabled(self.pause_button, job is not None)
        self.pause_button.setText("Resume" if job is not None and job.paused else "Pause")
        self.pause_button.setAccessibleName(self.pause_button.text())
        if job is not None:
            self.history_title.setText(f"History of runs: {job.title}")
            if job.name != self._history_for:
                self._load_history(job.name)

    def _load_history(self, name: str) -> None:
        self._history_for = name
        self.call(self.scheduler.history, self.actor, name, HISTORY_LIMIT,
                  on_success=self._show_runs)

    def _show_runs(self, runs: list[JobRunView]) -> None:
        self.runs.set_rows(runs)
        self.history_fitter.fit()

    # --- actions -------------------------------------------------------------------------
    def run_selected(self) -> None:
        job = self.selected_job()
        if job is None:
            self.show_error("Choose a job first.")
            return
        # Jobs that e-mail drivers say first how many mails one click would send.
        self.call(self.app.jobs.run_now_audience, self.actor, job.name,
                  on_success=lambda count: self._ask_to_run(job, count),
                  disable=[self.run_button])

    def _ask_to_run(self, job: JobInfo, count: int | None) -> None:
        if count is None:
            self._run(job)
            return
        drivers = "1 driver" if count == 1 else f"{count:,} drivers"
        box = QMessageBox(QMessageBox.Icon.Question, f"Run {job.title} now",
                          f"{job.title} will e-mail {drivers} now." if count else
                          f"No driver is due a mail from {job.title} now; run it anyway?",
                          QMessageBox.StandardButton.NoButton, self)
        box.setAccessibleName(box.windowTitle())
        send = box.addButton(f"E-mail {drivers}" if count else "Run",
                             QMessageBox.ButtonRole.AcceptRole)
        send.setObjectName("primaryButton")
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)  # thousands of mails are never one Enter away
        box.setEscapeButton(cancel)
        box.finished.connect(lambda _r: self._answered(box.clickedButton() is send, job))
        self.run_question = box
        box.open()

    def _answered(self, run: bool, job: JobInfo) -> None:
        if run:
            self._run(job)

    def _run(self, job: JobInfo) -> None:
        self.banner.show_info(f"{job.title} is running…")
        self.call(self.scheduler.run_now, self.actor, job.name, on_success=self._ran,
                  on_error=self._run_failed, disable=[self.run_button])

    def _ran(self, run: JobRunView) -> None:
        if run.status == "failed":
            self.show_error(f"{run.job} failed: {run.error}")
        else:
            self.show_success(f"{run.job} finished: {counts_text(run.counts) or 'nothing to do'}.")
        self.refresh()

    def _run_failed(self, message: str) -> None:
        self.show_error(message)
        self.refresh()

    def toggle_pause(self) -> None:
        job = self.selected_job()
        if job is None:
            return
        action = self.scheduler.resume if job.paused else self.scheduler.pause
        self.call(action, self.actor, job.name, on_success=lambda _r: self.refresh(),
                  disable=[self.pause_button])

    def _on_event(self, event: JobEvent) -> None:
        if event.kind == FAILED:
            self.show_error(event.message)
        elif event.kind == FINISHED:
            self.show_success(event.message)
        elif event.kind in (STARTED, CHANGED):
            self.banner.show_info(event.message)
        if self.isVisible():
            self.refresh()
        else:
            self.data_changed(frozenset({"jobs"}))

    def open_preview(self) -> None:
        if self.preview is None:
            self.preview = ReportPreviewDialog(self.app, self.actor, self)
        self.preview.open()

    def open_schedule(self) -> ScheduleDialog:
        dialog = ScheduleDialog(self.app, self.actor, self)
        dialog.accepted.connect(lambda: self._rescheduled(dialog.result_value))
        dialog.open()
        return dialog

    def _rescheduled(self, changed: list[str] | None) -> None:
        if changed:
            self.show_success("New times saved: " + ", ".join(changed) + " rescheduled.")
        else:
            self.banner.show_info("The job times are unchanged.")
        self.refresh()

    def shutdown(self) -> None:
        self.bridge.detach()
        if self.preview is not None:
            self.preview.shutdown()
        super().shutdown()
