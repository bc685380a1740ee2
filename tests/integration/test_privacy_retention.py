"""Retention on both databases: vehicle numbers of stays older than the limit are masked as
in anonymised exports (and no others), the dashboard and monthly-report figures stay the same,
old activity goes, old mail bodies are emptied, old export records are deleted; the nightly job
records what it removed."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from parking_desktop.adapters.csv_export import mask_vehicle
from parking_desktop.adapters.db.models import ExportJob, Reservation, UserActivity
from parking_desktop.adapters.db.models_mail import EmailOutbox
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.mail.monthly_report import Month, preview_report
from parking_desktop.services.parking.search import ReservationFilter
from parking_desktop.services.privacy.retention import RetentionPolicy, RetentionService
from tests.integration.privacy_support import T0, app_with, centre, person, stay

OLD = ("OLD1AA", "OLD2BB", "OLD3CC")
NEW = ("NEW1DD", "NEW2EE")


def history(app: App, clock: FixedClock) -> tuple[Actor, Actor, int]:
    clock.set(T0)
    manager = person(app, "boss", Role.MANAGER, "boss@example.com")
    driver = person(app, "dora", Role.DRIVER, "dora@example.com")
    lot_id = centre(app, manager, price="2.50")
    for i, plate in enumerate(OLD):  # days 0..2: older than 60 days at day 100
        stay(app, clock, manager, lot_id, plate, i, driver_id=driver.user_id if i == 0 else None)
    for i, plate in enumerate(NEW):  # days 50..51: younger
        stay(app, clock, manager, lot_id, plate, 50 + i, driver_id=driver.user_id)
    clock.set(T0 + timedelta(days=99))
    app.parking.check_in(manager, lot_id, "OPEN9ZZ")  # open: never masked
    clock.set(T0 + timedelta(days=100))
    return manager, driver, lot_id


def figures(app: App, manager: Actor, driver: Actor) -> list[Any]:
    d = app.stats.dashboard(manager)
    # The recent bookings list shows plates (masked now): every other field must stay.
    d = replace(d, recent=[replace(r, vehicle_number="") for r in d.recent])
    reports = []
    for key in ("2026-01", "2026-02"):
        r = preview_report(app.ctx, manager, driver.user_id or 0, Month.parse(key))
        reports.append(
            (
                r.bookings,
                r.total_spent,
                r.hours_parked,
                r.most_used_lot,
                r.spending_by_lot,
                r.daily_spending,
            )
        )
    summary = app.stats.driver_summary(manager, driver.user_id)
    summary = replace(summary, recent=[replace(r, vehicle_number="") for r in summary.recent])
    return [d, reports, summary]


def plates(app: App) -> dict[int, str]:
    with app.db.read() as session:
        return dict(session.execute(select(Reservation.id, Reservation.vehicle_number)).all())


def test_plates_older_than_the_limit_are_masked_and_figures_stay(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher) as app:
        manager, driver, _ = history(app, clock)
        before_figures = figures(app, manager, driver)
        before = plates(app)
        summary = RetentionService(
            app.ctx, RetentionPolicy(plates_days=60), batch_rows=2, pause=0
        ).run(manager)
        after = plates(app)
        expected = {rid: (mask_vehicle(p) if p in OLD else p) for rid, p in before.items()}
        assert after == expected
        assert sorted(v for v in after.values() if v.startswith("*")) == sorted(
            mask_vehicle(p) for p in OLD
        )
        assert summary.plates_masked == 3
        after_figures = figures(app, manager, driver)
        for one, two in zip(after_figures, before_figures, strict=True):
            assert one == two
        # The activity entries of those stays lost the plate too, and only those.
        with app.db.read() as session:
            seen = [
                a.activity_data.get("vehicle")
                for a in session.scalars(select(UserActivity))
                if a.activity_data.get("vehicle")
            ]
        assert not any(p in seen for p in OLD)
        assert all(p in seen for p in NEW)
        assert "OPEN9ZZ" in seen
        # Running again changes nothing.
        again = RetentionService(app.ctx, RetentionPolicy(plates_days=60), pause=0).run(manager)
        assert again.plates_masked == 0 and again.activity_plates_masked == 0
        assert plates(app) == after
        # The vehicle can no longer be found by its old number.
        assert app.search.reservations(manager, ReservationFilter(vehicle="OLD1AA")).total == 0


def test_activity_mail_and_export_records_are_pruned_by_age(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher) as app:
        manager, _driver, _ = history(app, clock)
        now = clock.now()
        with app.db.write() as session:
            for days, status in ((40, "sent"), (40, "failed"), (40, "pending"), (5, "sent")):
                session.add(
                    EmailOutbox(
                        idempotency_key=f"k{days}{status}",
                        kind="reminder",
                        recipient="dora@example.com",
                        subject="Hello",
                        body_text="Dear Dora",
                        body_html="<p>Dear Dora</p>",
                        attachments=[],
                        message_id=f"<{status}{days}@x>",
                        status=status,
                        next_attempt_at=now,
                        created_at=now - timedelta(days=days),
                    )
                )
            for days, status in (
                (40, "expired"),
                (40, "failed"),
                (5, "expired"),
                (40, "completed"),
            ):
                session.add(
                    ExportJob(
                        job_id=f"job-{days}-{status}",
                        requested_by=None,
                        scope={},
                        status=status,
                        created_at=now - timedelta(days=days),
                        completed_at=now - timedelta(days=days),
                    )
                )
        with app.db.read() as session:
            old_activity = len(
                session.scalars(
                    select(UserActivity.id).where(UserActivity.timestamp < now - timedelta(days=30))
                ).all()
            )
            total_activity = len(session.scalars(select(UserActivity.id)).all())
        assert 0 < old_activity < total_activity
        summary = RetentionService(
            app.ctx,
            RetentionPolicy(activity_days=30, mail_bodies_days=30, export_records_days=30),
            batch_rows=3,
            pause=0,
        ).run(manager)
        assert summary.activity_deleted == old_activity
        assert summary.mail_bodies_pruned == 2
        assert summary.export_records_deleted == 2
        with app.db.read() as session:
            left = session.scalars(select(UserActivity)).all()
            assert all(a.timestamp >= now - timedelta(days=30) for a in left)
            # Old activity gone, the retention entry itself recorded.
            assert [a.activity_type for a in left].count("retention_applied") == 1
            mails = {m.idempotency_key: m for m in session.scalars(select(EmailOutbox))}
            assert mails["k40sent"].body_text == "" and mails["k40sent"].body_html is None
            assert mails["k40failed"].body_text == ""
            assert mails["k40pending"].body_text == "Dear Dora"  # not sent yet: kept
            assert mails["k5sent"].body_text == "Dear Dora"
            jobs = set(session.scalars(select(ExportJob.job_id)))
        assert jobs == {"job-5-expired", "job-40-completed"}


def test_the_nightly_job_applies_the_settings_and_records_its_counts(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher, RETAIN_PLATES_DAYS="60") as app:
        manager, _driver, _ = history(app, clock)
        run = app.jobs.scheduler.run_job_now("retention")
        assert run.status == "completed"
        assert run.counts["plates_masked"] == 3
        assert run.counts["limits"]["plates_days"] == 60
        page = app.activity.history(manager, activity_type="retention_applied")
        assert page.total == 1 and page.items[0].activity_data["plates_masked"] == 3


def test_no_limits_set_changes_nothing(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher) as app:
        _manager, _driver, _ = history(app, clock)
        before = plates(app)
        run = app.jobs.scheduler.run_job_now("retention")
        assert run.status == "completed"
        assert run.counts["plates_masked"] == 0
        assert plates(app) == before
