"""How money, times and durations look on screen. Times are stored in UTC and shown in the
site's time zone (settings.tz)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from decimal import Decimal

from parking_desktop.domain.states import BookingStatus, SpotStatus
from parking_desktop.services.money.formatting import format_money
from parking_desktop.services.views import ResultCount

# How amounts are written: the site's currency and locale, set by the desktop and kiosk
# windows when they start (``use_site_currency``); until then the settings' defaults.
_SITE = {"currency": "EUR", "locale": "en_US"}

STATUS_LABELS: dict[str, str] = {
    BookingStatus.RESERVED: "Reserved",
    BookingStatus.ACTIVE: "Parked",
    BookingStatus.COMPLETED: "Completed",
    BookingStatus.CANCELLED: "Cancelled",
}
SPOT_STATUS_LABELS: dict[str, str] = {SpotStatus.AVAILABLE: "Available",
                                      SpotStatus.RESERVED: "Reserved",
                                      SpotStatus.OCCUPIED: "Occupied"}


def use_site_currency(currency: str, locale: str) -> None:
    """Every amount on screen from now on is in ``currency``, written for ``locale`` by Babel
    (what ``app.money.format`` does; the windows pass ``app.money.currency`` and its locale)."""
    _SITE["currency"], _SITE["locale"] = currency, locale


def site_currency() -> str:
    return _SITE["currency"]


def money(value: Decimal | int | str | None, empty: str = "—") -> str:
    """12345.5 -> '€12,345.50' (the site's currency and locale; see ``use_site_money``)."""
    if value is None:
        return empty
    return format_money(Decimal(value), _SITE["currency"], _SITE["locale"])


def money_in(value: Decimal | None, currency: str, empty: str = "—") -> str:
    """An amount in its own currency (a payment row keeps the one it was taken in)."""
    if value is None:
        return empty
    return format_money(Decimal(value), currency, _SITE["locale"])


def price_per_hour(value: Decimal | None) -> str:
    return "—" if value is None else f"{money(value)} / h"


def local(dt: datetime, tz: tzinfo) -> datetime:
    return dt.astimezone(tz)


def date_time(dt: datetime | None, tz: tzinfo, empty: str = "—") -> str:
    """'2026-03-02 10:05' in the site's time zone."""
    if dt is None:
        return empty
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def date_only(dt: datetime | None, tz: tzinfo, empty: str = "—") -> str:
    if dt is None:
        return empty
    return dt.astimezone(tz).strftime("%Y-%m-%d")


def short_time(dt: datetime | None, now: datetime, tz: tzinfo) -> str:
    """'10:05' today, 'Fri 18:30' within the week, otherwise '27 Feb 2026'."""
    if dt is None:
        return "—"
    here, today = dt.astimezone(tz), now.astimezone(tz).date()
    if here.date() == today:
        return f"{here:%H:%M}"
    if today - timedelta(days=6) <= here.date() < today:
        return f"{here:%a %H:%M}"
    return f"{here.day} {here:%b %Y}"


def since(dt: datetime | None, now: datetime, tz: tzinfo) -> str:
    """'10:05 today', 'yesterday 18:30' or '2026-02-27 08:00', with how long ago."""
    if dt is None:
        return "—"
    here, today = dt.astimezone(tz), now.astimezone(tz).date()
    if here.date() == today:
        when = f"today {here:%H:%M}"
    elif here.date() == today - timedelta(days=1):
        when = f"yesterday {here:%H:%M}"
    else:
        when = f"{here:%Y-%m-%d %H:%M}"
    return f"{when} ({duration(now - dt)} ago)"


def duration(delta: timedelta) -> str:
    """'3 h 05 min', '12 min', '2 d 4 h'."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def hours(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value).quantize(Decimal('0.01')):,.2f} h"


def count(value: int) -> str:
    return f"{value:,}"


def result_count(result: ResultCount) -> str:
    """A count that may be a bound or an estimate: "1,234", "more than 100,000", "about 1.0 M"."""
    if result.kind == "more_than":
        return f"more than {count(result.value)}"
    if result.kind == "about":
        value = result.value
        if value >= 1_000_000:
            return f"about {value / 1_000_000:.1f} M"
        return f"about {count(int(float(f'{value:.2g}')))}"  # two significant digits
    return count(result.value)


def scroll_footer(shown: int, total: int, noun: str, nothing: str) -> str:
    """The line under a table that loads more rows on scrolling: how many show of how many."""
    if total == 0:
        return nothing
    if total > shown:
        return f"Showing {count(shown)} of {count(total)} {noun} · scroll down to load more"
    return f"{count(max(shown, total))} {noun}"


def percent(value: float) -> str:
    return f"{value:.1f} %"


def status(value: str) -> str:
    return STATUS_LABELS.get(value, value.capitalize())


def role(value: str) -> str:
    return str(value).capitalize()


def activity_type(value: str) -> str:
    """'booking_created' -> 'Booking created', 'csv_export_requested' -> 'CSV export requested'."""
    words = value.replace("_", " ").split()
    text = " ".join(words)
    text = text.replace("csv", "CSV")
    return text[:1].upper() + text[1:]
