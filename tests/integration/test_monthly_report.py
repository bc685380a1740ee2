"""monthly_report figures against hand-computed cases (Europe/Paris): a stay belongs to the
local month - and day - in which it ended; hours are real elapsed time, so the daylight-saving
nights (2026-03-29: 23 hours, 2026-10-25: 25 hours) count what the clock on the wall does not.
Then the job end to end through the outbox to a real SMTP server, the preview, and the promise
that the number of SQL statements does not grow with the number of drivers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event

from parking_desktop.bootstrap import App
from parking_desktop.domain.errors import PermissionDeniedError, ValidationError
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.mail.batches import Recipient
from parking_desktop.services.mail.monthly_report import Month, MonthlyReport, compute_reports
from tests.integration.jobs_support import activity, add_driver, add_stay, outbox_rows, spot_ids
from tests.mail_support import SmtpServer


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def lots(app: App, manager: Actor) -> dict[str, list[int]]:
    alpha = app.lots.create(manager, name="Alpha", address="1 A St", pin_code="111",
                            price_per_hour="2.00", number_of_spots=3)
    beta = app.lots.create(manager, name="Beta", address="2 B St", pin_code="222",
                           price_per_hour="3.00", number_of_spots=3)
    return {"Alpha": spot_ids(app, alpha.id), "Beta": spot_ids(app, beta.id)}


def report(app: App, user_id: int, month: str, actor: Actor) -> MonthlyReport:
    return app.jobs.preview_report(actor, user_id, month)[0]


def test_month_boundaries_in_the_site_time_zone(
    app: App, lots: dict[str, list[int]], manager: Actor
) -> None:
    d1 = add_driver(app, "dan1")
    d2 = add_driver(app, "dee2")
    a, b = lots["Alpha"][0], lots["Beta"][0]
    # 23:30 Jan 31 -> 00:30 Feb 1 in Paris: ended in February.
    add_stay(app, d1, a, utc(2026, 1, 31, 22, 30), utc(2026, 1, 31, 23, 30), "2.00")
    # Ended at 23:59:59 Jan 31 in Paris: January.
    add_stay(app, d1, a, utc(2026, 1, 31, 20, 0), utc(2026, 1, 31, 22, 59, 59), "5.00")
    add_stay(app, d1, b, utc(2026, 2, 10, 8, 0), utc(2026, 2, 10, 10, 30), "7.50")
    # 22:00 -> 23:30 Feb 28 in Paris: February, day 28.
    add_stay(app, d1, a, utc(2026, 2, 28, 21, 0), utc(2026, 2, 28, 22, 30), "3.00")
    # Ended at midnight, 1 March in Paris: March.
    add_stay(app, d1, a, utc(2026, 2, 28, 21, 0), utc(2026, 2, 28, 23, 0), "4.00")
    # Not stays that ended: cancelled, still parked; a walk-in belongs to nobody.
    add_stay(app, d1, b, utc(2026, 2, 12, 8, 0), None, None, status="cancelled")
    add_stay(app, d2, lots["Beta"][1], utc(2026, 2, 27, 8, 0), None, None, status="active",
             plate="ZZ999")
    add_stay(app, None, lots["Alpha"][2], utc(2026, 2, 5, 8, 0), utc(2026, 2, 5, 9, 0), "2.00",
             plate="WALK1")

    feb = report(app, d1, "2026-02", manager)

    assert feb.bookings == 3
    assert feb.total_spent == Decimal("12.50")
    assert feb.hours_parked == Decimal("5.00")
    assert (feb.most_used_lot, feb.most_used_lot_visits) == ("Alpha", 2)
    assert [(s.lot_name, s.cost) for s in feb.last_bookings] == [
        ("Alpha", Decimal("3.00")), ("Beta", Decimal("7.50")), ("Alpha", Decimal("2.00"))]
    assert [s.hours for s in feb.last_bookings] == [Decimal("1.50"), Decimal("2.50"),
                                                    Decimal("1.00")]
    days = dict(feb.daily_spending)
    assert len(days) == 28
    assert {d: v for d, v in days.items() if v} == {
        date(2026, 2, 1): Decimal("2.00"), date(2026, 2, 10): Decimal("7.50"),
        date(2026, 2, 28): Decimal("3.00")}
    assert feb.spending_by_lot == (("Beta", Decimal("7.50")), ("Alpha", Decimal("5.00")))

    jan = report(app, d1, "2026-01", manager)
    assert (jan.bookings, jan.total_spent) == (1, Decimal("5.00"))
    quiet = report(app, d2, "2026-02", manager)
    assert not quiet.has_activity and quiet.total_spent == Decimal("0.00")
    assert quiet.last_bookings == () and len(quiet.daily_spending) == 28


def test_daylight_saving_months(app: App, lots: dict[str, list[int]], manager: Actor) -> None:
    d1 = add_driver(app, "dan1")
    a = lots["Alpha"][0]
    # Spring: 01:30 CET -> 03:30 CEST on 29 March is one real hour (the 02:00 hour never was).
    add_stay(app, d1, a, utc(2026, 3, 29, 0, 30), utc(2026, 3, 29, 1, 30), "2.00")
    # 23:30 CEST on the 29th... is 00:30 on the 30th: the 29th is only 23 hours long.
    add_stay(app, d1, a, utc(2026, 3, 29, 21, 30), utc(2026, 3, 29, 22, 30), "1.00")
    # 22:00 -> 23:59 CEST on 31 March (59 minutes); then one that ends at midnight = April.
    add_stay(app, d1, a, utc(2026, 3, 31, 21, 0), utc(2026, 3, 31, 21, 59), "2.00")
    add_stay(app, d1, a, utc(2026, 3, 31, 21, 0), utc(2026, 3, 31, 22, 0), "2.00")
    # Autumn: 02:30 CEST -> 02:30 CET on 25 October is one real hour.
    add_stay(app, d1, a, utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30), "2.00")
    # 23:30 CET on the 25th (a 25-hour day) ... and 00:00 on the 26th.
    add_stay(app, d1, a, utc(2026, 10, 25, 20, 30), utc(2026, 10, 25, 22, 30), "4.00")
    add_stay(app, d1, a, utc(2026, 10, 25, 22, 0), utc(2026, 10, 25, 23, 0), "2.00")

    march = report(app, d1, "2026-03", manager)
    assert march.bookings == 3
    assert march.total_spent == Decimal("5.00")
    # 3600 + 3600 + 3540 seconds = 2.9833 hours.
    assert march.hours_parked == Decimal("2.98")
    spent = {d: v for d, v in march.daily_spending if v}
    assert spent == {date(2026, 3, 29): Decimal("2.00"), date(2026, 3, 30): Decimal("1.00"),
                     date(2026, 3, 31): Decimal("2.00")}
    assert march.last_bookings[0].hours == Decimal("0.98")

    april = report(app, d1, "2026-04", manager)
    assert (april.bookings, april.total_spent) == (1, Decimal("2.00"))
    assert {d: v for d, v in april.daily_spending if v} == {date(2026, 4, 1): Decimal("2.00")}

    october = report(app, d1, "2026-10", manager)
    assert october.bookings == 3
    assert october.hours_parked == Decimal("4.00")
    assert october.last_bookings[-1].hours == Decimal("1.00")  # the repeated 02:30
    assert {d: v for d, v in october.daily_spending if v} == {
        date(2026, 10, 25): Decimal("6.00"), date(2026, 10, 26): Decimal("2.00")}
    assert len(october.daily_spending) == 31


def test_last_five_and_most_used_tie(app: App, lots: dict[str, list[int]],
                                     manager: Actor) -> None:
    d3 = add_driver(app, "dot3")
    for day in range(1, 7):
        spot = lots["Beta" if day % 2 else "Alpha"][0]
        add_stay(app, d3, spot, utc(2026, 2, day, 8), utc(2026, 2, day, 9), "1.00",
                 plate=f"AB{day}")
    feb = report(app, d3, "2026-02", manager)
    assert feb.bookings == 6
    assert [s.vehicle_number for s in feb.last_bookings] == ["AB6", "AB5", "AB4", "AB3", "AB2"]
    assert (feb.most_used_lot, feb.most_used_lot_visits) == ("Alpha", 3)  # 3-3: by name


def test_preview_rights_and_bad_months(app: App, lots: dict[str, list[int]], manager: Actor,
                                       make_user) -> None:  # type: ignore[no-untyped-def]
    d1 = add_driver(app, "dan1")
    other = make_user("other", Role.DRIVER, "other@example.com")
    assert app.jobs.preview_report(
        Actor(d1, "dan1", Role.DRIVER), d1, "2026-02")[0].user_id == d1
    with pytest.raises(PermissionDeniedError):
        app.jobs.preview_report(other, d1, "2026-02")
    with pytest.raises(ValidationError, match="is not a month"):
        app.jobs.preview_report(manager, d1, "February")
    with pytest.raises(ValidationError):
        app.jobs.preview_report(manager, d1, "2026-13")


def test_preview_html_is_the_mail(app: App, lots: dict[str, list[int]], manager: Actor) -> None:
    d1 = add_driver(app, "dan1", full_name="Dana <Driver>")
    add_stay(app, d1, lots["Beta"][0], utc(2026, 2, 10, 8, 0), utc(2026, 2, 10, 10, 30), "7.50")
    _, html = app.jobs.preview_report(manager, d1, "2026-02")
    assert "Your parking in February 2026" in html
    assert "Dana &lt;Driver&gt;" in html  # escaped
    assert "7.50" in html and "Beta" in html
    _, quiet = app.jobs.preview_report(manager, d1, "2026-01")
    assert "You did not park with us in January 2026" in quiet


def test_monthly_job_mails_every_driver_once(
    mail_app: App, lots: dict[str, list[int]], smtp_server: SmtpServer
) -> None:
    app = mail_app  # the clock says 2 March 2026: the report is February's
    d1 = add_driver(app, "dan1")
    d2 = add_driver(app, "dee2")
    add_driver(app, "nomail", email=False)
    add_driver(app, "gone", active=False)
    add_stay(app, d1, lots["Beta"][0], utc(2026, 2, 10, 8, 0), utc(2026, 2, 10, 10, 30), "7.50")

    run = app.jobs.scheduler.run_job_now("monthly_report")
    again = app.jobs.scheduler.run_job_now("monthly_report")

    assert run.status == "completed"
    assert run.counts["month"] == "2026-02"
    assert (run.counts["recipients"], run.counts["with_activity"], run.counts["queued"]) == (
        2, 1, 2)
    assert again.counts["queued"] == 0
    assert {r.idempotency_key for r in outbox_rows(app, "monthly_report")} == {
        f"monthly:{d1}:2026-02", f"monthly:{d2}:2026-02"}
    logged = {a.user_id: a.activity_data for a in activity(app, "monthly_report_queued")}
    assert logged == {d1: {"month": "2026-02", "bookings": 1, "total_spent": "7.50"},
                      d2: {"month": "2026-02", "bookings": 0, "total_spent": "0.00"}}

    assert app.email.outbox.flush().sent == 2
    got = {m.rcpt_tos[0]: m for m in smtp_server.received}
    assert set(got) == {"dan1@example.com", "dee2@example.com"}
    full = got["dan1@example.com"]
    assert full.message["Subject"] == "Your parking report for February 2026"
    assert "7.50" in full.part("text/plain") and "Beta" in full.part("text/plain")
    assert "You did not park with us in February 2026" in got["dee2@example.com"].part("text/plain")


def test_statement_count_does_not_grow_with_drivers(
    app: App, lots: dict[str, list[int]]
) -> None:
    def statements_for(count: int, offset: int) -> int:
        recipients = []
        for i in range(count):
            uid = add_driver(app, f"drv{offset + i}")
            add_stay(app, uid, lots["Alpha"][i % 3], utc(2026, 2, 3, 8), utc(2026, 2, 3, 9),
                     "2.00", plate=f"P{offset + i}")
            recipients.append(Recipient(uid, f"drv{offset + i}", f"drv{offset + i}@example.com"))
        seen: list[str] = []

        def on_execute(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(app.db.engine, "before_cursor_execute", on_execute)
        try:
            with app.db.read() as session:
                reports = list(compute_reports(session, Month(2026, 2), app.ctx.tz, recipients))
        finally:
            event.remove(app.db.engine, "before_cursor_execute", on_execute)
        assert len(reports) == count and all(r.bookings >= 1 for r in reports)
        return len(seen)

    assert statements_for(2, 0) == statements_for(25, 100) <= 4


def test_a_stay_of_several_lines_is_explained_in_the_report(
        app: App, lots: dict[str, list[int]], manager: Actor) -> None:
    """A stay priced by a day/night tariff lists its lines under its row; a one-line stay and
    a stay from before tariffs do not repeat their row."""
    from zoneinfo import ZoneInfo

    from parking_desktop.domain.tariffs import quote, tariff_from_json
    from parking_desktop.services.tariffs import store

    paris = ZoneInfo("Europe/Paris")
    day_night = tariff_from_json({
        "effective_from": "2026-01-01T00:00:00+01:00", "increment_minutes": 15,
        "bands": [
            {"name": "day rate", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
             "start": "08:00", "end": "20:00", "price_per_hour": "3.50"},
            {"name": "night rate", "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
             "start": "20:00", "end": "08:00", "price_per_hour": "1.20"},
            {"name": "night rate", "days": ["Sat"], "start": "08:00", "end": "08:00",
             "price_per_hour": "1.20"},
            {"name": "night rate", "days": ["Sun"], "start": "08:00", "end": "08:00",
             "price_per_hour": "1.20"}]})
    d1 = add_driver(app, "dan1")
    alpha = app.lots.find_by_name("Alpha")
    with app.db.write() as session:
        version_id = store.insert_version(session, alpha.id, day_night, None,
                                          utc(2026, 1, 1, 0, 0))
    parked, left = utc(2026, 2, 16, 17, 10), utc(2026, 2, 16, 21, 0)  # Mon 18:10–22:00 Paris
    priced = quote(day_night, parked, left, paris)
    assert len(priced.lines) == 2
    stay = add_stay(app, d1, lots["Alpha"][0], parked, left, str(priced.total))
    with app.db.write() as session:
        from parking_desktop.adapters.db.models import Reservation

        row = session.get(Reservation, stay)
        assert row is not None
        row.tariff_version_id = version_id
    add_stay(app, d1, lots["Beta"][0], utc(2026, 2, 10, 8, 0), utc(2026, 2, 10, 10, 30), "7.50")

    found = report(app, d1, "2026-02", manager)
    by_id = {b.reservation_id: b for b in found.last_bookings}
    assert [f"{line.text} … {line.amount}" for line in by_id[stay].lines] == [
        str(line) for line in priced.lines]
    assert all(not b.lines for rid, b in by_id.items() if rid != stay)
    _, html = app.jobs.preview_report(manager, d1, "2026-02")
    assert "Mon 18:10–20:10, day rate, 8 × 15 min at 3.50/h … 7.00" in html
