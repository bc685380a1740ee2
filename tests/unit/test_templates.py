"""Every mail template renders both parts; autoescape in HTML only; undefined names are errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError

from parking_desktop.adapters.mail.charts import bars, text_bar, text_chart
from parking_desktop.adapters.mail.templates import MailRenderer

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REPORT = SimpleNamespace(
    bookings=2, total_spent=Decimal("12.5"), hours_parked=Decimal("3.25"),
    most_used_lot="North", last_bookings=[SimpleNamespace(
        lot_name="North", spot_number="P002", vehicle_number="AB12", parked_at=AT,
        left_at=AT + timedelta(hours=2), hours=Decimal("2"), cost=Decimal("10"))],
)
CONTEXTS = {
    "daily_reminder": {"name": "Ann", "parking_lots_count": 4},
    "monthly_report": {"name": "Ann", "report": REPORT, "month_label": "February 2026",
                       "by_day": bars([("1", 1), ("2", 0), ("3", 4)]),
                       "by_week": bars([("1-7 Feb", 5)]), "by_lot": bars([("North", 5)])},
    "export_ready": {"name": "Ann", "filename": "x.csv", "attached": True,
                     "job": SimpleNamespace(job_id="j1", row_count=3, created_at=AT,
                                            expires_at=AT + timedelta(days=1))},
    "system_alert": {"title": "Job failed", "message": "m", "details": [("job", "x")],
                     "raised_at": AT},
    "test_message": {"sent_at": AT, "requested_by": "boss", "server": "smtp:587"},
    "no_show": {"name": "Ann", "hold_minutes": 30,
                "booking": SimpleNamespace(id=7, vehicle_number="AB12", lot_name="North",
                                           spot_number="P002", reserved_at=AT)},
    "receipt": {"name": "Ann", "arrived": "2 Mar 2026, 10:00", "left": "2 Mar 2026, 12:00",
                "total": "€9.00", "method": "Cash",
                "receipt": SimpleNamespace(lot_name="North", receipt_number="R-1",
                                           vehicle="AB12")},
}


@pytest.fixture
def renderer() -> MailRenderer:
    return MailRenderer(ZoneInfo("Europe/Paris"))


def test_every_mail_template_is_covered(renderer: MailRenderer) -> None:
    assert renderer.names() == sorted(CONTEXTS)


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_renders_html_and_text(renderer: MailRenderer, name: str) -> None:
    mail = renderer.render(name, site_name="Parking", subject="S", **CONTEXTS[name])
    assert mail.html.lstrip().lower().startswith("<!doctype html>")
    assert "<style" not in mail.html and 'style="' in mail.html  # CSS inlined
    assert "This message was sent by" in mail.html or "Parking" in mail.html
    assert mail.text.strip() and "<" not in mail.text.replace("<b>", "")
    assert "{{" not in mail.html + mail.text and "{%" not in mail.html + mail.text


@pytest.mark.parametrize("name", sorted(CONTEXTS))
def test_a_missing_value_is_an_error_not_a_blank(renderer: MailRenderer, name: str) -> None:
    context = dict(CONTEXTS[name])
    context.pop(next(iter(context)))
    with pytest.raises(UndefinedError):
        renderer.render(name, site_name="Parking", subject="S", **context)


def test_html_is_escaped_and_text_is_not(renderer: MailRenderer) -> None:
    mail = renderer.render("daily_reminder", site_name="P&Co", subject="S",
                           name="<img src=x onerror=alert(1)>", parking_lots_count=1)
    assert "<img" not in mail.html and "&lt;img src=x" in mail.html and "P&amp;Co" in mail.html
    assert "Hello <img src=x onerror=alert(1)>," in mail.text


def test_times_are_shown_in_the_site_time_zone(renderer: MailRenderer) -> None:
    mail = renderer.render("test_message", site_name="P", subject="S", **CONTEXTS["test_message"])
    assert "2026-03-02 10:00" in mail.text  # 09:00 UTC is 10:00 in Paris


def test_bars_scale_to_the_largest_value() -> None:
    got = bars([("a", Decimal("50")), ("b", Decimal("0")), ("c", Decimal("200")),
                ("d", Decimal("0.5"))])
    assert [(b.label, b.percent, b.display) for b in got] == [
        ("a", 25, "50.00"), ("b", 0, "0.00"), ("c", 100, "200.00"), ("d", 1, "0.50")]
    assert bars([]) == [] and [b.percent for b in bars([("z", 0)])] == [0]
    assert text_bar(100) == "#" * 30 and text_bar(1) == "#" and text_bar(0) == ""


def test_month_chart_covers_every_day(renderer: MailRenderer) -> None:
    from parking_desktop.services.mail.messages import days_of_month

    days = days_of_month(date(2026, 2, 1), [(date(2026, 2, 3), Decimal("2")),
                                             (date(2026, 2, 3), Decimal("1"))])
    assert len(days) == 28 and days[2] == (date(2026, 2, 3), Decimal("3"))


def test_the_monthly_report_explains_a_stay_of_several_lines(renderer: MailRenderer) -> None:
    lines = [SimpleNamespace(text="Mon 18:10–20:10, day rate, 8 × 15 min at 3.50/h",
                             amount=Decimal("7.00")),
             SimpleNamespace(text="Mon 20:10–22:10, night rate, 8 × 15 min at 1.20/h",
                             amount=Decimal("2.40"))]
    one_line = [SimpleNamespace(text="Mon 10:00–12:00, standard rate, 2 h at 2.50/h",
                                amount=Decimal("5.00"))]
    stays = [SimpleNamespace(lot_name="North", spot_number="P002", vehicle_number="AB12",
                             parked_at=AT, left_at=AT + timedelta(hours=4),
                             hours=Decimal("3.8"), cost=Decimal("9.40"), lines=lines),
             SimpleNamespace(lot_name="North", spot_number="P003", vehicle_number="AB12",
                             parked_at=AT, left_at=AT + timedelta(hours=2),
                             hours=Decimal("2"), cost=Decimal("5.00"), lines=one_line)]
    context = {**CONTEXTS["monthly_report"], "report": SimpleNamespace(
        **{**vars(REPORT), "last_bookings": stays})}
    mail = renderer.render("monthly_report", site_name="P", subject="S", **context)
    for part in (mail.text, mail.html):
        assert "Mon 18:10–20:10, day rate, 8 × 15 min at 3.50/h … 7.00" in part
        assert "Mon 20:10–22:10, night rate, 8 × 15 min at 1.20/h … 2.40" in part
        # A stay of one line is its row already (hours and cost): not repeated.
        assert "standard rate" not in part


def test_kept_chart_cells_show_each_reports_own_amounts() -> None:
    """The same bar lengths on the same days, different amounts: a renderer that has drawn
    the first report's cells draws the second exactly as a fresh renderer does."""
    first = {**CONTEXTS["monthly_report"], "by_day": bars([("1", 2), ("2", 0), ("3", 8)])}
    second = {**CONTEXTS["monthly_report"],
              "by_day": bars([("1", Decimal("2.5")), ("2", 0), ("3", 10)])}
    shared = MailRenderer(ZoneInfo("Europe/Paris"))
    shared.render("monthly_report", site_name="Parking", subject="S", **first)

    again = shared.render("monthly_report", site_name="Parking", subject="S", **second)
    fresh = MailRenderer(ZoneInfo("Europe/Paris")).render(
        "monthly_report", site_name="Parking", subject="S", **second)

    assert again == fresh
    assert 'title="1: 2.50"' in again.html and 'title="3: 10.00"' in again.html
    assert 'title="1: 2.00"' not in again.html


def test_plain_text_chart_pads_labels_and_bars() -> None:
    assert text_chart(bars([("North", 10), ("Old Town", 5)])) == (
        "North     " + "#" * 30 + "  10.00\n"
        "Old Town  " + "#" * 15 + " " * 15 + "  5.00\n")
