"""Export jobs on SQLite and PostgreSQL: one open job per requester, roles, cancel (it stops the
query even while the database is still working), save, expiry and the refusal after it,
clean-up, crash recovery, shutdown, history and the manager's list."""

from __future__ import annotations

import os
import stat
import time
import uuid
from pathlib import Path

import pytest

from parking_desktop.adapters import csv_export
from parking_desktop.adapters.csv_export import temporary_path
from parking_desktop.adapters.db.models import ExportJob
from parking_desktop.bootstrap import App, build_app
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.exports.exports import INTERRUPTED, ExportExpiredError
from parking_desktop.services.exports.runner import CLOSED_REASON, export_path
from parking_desktop.services.exports.scope import ExportScope
from tests.conftest import MakeUser, Unchanged, uid
from tests.integration.export_support import actor, cells, export_bytes, finished


def activity_types(app: App) -> list[str]:
    return [a.activity_type for a in app.activity.history(SYSTEM, limit=500).items]


@pytest.fixture
def endless_query(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the export's SELECT one that would run for many minutes: on SQLite it computes
    before the first row (only an interrupt stops it); on PostgreSQL rows trickle out slowly."""
    if app.db.is_sqlite:
        sql = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
               "WHERE x < 4000000000) SELECT max(x), 'slow'{more} FROM c")
    else:
        sql = ("SELECT i, pg_sleep(0.002)::text{more} FROM generate_series(1, 100000000) i")

    def endless(dialect: str, flt: object, options: csv_export.CsvOptions,
                span: object = None) -> str:
        # As many columns as the real SELECT (PostgreSQL's writer copies it out).
        return sql.format(more=", NULL" * (len(options.header) - 2))

    def endless_lines(flt: object, options: csv_export.CsvOptions, span: object = None) -> str:
        return sql.format(more="")  # SQLite's writer: one finished line per row

    monkeypatch.setattr(csv_export, "build_select", endless)
    monkeypatch.setattr(csv_export, "build_lines_select", endless_lines)


# The endless query runs for many minutes: an export that ends within this hang guard was
# stopped, not finished. Not a speed promise.
STOPPED_GUARD_S = 30


def wait_for(app: App, job_id: str, status: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while app.exports.status(SYSTEM, job_id).status != status:
        assert time.monotonic() < deadline, f"job never became {status}"
        time.sleep(0.02)


# --- one open job per requester -------------------------------------------------------------
def test_one_open_export_per_requester(
    app: App, manager: Actor, driver: Actor, unchanged: Unchanged
) -> None:
    first = app.exports.request(manager, ExportScope.everything(), start=False)
    assert app.exports.status(manager, first).status == "pending"
    with unchanged(), pytest.raises(ConflictError, match="already have an export in progress"):
        app.exports.request(manager, ExportScope.everything())
    # Someone else is not held up.
    other = app.exports.request(driver, ExportScope.driver(uid(driver)))
    assert finished(app, other).status == "completed"
    assert app.exports.run(first).status == "completed"
    again = app.exports.request(manager, ExportScope.everything())
    assert finished(app, again).status == "completed"


# --- roles ------------------------------------------------------------------------------------
def test_driver_may_export_only_their_own_history(
    app: App, manager: Actor, driver: Actor, make_user: MakeUser, unchanged: Unchanged
) -> None:
    other = make_user("otherdriver", Role.DRIVER)
    lot = app.lots.create(manager, name="L", address="x", pin_code="123", price_per_hour="1",
                          number_of_spots=1)
    for scope in (ExportScope.everything(), ExportScope.lot(lot.id),
                  ExportScope.driver(uid(other)), ExportScope.shift()):
        with unchanged(), pytest.raises(PermissionDeniedError, match="only export their own"):
            app.exports.request(driver, scope)
    view = finished(app, app.exports.request(driver, ExportScope(kind="driver")))
    assert view.scope["user_id"] == uid(driver) and view.label == "History of driver1"


def test_attendant_exports_only_their_own_shift(
    app: App, manager: Actor, attendant: Actor, make_user: MakeUser, clock: FixedClock,
    unchanged: Unchanged,
) -> None:
    colleague = make_user("attendant2", Role.ATTENDANT)
    lot = app.lots.create(manager, name="L", address="x", pin_code="123", price_per_hour="2",
                          number_of_spots=9).id
    app.parking.check_in(attendant, lot, "V1")  # 1: in 09:00 (before the shift), out in it
    app.parking.check_in(colleague, lot, "V2")  # 2: someone else's, in and out
    app.parking.check_in(manager, lot, "V3")  # 3: the manager's check-in, our check-out
    clock.advance(hours=1)
    app.parking.check_out(attendant, "V1")
    clock.advance(hours=11, minutes=30)  # 21:30: the shift began at 09:30
    app.parking.check_out(attendant, "V3")
    app.parking.check_out(colleague, "V2")
    app.parking.check_in(attendant, lot, "V4")  # 4
    for scope in (ExportScope.everything(), ExportScope.lot(lot),
                  ExportScope.driver(uid(attendant))):
        with unchanged(), pytest.raises(PermissionDeniedError, match="their own shift"):
            app.exports.request(attendant, scope)
    rows = cells(export_bytes(app, attendant, ExportScope.shift()))
    assert [(row[0], row[4]) for row in rows[1:]] == [("1", "V1"), ("3", "V3"), ("4", "V4")]


def test_others_cannot_see_cancel_or_save_a_job(
    app: App, manager: Actor, driver: Actor, make_user: MakeUser, tmp_path: Path
) -> None:
    other = make_user("otherdriver", Role.DRIVER)
    job = app.exports.request(driver, ExportScope.driver(uid(driver)), start=False)
    with pytest.raises(PermissionDeniedError):
        app.exports.status(other, job)
    with pytest.raises(PermissionDeniedError):
        app.exports.cancel(other, job)
    with pytest.raises(PermissionDeniedError):
        app.exports.save(other, job, tmp_path / "x.csv")
    with pytest.raises(PermissionDeniedError):
        app.exports.jobs(driver)
    assert app.exports.status(manager, job).status == "pending"  # managers see every job
    with pytest.raises(NotFoundError):
        app.exports.status(manager, str(uuid.uuid4()))
    app.exports.run(job)


# --- cancel -----------------------------------------------------------------------------------
def test_cancel_a_waiting_export(app: App, manager: Actor) -> None:
    job = app.exports.request(manager, ExportScope.everything(), start=False)
    view = app.exports.cancel(manager, job)
    assert view.status == "cancelled"
    assert app.exports.run(job).status == "cancelled"  # the runner does not start it
    assert list(app.settings.upload_folder.iterdir()) == []
    with pytest.raises(ConflictError, match="only an export that is waiting or running"):
        app.exports.cancel(manager, job)
    assert "csv_export_cancelled" in activity_types(app)


@pytest.mark.usefixtures("endless_query")
def test_cancel_stops_a_running_export_while_its_query_runs(app: App, manager: Actor) -> None:
    job = app.exports.request(manager, ExportScope.everything())
    wait_for(app, job, "processing")
    time.sleep(0.3)  # let the query get going
    assert app.exports.cancel(manager, job).status == "cancelled"
    assert app.exports.wait(job, timeout=STOPPED_GUARD_S), "the query was not interrupted"
    view = app.exports.status(manager, job)
    assert view.status == "cancelled" and view.file_path is None
    assert list(app.settings.upload_folder.iterdir()) == []  # no file, no temporary file
    types = activity_types(app)
    assert "csv_export_cancelled" in types and "csv_export_completed" not in types


@pytest.mark.usefixtures("endless_query")
def test_cancel_at_the_very_start_still_stops_the_query(app: App, manager: Actor) -> None:
    # However early the cancel lands (before the query has begun), the export stops.
    for _ in range(3):
        job = app.exports.request(manager, ExportScope.everything())
        app.exports.cancel(manager, job)
        assert app.exports.wait(job, timeout=STOPPED_GUARD_S), \
            "the export kept running after a cancel"
        assert app.exports.status(manager, job).status == "cancelled"
    assert list(app.settings.upload_folder.iterdir()) == []


@pytest.mark.usefixtures("endless_query")
def test_a_cancel_made_by_another_process_is_noticed(app: App, manager: Actor) -> None:
    job = app.exports.request(manager, ExportScope.everything())
    wait_for(app, job, "processing")
    with app.db.write() as session:  # what another machine's cancel does to the row
        session.query(ExportJob).filter_by(job_id=job).update({"status": "cancelled"})
    assert app.exports.wait(job, timeout=STOPPED_GUARD_S), "the other process's cancel was missed"
    assert app.exports.status(manager, job).status == "cancelled"
    assert list(app.settings.upload_folder.iterdir()) == []


@pytest.mark.usefixtures("endless_query")
def test_closing_the_program_fails_a_running_export_saying_why(app: App, manager: Actor) -> None:
    job = app.exports.request(manager, ExportScope.everything())
    wait_for(app, job, "processing")
    app.exports.shutdown()
    view = app.exports.status(manager, job)
    assert (view.status, view.error_message) == ("failed", CLOSED_REASON)
    assert list(app.settings.upload_folder.iterdir()) == []


# --- save, expiry, clean-up -----------------------------------------------------------------
def test_save_copies_the_file_privately(app: App, manager: Actor, tmp_path: Path) -> None:
    view = finished(app, app.exports.request(manager, ExportScope.everything()))
    target = tmp_path / "chosen" / "my export.csv"
    with pytest.raises(ValidationError, match="does not exist"):
        app.exports.save(manager, view.job_id, target)
    target.parent.mkdir()
    assert app.exports.save(manager, view.job_id, target) == target
    assert view.file_path is not None
    assert target.read_bytes() == Path(view.file_path).read_bytes()
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["my export.csv"]
    assert "csv_export_downloaded" in activity_types(app)


def test_saving_a_file_that_is_not_here_is_explained(
    app: App, manager: Actor, tmp_path: Path
) -> None:
    view = finished(app, app.exports.request(manager, ExportScope.everything()))
    assert view.file_path is not None
    Path(view.file_path).unlink()  # e.g. made on another desktop sharing the database
    with pytest.raises(NotFoundError, match="not on this computer"):
        app.exports.save(manager, view.job_id, tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_saving_an_unfinished_export_is_refused(app: App, manager: Actor, tmp_path: Path) -> None:
    job = app.exports.request(manager, ExportScope.everything(), start=False)
    with pytest.raises(ConflictError, match="only a finished export can be saved"):
        app.exports.save(manager, job, tmp_path / "x.csv")
    app.exports.cancel(manager, job)
    with pytest.raises(ConflictError, match="cancelled"):
        app.exports.save(manager, job, tmp_path / "x.csv")
    assert not (tmp_path / "x.csv").exists()


def test_expired_export_is_refused_then_cleaned_up(
    app: App, manager: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    view = finished(app, app.exports.request(manager, ExportScope.everything()))
    assert view.file_path is not None
    hours = app.settings.csv_export_expiry_hours
    clock.advance(hours=hours, minutes=-1)
    app.exports.save(manager, view.job_id, tmp_path / "in-time.csv")
    assert app.exports.cleanup(manager).expired == 0
    clock.advance(minutes=1)
    status = app.exports.status(manager, view.job_id)
    assert status.expired and not status.can_save
    assert app.exports.history(manager)[0].expired
    with pytest.raises(ExportExpiredError, match=r"expired on .* request a new export"):
        app.exports.save(manager, view.job_id, tmp_path / "late.csv")
    assert not (tmp_path / "late.csv").exists()
    with pytest.raises(PermissionDeniedError):
        app.exports.cleanup(Actor(user_id=None, username="x", role=Role.ATTENDANT))
    summary = app.exports.cleanup(manager)
    assert (summary.expired, summary.files_deleted) == (1, 1)
    assert not Path(view.file_path).exists()
    assert app.exports.status(manager, view.job_id).status == "expired"
    with pytest.raises(ExportExpiredError):
        app.exports.save(manager, view.job_id, tmp_path / "late.csv")


# --- crash recovery -------------------------------------------------------------------------
def _orphan(app: App, requester: Actor, status: str) -> str:
    """A job row as a crashed process leaves it, with its half-written temporary file."""
    job_id = str(uuid.uuid4())
    with app.db.write() as session:
        session.add(ExportJob(job_id=job_id, requested_by=requester.user_id,
                              scope={"kind": "all", "label": "All reservations"}, status=status,
                              progress=40, row_count=400, total_rows=1000,
                              created_at=app.ctx.clock.now()))
    temporary_path(export_path(app.settings.upload_folder, job_id)).write_text("half")
    return job_id


def test_jobs_left_running_by_a_crash_are_marked_failed_at_start(
    app: App, manager: Actor, make_user: MakeUser, clock: FixedClock, fast_hasher: object
) -> None:
    assert app.exports is not None  # this process's exports started (and recovered) first
    crashed = _orphan(app, manager, "processing")
    never_started = _orphan(app, make_user("driver2", Role.DRIVER), "pending")
    # A job another live process is running holds its lease: it must be left alone.
    alive = _orphan(app, make_user("driver3", Role.DRIVER), "processing")
    lease = app.exports.leases.acquire(alive)
    try:
        restarted = build_app(app.settings, clock=clock, hasher=fast_hasher)  # type: ignore[arg-type]
        try:
            for job in (crashed, never_started):
                view = restarted.exports.status(SYSTEM, job)
                assert (view.status, view.error_message) == ("failed", INTERRUPTED)
                assert not temporary_path(export_path(app.settings.upload_folder, job)).exists()
            assert restarted.exports.status(SYSTEM, alive).status == "processing"
            assert activity_types(restarted).count("csv_export_failed") == 2
            # The requester can ask again straight away.
            job = restarted.exports.request(manager, ExportScope.everything())
            assert finished(restarted, job).status == "completed"
        finally:
            restarted.close()
    finally:
        lease.release()


# --- history and the manager's list ---------------------------------------------------------
def test_history_is_the_last_ten_and_managers_page_through_all(
    app: App, manager: Actor, driver: Actor, clock: FixedClock
) -> None:
    ids = []
    for _ in range(12):
        ids.append(app.exports.request(driver, ExportScope.driver(uid(driver)), start=False))
        app.exports.run(ids[-1])
        clock.advance(minutes=1)
    history = app.exports.history(driver)
    assert [v.job_id for v in history] == ids[::-1][:10]
    assert all(v.status == "completed" and not v.expired for v in history)
    cancelled = app.exports.request(manager, ExportScope.everything(), start=False)
    app.exports.cancel(manager, cancelled)
    everything = app.exports.jobs(manager, limit=5)
    assert everything.total == 13 and len(everything.items) == 5
    assert everything.items[0].job_id == cancelled
    second = app.exports.jobs(manager, offset=5, limit=5)
    assert [v.job_id for v in second.items] == ids[::-1][4:9]
    assert app.exports.jobs(manager, status="cancelled").total == 1
    assert app.exports.jobs(manager, status="completed").total == 12
    clock.advance(hours=app.settings.csv_export_expiry_hours)
    assert app.exports.jobs(manager, status="expired").total == 12  # due, not yet cleaned
    assert app.exports.jobs(manager, status="completed").total == 0
    with pytest.raises(ValidationError):
        app.exports.jobs(manager, status="done")


def test_driver_without_email_cannot_ask_for_a_mailed_history(app: App) -> None:
    quiet = actor(app, "quiet", Role.DRIVER)
    with pytest.raises(ValidationError, match="no e-mail address"):
        app.exports.email_my_history(quiet)
