"""daily_reminder: who is selected (at the exact boundaries), what the mail says, what is
recorded, and that running the period again e-mails nobody twice. Mails go through the outbox
to a real SMTP server."""

from __future__ import annotations

from datetime import date, timedelta

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.mail.reminders import run_daily_reminder
from tests.integration.jobs_support import activity, add_driver, job_runs, outbox_rows
from tests.mail_support import SmtpServer

DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


def _population(app: App, clock: FixedClock) -> dict[str, int]:
    now = clock.now()
    recent = now - DAY
    return {
        # Due: older than 7 days since sign-in, or 14 days since booking; null is old.
        "login_7d_plus_1s": add_driver(app, "login_old", last_login=now - 7 * DAY - SECOND,
                                       last_booking=recent),
        "booking_14d_plus_1s": add_driver(app, "booking_old", last_login=recent,
                                          last_booking=now - 14 * DAY - SECOND),
        "never_logged_in": add_driver(app, "no_login", last_login=None, last_booking=recent),
        "never_booked": add_driver(app, "no_booking", last_login=recent, last_booking=None),
        # Not due.
        "login_exactly_7d": add_driver(app, "login_7d", last_login=now - 7 * DAY,
                                       last_booking=recent),
        "booking_exactly_14d": add_driver(app, "booking_14d", last_login=recent,
                                          last_booking=now - 14 * DAY),
        "recent": add_driver(app, "recent", last_login=recent, last_booking=recent),
        "inactive": add_driver(app, "inactive", active=False),
        "no_email": add_driver(app, "no_email", email=False),
        "manager": add_driver(app, "boss", role=Role.MANAGER),
        "attendant": add_driver(app, "desk", role=Role.ATTENDANT),
    }


DUE = {"login_7d_plus_1s", "booking_14d_plus_1s", "never_logged_in", "never_booked"}


def test_selection_at_the_boundaries_and_what_arrives(
    mail_app: App, clock: FixedClock, manager: Actor, smtp_server: SmtpServer
) -> None:
    app = mail_app
    people = _population(app, clock)
    full = app.lots.create(manager, name="Full", address="1 A St", pin_code="111",
                           price_per_hour="2.00", number_of_spots=1)
    app.lots.create(manager, name="Free", address="2 B St", pin_code="222",
                    price_per_hour="2.00", number_of_spots=3)
    archived = app.lots.create(manager, name="Gone", address="3 C St", pin_code="333",
                               price_per_hour="2.00", number_of_spots=2)
    app.lots.archive(manager, archived.id)
    app.parking.check_in(manager, full.id, "FULL1")

    run = app.jobs.scheduler.run_job_now("daily_reminder")

    assert run.status == "completed"
    # checked: active drivers with an address (the 7 reachable of the population above).
    assert run.counts["checked"] == 7
    assert run.counts["queued"] == 4
    assert run.counts["skipped"] == 3
    assert run.counts["lots_with_free_spots"] == 1
    due_ids = {people[k] for k in DUE}
    rows = outbox_rows(app, "daily_reminder")
    assert {r.user_id for r in rows} == due_ids
    today = clock.now().astimezone(app.ctx.tz).date().isoformat()
    assert {r.idempotency_key for r in rows} == {f"reminder:{i}:{today}" for i in due_ids}
    logged = activity(app, "reminder_queued")
    assert sorted(a.user_id for a in logged) == sorted(due_ids)
    assert all(a.activity_data["period"] == today for a in logged)

    report = app.email.outbox.flush()

    assert (report.sent, report.failed) == (4, 0)
    got = {m.rcpt_tos[0]: m for m in smtp_server.received}
    assert set(got) == {"login_old@example.com", "booking_old@example.com",
                        "no_login@example.com", "no_booking@example.com"}
    mail = got["login_old@example.com"]
    assert mail.message["Subject"] == "Free parking spots are waiting for you"
    assert "1 parking lot has free spots" in " ".join(mail.part("text/plain").split())
    assert "<strong>1 parking lot</strong>" in mail.part("text/html")


def test_running_the_period_again_mails_nobody_twice(
    mail_app: App, clock: FixedClock, smtp_server: SmtpServer
) -> None:
    app = mail_app
    add_driver(app, "sleepy1")
    add_driver(app, "sleepy2")
    first = app.jobs.scheduler.run_job_now("daily_reminder")
    clock.advance(hours=2)
    second = app.jobs.scheduler.run_job_now("daily_reminder")  # a manual run, same day

    assert (first.counts["queued"], second.counts["queued"]) == (2, 0)
    assert second.counts["already_queued"] == 2
    app.email.outbox.flush()
    assert len(smtp_server.received) == 2
    assert len(activity(app, "reminder_queued")) == 2
    assert [r.status for r in job_runs(app, "daily_reminder")] == ["completed", "completed"]

    clock.advance(days=1)  # the next day is a new period
    third = app.jobs.scheduler.run_job_now("daily_reminder")
    assert third.counts["queued"] == 2


def test_summary_goes_to_the_chat_and_a_chat_failure_does_not_fail_the_job(
    app: App, clock: FixedClock
) -> None:
    add_driver(app, "sleepy")
    posted: list[str] = []
    app.jobs.scheduler.runner.notifier = posted.append
    run = app.jobs.scheduler.run_job_now("daily_reminder")
    today = clock.now().astimezone(app.ctx.tz).date().isoformat()
    assert posted == [f"Daily reminders for {today}: 1 drivers checked, 1 reminders queued, "
                      "0 skipped (0 lots with free spots)."]
    assert run.status == "completed"

    def broken(text: str) -> None:
        raise ConnectionError("chat is down")

    app.jobs.scheduler.runner.notifier = broken
    clock.advance(days=1)
    assert app.jobs.scheduler.run_job_now("daily_reminder").status == "completed"


def test_batches_are_whole_and_summary_counts_add_up(app: App, clock: FixedClock) -> None:
    ids = [add_driver(app, f"d{i:02d}") for i in range(7)]
    from parking_desktop.jobs.mail import ReminderQueue

    summary = run_daily_reminder(app.ctx, ReminderQueue(app.email), date(2026, 3, 2),
                                 batch_size=3)
    assert (summary.checked, summary.due, summary.queued, summary.skipped) == (7, 7, 7, 0)
    assert {r.user_id for r in outbox_rows(app)} == set(ids)
