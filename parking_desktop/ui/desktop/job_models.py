"""The Jobs screen's two tables: the scheduled jobs, and the history of runs."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo

from PySide6.QtWidgets import QWidget

from parking_desktop.jobs.runner import MANUAL_PREFIX
from parking_desktop.jobs.scheduler import JobInfo
from parking_desktop.services.jobs.ledger import JobRunView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.table import Column, RowTableModel
from parking_desktop.ui.desktop.screen import SignedIn

STATUS_COLOUR = {"failed": "#b91c1c", "completed": "#15803d", "running": "#1d4ed8"}


def counts_text(counts: Mapping[str, object]) -> str:
    """A run's counts in words ("queued 3, skipped 1"); lists and nested details left out."""
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()
                     if k not in ("attempt", "by") and not isinstance(v, list | dict))


def _key_time(stamp: str, tz: tzinfo, today: date) -> str:
    """'20261206T134024' (UTC, as the runner writes it) as '13:40', or '5 Dec 13:40'."""
    try:
        moment = datetime.strptime(stamp, "%Y%m%dT%H%M%S").replace(tzinfo=UTC).astimezone(tz)
    except ValueError:
        return ""
    return f"{moment:%H:%M}" if moment.date() == today else f"{moment.day} {moment:%b %H:%M}"


def period_text(run: JobRunView, tz: tzinfo, today: date) -> str:
    """The run's period in words: "Run now by manager1 at 13:40" instead of the ledger's
    internal key ("manual-20261206T134024-1259b4"); dates and months as they are."""
    key = run.period_key
    for prefix, words in ((MANUAL_PREFIX, "Run now"), ("at-", "Ran")):
        if key.startswith(prefix):
            when = _key_time(key[len(prefix):].split("-")[0], tz, today)
            by = str(run.counts.get("by") or "")
            text = words + (f" by {by}" if by else "")
            return f"{text} at {when}" if when else text
    return key


def machine_text(host: str | None, here: str | None = None) -> str:
    """'vm:13098' (host name and process) as "this computer" or the machine's name."""
    if not host:
        return "—"
    name = host.rsplit(":", 1)[0] if host.rsplit(":", 1)[-1].isdigit() else host
    return "this computer" if name == (here or socket.gethostname()) else name


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def state_text(job: JobInfo, scheduling: bool) -> str:
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
            Column("State", lambda j: state_text(j, self.scheduling)),
            Column("Last run", last, colour=lambda j: STATUS_COLOUR.get(
                j.last_run.status) if j.last_run else None),
            Column("Took", lambda j: duration_text(j.last_run.duration_seconds)
                   if j.last_run else "—", numeric=True),
            Column("Counts", lambda j: counts_text(j.last_run.counts) if j.last_run else "",
                   tooltip=lambda j: counts_text(j.last_run.counts) if j.last_run else ""),
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
            Column("Period", lambda r: period_text(r, tz, session.now().astimezone(tz).date()),
                   tooltip=lambda r: r.period_key),
            Column("Status", lambda r: r.status.capitalize() + (
                f" (attempt {r.attempt})" if r.attempt > 1 else ""),
                colour=lambda r: STATUS_COLOUR.get(r.status)),
            Column("Started", lambda r: fmt.date_time(r.started_at, tz)),
            Column("Took", lambda r: duration_text(r.duration_seconds), numeric=True),
            Column("Machine", lambda r: machine_text(r.host), tooltip=lambda r: r.host or ""),
            Column("Counts / error", lambda r: r.error or counts_text(r.counts),
                   tooltip=lambda r: r.error or counts_text(r.counts)),
        ]
