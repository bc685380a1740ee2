"""Jobs (manager only): each scheduled job with its schedule, next run
and last run (status, duration, counts, error), "Run now", pause/resume, the history of runs,
and a preview of any driver's monthly report for any month.

Scheduler events come from scheduler threads; ``JobEventBridge`` turns them into a Qt signal
(queued to the GUI thread), and the window shows a notice when a job finishes or fails."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any, cast

from PySide6.QtCore import QObject, QTime, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QTableView,
    QTextBrowser,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.jobs.events import CHANGED, FAILED, FINISHED, STARTED, JobEvent
from parking_desktop.jobs.scheduler import JobInfo, SchedulerService
from parking_desktop.services.jobs.ledger import JobRunView
from parking_desktop.services.mail.monthly_report import Month, MonthlyReport
from parking_desktop.services.views import UserView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.banner import Banner
from parking_desktop.ui.common.busy import BusyBar
from parking_desktop.ui.common.dialogs import ServiceDialog
from parking_desktop.ui.common.table import ROW_ROLE, Column, RowTableModel
from parking_desktop.ui.common.widgets import ColumnFitter, configure_table, tool_button
from parking_desktop.ui.desktop.screen import Screen, SignedIn
from parking_desktop.ui.worker import Operation, run_in_thread

HISTORY_LIMIT = 100
STATUS_COLOUR = {"failed": "#b91c1c", "completed": "#15803d", "running": "#1d4ed8"}
NOTICE_MS = 15_000


class JobEventBridge(QObject):
    """Scheduler events (any thread) -> ``job_event`` signal (delivered on the GUI thread)."""

    job_event = Signal(object)  # JobEvent

    def __init__(self, scheduler: SchedulerService, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._scheduler = scheduler
        scheduler.subscribe(self._listener)
        self.destroyed.connect(lambda *_: scheduler.unsubscribe(self._listener))

    def _listener(self, event: JobEvent) -> None:  # a scheduler or worker thread
        with contextlib.suppress(RuntimeError):  # the window went away meanwhile
            self.job_event.emit(event)

    def detach(self) -> None:
        self._scheduler.unsubscribe(self._listener)


def attach_job_notices(window: QMainWindow, app: App) -> JobEventBridge:
    """Show a status-bar notice in ``window`` whenever a job finishes or fails (whatever
    screen is open)."""
    bridge = JobEventBridge(app.jobs.scheduler, window)

    def notice(event: JobEvent) -> None:
        if event.kind in (FINISHED, FAILED):
            window.statusBar().showMessage(event.message, NOTICE_MS)

    bridge.job_event.connect(notice)
    return bridge


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()
                     if k != "attempt" and not isinstance(v, list | dict))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _state(job: JobInfo, scheduling: bool) -> str:
    if job.running:
        return "Running"
    if job.paused:
        return "Paused"
    return "Scheduled" if scheduling else "Not scheduled here"


class JobsModel(RowTableModel[JobInfo]):
    JOB, SCHEDULE, NEXT, STATE, LAST, DURATION, COUNTS, ERROR = range(8)

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        tz = session.tz
        self.scheduling = False

        def last(j: JobInfo) -> str:
            r = j.last_run
            return "never" if r is None else (
                f"{r.status} · {fmt.date_time(r.finished_at or r.started_at, tz)}")

        self.COLUMNS = [
            Column("Job", lambda j: j.title, tooltip=lambda j: j.description),
            Column("Schedule", lambda j: j.schedule),
            Column("Next run", lambda j: fmt.date_time(j.next_run, tz)),
            Column("State", lambda j: _state(j, self.scheduling)),
            Column("Last run", last, colour=lambda j: STATUS_COLOUR.get(
                j.last_run.status) if j.last_run else None),
            Column("Took", lambda j: _duration(j.last_run.duration_seconds)
                   if j.last_run else "—", numeric=True),
            Column("Counts", lambda j: _counts(j.last_run.counts) if j.last_run else "",
                   tooltip=lambda j: _counts(j.last_run.counts) if j.last_run else ""),
            Column("Error", lambda j: (j.last_run.error or "") if j.last_run else "",
                   tooltip=lambda j: (j.last_run.error or "") if j.last_run else ""),
        ]


class RunsModel(RowTableModel[JobRunView]):
    JOB, PERIOD, STATUS, STARTED, DURATION, HOST, RESULT = range(7)

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        tz = session.tz
        self.COLUMNS = [
            Column("Job", lambda r: r.job),
            Column("Period", lambda r: r.period_key),
            Column("Status", lambda r: r.status.capitalize() + (
                f" (attempt {r.attempt})" if r.attempt > 1 else ""),
                colour=lambda r: STATUS_COLOUR.get(r.status)),
            Column("Started", lambda r: fmt.date_time(r.started_at, tz)),
            Column("Took", lambda r: _duration(r.duration_seconds), numeric=True),
            Column("Machine", lambda r: r.host or "—"),
            Column("Counts / error", lambda r: r.error or _counts(r.counts),
                   tooltip=lambda r: r.error or _counts(r.counts)),
        ]


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
        self.run_button.setEnabled(job is not None and not job.running)
        self.pause_button.setEnabled(job is not None)
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
        self.banner.show_info(f"{job.title} is running…")
        self.run_button.setEnabled(False)
        self.call(self.scheduler.run_now, self.actor, job.name, on_success=self._ran,
                  on_error=self._run_failed)

    def _ran(self, run: JobRunView) -> None:
        if run.status == "failed":
            self.show_error(f"{run.job} failed: {run.error}")
        else:
            self.show_success(f"{run.job} finished: {_counts(run.counts) or 'nothing to do'}.")
        self.refresh()

    def _run_failed(self, message: str) -> None:
        self.show_error(message)
        self.refresh()

    def toggle_pause(self) -> None:
        job = self.selected_job()
        if job is None:
            return
        action = self.scheduler.resume if job.paused else self.scheduler.pause
        self.call(action, self.actor, job.name, on_success=lambda _r: self.refresh())

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


class ScheduleDialog(ServiceDialog):
    """When the jobs run (site time). Saved to the settings file; no restart needed."""

    def __init__(self, app: App, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent, "Job times", ok_text="Save",
                         subtitle=f"Times are in {app.settings.app_timezone}. The jobs are "
                                  "rescheduled as soon as you save.")
        self.app = app
        self.actor = actor
        values = app.jobs.schedule_values(actor)  # in memory: no I/O
        locked = set(app.jobs.locked_by_environment())
        rows = QFormLayout()
        self.editors: dict[str, QTimeEdit | QSpinBox] = {}
        for name, label in (("DAILY_REMINDER_TIME", "Daily reminders at"),
                            ("MONTHLY_REPORT_DAY", "Monthly reports on day"),
                            ("MONTHLY_REPORT_TIME", "Monthly reports at"),
                            ("CLEANUP_TIME", "Export cleanup at")):
            editor: QTimeEdit | QSpinBox
            if name == "MONTHLY_REPORT_DAY":
                editor = QSpinBox(self)
                editor.setRange(1, 28)
                editor.setValue(int(values[name]))
            else:
                editor = QTimeEdit(QTime.fromString(values[name], "HH:mm"), self)
                editor.setDisplayFormat("HH:mm")
            editor.setAccessibleName(label)
            if name in locked:
                editor.setEnabled(False)
                editor.setToolTip(f"{name} is set in the environment, which wins.")
            self.editors[name] = editor
            rows.addRow(label, editor)
        self.layout_.addLayout(rows)

    def values(self) -> dict[str, str]:
        out = {}
        for name, editor in self.editors.items():
            if isinstance(editor, QSpinBox):
                out[name] = str(editor.value())
            else:
                out[name] = editor.time().toString("HH:mm")
        return out

    def submit(self) -> None:
        self.run(self.app.jobs.save_schedule, self.actor, self.values())


def recent_months(today: date, count: int = 24) -> list[Month]:
    current = Month(today.year, today.month)
    return [current.shift(-i) for i in range(count)]


class ReportPreviewDialog(QDialog):
    """Any driver's monthly report for any month, rendered exactly as the mail's HTML."""

    shown = Signal()  # a report is on screen (tests wait on it)

    def __init__(self, app: App, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.actor = actor
        self.setWindowTitle("Monthly report preview")
        self.setAccessibleName("Monthly report preview")
        self.resize(760, 720)
        self._ops: set[Operation] = set()
        self.report: MonthlyReport | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.busy = BusyBar(self)
        outer.addWidget(self.busy)
        body = QVBoxLayout()
        body.setContentsMargins(20, 16, 20, 16)
        body.setSpacing(10)
        outer.addLayout(body, 1)
        bar = QHBoxLayout()
        self.driver = QComboBox(self)
        self.driver.setAccessibleName("Driver")
        self.driver.setEditable(True)
        self.driver.setMinimumWidth(260)
        editor = self.driver.lineEdit()
        if editor is not None:
            editor.setPlaceholderText("Driver")
        bar.addWidget(self.driver, 1)
        self.month = QComboBox(self)
        self.month.setAccessibleName("Month")
        today = app.ctx.clock.now().astimezone(app.ctx.tz).date()
        for month in recent_months(today):
            self.month.addItem(month.label, month.key)
        previous = app.jobs.previous_month()
        self.month.setCurrentIndex(max(0, self.month.findData(previous)))
        bar.addWidget(self.month)
        self.show_button = QPushButton("Show", self)
        self.show_button.setObjectName("primaryButton")
        self.show_button.setAccessibleName("Show report")
        self.show_button.setDefault(True)
        self.show_button.clicked.connect(self.load)
        bar.addWidget(self.show_button)
        body.addLayout(bar)
        self.banner = Banner(self)
        body.addWidget(self.banner)
        self.summary = QLabel("Choose a driver and a month.", self)
        self.summary.setAccessibleName("Report summary")
        self.summary.setWordWrap(True)
        body.addWidget(self.summary)
        self.browser = QTextBrowser(self)
        self.browser.setAccessibleName("Report as e-mailed")
        self.browser.setOpenExternalLinks(False)
        body.addWidget(self.browser, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        body.addWidget(buttons)
        self._call(app.users.search, actor, role=Role.DRIVER, limit=1000,
                   on_success=self._drivers)

    def _call(self, fn: Any, *args: Any, on_success: Any, **kwargs: Any) -> None:
        self.busy.push()
        holder: list[Operation] = []

        def finished() -> None:
            self.busy.pop()
            if holder:
                self._ops.discard(holder[0])

        op = run_in_thread(fn, *args, **kwargs, on_success=on_success,
                           on_error=self.banner.show_error, on_finished=finished)
        holder.append(op)
        self._ops.add(op)

    def _drivers(self, page: Any) -> None:
        current = self.driver.currentData()
        self.driver.clear()
        users: list[UserView] = list(page.items)
        for user in users:
            label = user.username + (f" — {user.full_name}" if user.full_name else "")
            self.driver.addItem(label, user.id)
        if current is not None:
            self.choose_driver(int(current))

    def choose_driver(self, user_id: int) -> None:
        index = self.driver.findData(user_id)
        if index >= 0:
            self.driver.setCurrentIndex(index)

    def choose_month(self, key: str) -> None:
        index = self.month.findData(key)
        if index >= 0:
            self.month.setCurrentIndex(index)

    def load(self) -> None:
        self.banner.clear()
        index = self.driver.findText(self.driver.currentText())
        user_id = self.driver.itemData(index) if index >= 0 else None
        if user_id is None:
            self.banner.show_error("Choose a driver from the list.")
            return
        self._call(self.app.jobs.preview_report, self.actor, int(user_id),
                   str(self.month.currentData()), on_success=self._show)

    def _show(self, result: tuple[MonthlyReport, str]) -> None:
        report, html = result
        self.report = report
        if report.has_activity:
            self.summary.setText(
                f"{report.display_name}, {report.month.label}: {report.bookings} bookings, "
                f"{fmt.money(report.total_spent)} spent, {report.hours_parked} hours parked"
                + (f", mostly at {report.most_used_lot}." if report.most_used_lot else "."))
        else:
            self.summary.setText(f"{report.display_name} did not park in {report.month.label}"
                                 " (the short version of the mail).")
        self.browser.setHtml(html)
        self.shown.emit()

    def shutdown(self) -> None:
        for op in list(self._ops):
            op.discard()
        self._ops.clear()
