"""No-shows and overstays on both databases: the job cancels exactly the bookings past the hold
(at the boundary too) through the driver's cancel path, frees their spots (the cached lot
figures follow), tells their drivers by e-mail through a real SMTP server, runs once per
5-minute period, and runs from the command line and from ``worker --once``. Overstays are
listed for staff only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from parking_desktop.adapters.db.models import Reservation
from parking_desktop.bootstrap import App
from parking_desktop.cli.main import run
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import PermissionDeniedError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.parking.no_shows import overstays
from tests.integration.jobs_support import activity, add_driver, job_runs, outbox_rows
from tests.mail_support import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
HOLD = timedelta(minutes=30)  # RESERVATION_HOLD_MINUTES' default
SECOND = timedelta(seconds=1)


def as_driver(app: App, user_id: int, name: str) -> Actor:
    return Actor(user_id=user_id, username=name, role=Role.DRIVER)


def status_of(app: App, reservation_id: int) -> str:
    with app.db.read() as session:
        row = session.get(Reservation, reservation_id)
        assert row is not None
        return row.status


def test_the_job_cancels_exactly_the_stale_bookings_and_tells_their_drivers(
    mail_app: App, clock: FixedClock, manager: Actor, smtp_server: SmtpServer
) -> None:
    app = mail_app
    lot = app.lots.create(
        manager,
        name="Gare",
        address="1 Quai",
        pin_code="75010",
        price_per_hour="2.00",
        number_of_spots=6,
    )
    start = clock.now()
    people = {
        n: add_driver(app, n, email=n != "noaddress", full_name=n.title())
        for n in ("early", "boundary", "late", "parked", "noaddress")
    }

    def book(name: str, at: datetime, plate: str) -> int:
        clock.set(at)
        return app.parking.reserve(as_driver(app, people[name], name), lot.id, plate).id

    early = book("early", start, "EARLY1")
    walk_in = app.parking.reserve(manager, lot.id, "WALKIN1").id  # no account, no mail
    no_address = book("noaddress", start + SECOND, "NOADDR1")
    parked = book("parked", start + SECOND, "PARKED1")
    boundary = book("boundary", start + 10 * SECOND, "EDGE1")
    late = book("late", start + 11 * SECOND, "LATE1")
    clock.set(start + 20 * SECOND)
    app.parking.park(as_driver(app, people["parked"], "parked"), parked)
    assert app.lots.get(lot.id).available == 0  # read once: now the cached figure

    # The hold ran out exactly for "boundary" (made 30 minutes ago to the second).
    clock.set(start + 10 * SECOND + HOLD)
    view = app.jobs.scheduler.runner.run_due("no_shows", clock.now())

    assert view is not None and view.status == "completed"
    assert view.counts == {
        "found": 4,
        "cancelled": 4,
        "mailed": 2,
        "not_mailed": 2,
        "gone": 0,
        "attempt": 1,
    }
    cancelled = {early, walk_in, no_address, boundary}
    for reservation_id in cancelled:
        assert status_of(app, reservation_id) == "cancelled"
    assert (status_of(app, parked), status_of(app, late)) == ("active", "reserved")
    # The spots are free again, in the database and in the cached figures the screens read.
    after = app.lots.get(lot.id)
    assert (after.available, after.reserved, after.occupied) == (4, 1, 1)
    logged = activity(app, "booking_no_show")
    assert {a.activity_data["reservation_id"] for a in logged} == cancelled
    assert all(a.activity_data["hold_minutes"] == 30 and a.user_id is None for a in logged)

    report = app.email.outbox.flush()
    assert (report.sent, report.failed) == (2, 0)
    got = {m.rcpt_tos[0]: m for m in smtp_server.received}
    assert set(got) == {"early@example.com", "boundary@example.com"}
    mail = got["early@example.com"]
    assert mail.message["Subject"] == "Booking cancelled: EARLY1 at Gare"
    text = " ".join(mail.part("text/plain").split())
    assert "had not parked within 30 minutes" in text and "Nothing was charged" in text
    assert [r.idempotency_key for r in outbox_rows(app, "no_show")] == [
        f"no_show:{early}",
        f"no_show:{boundary}",
    ]

    # A freed spot can be booked again at once.
    assert app.parking.reserve(manager, lot.id, "NEXT1").status == "reserved"


def test_exactly_once_per_period_and_a_new_period_finds_only_new_no_shows(
    mail_app: App, clock: FixedClock, manager: Actor, smtp_server: SmtpServer
) -> None:
    app = mail_app
    lot = app.lots.create(
        manager,
        name="Port",
        address="2 Quai",
        pin_code="75011",
        price_per_hour="2.00",
        number_of_spots=3,
    )
    uid = add_driver(app, "sleepy")
    first = app.parking.reserve(as_driver(app, uid, "sleepy"), lot.id, "SLEEPY1").id
    clock.advance(minutes=31)
    runner = app.jobs.scheduler.runner
    due = clock.now()

    one = runner.run_due("no_shows", due)
    two = runner.run_due("no_shows", due)  # the same slot fired again (another machine)

    assert one is not None and one.counts["cancelled"] == 1
    assert two is None
    runs = job_runs(app, "no_shows")
    assert len(runs) == 1 and runs[0].period_key == one.period_key
    assert one.period_key.endswith("Z") and one.period_key[-3:-1] in {
        f"{m:02d}" for m in range(0, 60, 5)
    }
    # The slot is done: the catch-up sweep does not run it again.
    assert "no_shows" not in {r.job for r in app.jobs.scheduler.catch_up()}

    second = app.parking.reserve(manager, lot.id, "WALK2").id
    clock.advance(minutes=35)
    three = runner.run_due("no_shows", clock.now())
    assert three is not None and three.period_key != one.period_key
    assert three.counts["cancelled"] == 1 and status_of(app, second) == "cancelled"
    assert status_of(app, first) == "cancelled"
    assert len(activity(app, "booking_no_show")) == 2
    app.email.outbox.flush()
    assert [
        m.rcpt_tos[0]
        for m in smtp_server.received
        if m.message["Subject"].startswith("Booking cancelled")
    ] == ["sleepy@example.com"]


def test_a_car_that_parked_after_the_look_keeps_its_booking(
    app: App, clock: FixedClock, manager: Actor
) -> None:
    lot = app.lots.create(
        manager,
        name="Late",
        address="3 Quai",
        pin_code="75012",
        price_per_hour="2.00",
        number_of_spots=2,
    )
    booked = app.parking.reserve(manager, lot.id, "RACE1").id
    clock.advance(minutes=45)
    cutoff = clock.now() - HOLD
    app.parking.park(manager, booked)  # the car arrived between the job's look and its cancel
    assert app.parking.cancel_no_show(booked, cutoff, 30) is None
    assert status_of(app, booked) == "active"
    assert activity(app, "booking_no_show") == []


def test_overstays_are_listed_longest_first_for_staff_only(
    app: App, clock: FixedClock, manager: Actor, attendant: Actor, driver: Actor
) -> None:
    lot = app.lots.create(
        manager,
        name="Long",
        address="4 Quai",
        pin_code="75013",
        price_per_hour="2.00",
        number_of_spots=4,
    )
    start = clock.now()
    first = app.parking.check_in(attendant, lot.id, "LONG1").id
    clock.advance(hours=2)
    second = app.parking.check_in(attendant, lot.id, "LONG2").id
    clock.advance(hours=3)
    app.parking.check_in(attendant, lot.id, "SHORT1", driver_id=driver.user_id)
    app.parking.reserve(manager, lot.id, "RESERVED1")  # never parked: not an overstay

    clock.set(start + timedelta(hours=24))
    [only] = overstays(app.ctx, attendant, 24)
    assert (only.reservation_id, only.vehicle_number, only.lot_name) == (first, "LONG1", "Long")
    assert only.hours == 24
    clock.set(start + timedelta(hours=27, minutes=30))
    listed = overstays(app.ctx, manager, 24)
    assert [o.reservation_id for o in listed] == [first, second]
    assert [str(o.hours) for o in listed] == ["27.5", "25.5"]
    with pytest.raises(PermissionDeniedError):
        overstays(app.ctx, driver, 24)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("DATABASE_URL", "PARKING_DATA_DIR", "RESERVATION_HOLD_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "cli-data"


def _stale_booking(app: App, manager: Actor, name: str) -> tuple[int, int]:
    """A driver's booking made an hour ago in real time (the command runs on the real clock)."""
    lot = app.lots.create(
        manager,
        name=f"Lot {name}",
        address="5 Quai",
        pin_code="75014",
        price_per_hour="2.00",
        number_of_spots=2,
    )
    uid = add_driver(app, name)
    booked = app.parking.reserve(as_driver(app, uid, name), lot.id, f"{name[:4].upper()}1").id
    with app.db.write() as session:
        row = session.get(Reservation, booked)
        assert row is not None
        row.reserved_at = datetime.now(UTC) - timedelta(hours=1)
    return uid, booked


def test_jobs_run_no_shows_from_the_command_line(
    app: App, db_url: str, manager: Actor, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, booked = _stale_booking(app, manager, "cliuser")
    code = run(["--db", db_url, "--data-dir", str(cli_env), "jobs", "run", "no_shows", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (document["job"], document["status"]) == ("no_shows", "completed")
    assert document["counts"]["cancelled"] == 1 and document["counts"]["mailed"] == 1
    assert status_of(app, booked) == "cancelled"
    [queued] = outbox_rows(app, "no_show")
    assert queued.recipient == "cliuser@example.com"


def test_worker_once_cancels_the_no_show_and_the_driver_gets_the_mail(
    app: App, db_url: str, manager: Actor, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    _, booked = _stale_booking(app, manager, "workeruser")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "PARKING_DATA_DIR", "RESERVATION_HOLD_MINUTES"}
    }
    # Reminders and reports are not due now, so the only mail is the no-show's.
    later = (datetime.now(UTC) + timedelta(hours=6)).strftime("%H:%M")
    env.update(
        APP_TIMEZONE="UTC",
        PYTHONPATH=str(ROOT),
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_server.port),
        MAIL_DEFAULT_SENDER="parking@example.com",
        DAILY_REMINDER_TIME=later,
        MONTHLY_REPORT_DAY="28",
    )
    data_dir = tmp_path / "worker-data"
    worker = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "--db",
            db_url,
            "--data-dir",
            str(data_dir),
            "worker",
            "--once",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    out = worker.stdout + worker.stderr
    assert worker.returncode == 0, out
    assert "no_shows" in out
    assert status_of(app, booked) == "cancelled"
    [run_row] = job_runs(app, "no_shows")
    assert run_row.status == "completed" and run_row.counts["cancelled"] == 1
    no_show_mails = [
        m for m in smtp_server.received if m.message["Subject"].startswith("Booking cancelled")
    ]
    assert [m.rcpt_tos[0] for m in no_show_mails] == ["workeruser@example.com"]
    with app.db.read() as session:
        assert (
            session.scalars(select(Reservation.status).where(Reservation.id == booked)).one()
            == "cancelled"
        )
