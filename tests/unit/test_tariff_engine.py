"""The rate engine (docs/tariffs.md): properties over generated tariffs and stays, checked
against a reference that applies the rules one increment at a time, plus worked examples."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from parking_desktop.domain.fee import compute_fee
from parking_desktop.domain.tariffs import (
    ALL_DAYS,
    EXACT,
    Band,
    PricedLine,
    TariffError,
    TariffVersion,
    flat_tariff,
    pricer,
    problems,
    quote,
)
from parking_desktop.domain.tariffs.zones import to_us
from parking_desktop.domain.validation import MAX_PRICE
from tests.tariff_support import (
    PARIS,
    ZONES,
    arrivals,
    band_at,
    reference_cents,
    tariffs,
)

# No per-example deadline: a busy machine must not fail a correct rule on time.
relaxed = settings(deadline=None)
zones = st.sampled_from(ZONES)
stays = st.timedeltas(min_value=timedelta(hours=-1), max_value=timedelta(days=3))
MINUTE = timedelta(minutes=1)
# Clock changes of 2026 (in UTC) in Europe/Paris, America/New_York and Australia/Lord_Howe
# (whose clocks move by 30 minutes).
CHANGES = [
    (PARIS, datetime(2026, 3, 29, 1, tzinfo=UTC)), (PARIS, datetime(2026, 10, 25, 1, tzinfo=UTC)),
    (ZONES[1], datetime(2026, 3, 8, 7, tzinfo=UTC)),
    (ZONES[1], datetime(2026, 11, 1, 6, tzinfo=UTC)),
    (ZONES[3], datetime(2026, 4, 4, 15, tzinfo=UTC)),
    (ZONES[3], datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),
]
WEEKDAYS = (0, 1, 2, 3, 4)


def total(version: TariffVersion, arrived: datetime, stay: timedelta, zone: ZoneInfo) -> Decimal:
    """The quote's total, after checking that it is the sum of its lines and that the bulk
    pricer (integers, no lines) agrees with it to the cent."""
    priced = quote(version, arrived, arrived + stay, zone)
    assert priced.total == sum((line.amount for line in priced.lines), Decimal(0))
    assert all(line.amount.as_tuple().exponent == -2 for line in priced.lines)
    cents = pricer(version, zone).cents(to_us(arrived), to_us(arrived + stay))
    assert priced.total == Decimal(cents).scaleb(-2)
    return priced.total


def day_night(
    grace: timedelta = timedelta(0), daily_maximum: Decimal | None = None
) -> TariffVersion:
    """Mon–Fri 08:00–20:00 at 3.50/h, every other time 1.20/h, 15-minute steps."""
    bands = (
        Band(WEEKDAYS, time(8), time(20), Decimal("3.50"), "day rate"),
        Band(WEEKDAYS, time(20), time(0), Decimal("1.20"), "night rate"),
        Band(WEEKDAYS, time(0), time(8), Decimal("1.20"), "night rate"),
        Band((5, 6), time(0), time(0), Decimal("1.20"), "night rate"),
    )
    return TariffVersion(bands=bands, increment=timedelta(minutes=15), grace=grace,
                         daily_maximum=daily_maximum)


# --- properties ---------------------------------------------------------------------------------
@relaxed
@given(tariffs(), zones, arrivals(whole_minutes=True), st.data())
def test_the_engine_prices_as_the_rules_say_increment_by_increment(
    version: TariffVersion, zone: ZoneInfo, arrived: datetime, data: st.DataObject
) -> None:
    # Keep the reference's loop short: at most 600 increments.
    step = MINUTE if version.increment == EXACT else version.increment
    minutes = data.draw(st.integers(-60, min(3 * 1440, 600 * (step // MINUTE))))
    stay = timedelta(minutes=minutes)
    assert total(version, arrived, stay, zone) == Decimal(
        reference_cents(version, zone, arrived, arrived + stay)).scaleb(-2)


@relaxed
@given(tariffs(), st.sampled_from(CHANGES), st.integers(0, 36 * 60), st.integers(1, 48 * 60))
def test_the_engine_prices_as_the_rules_say_across_clock_changes(
    version: TariffVersion, change_in: tuple[ZoneInfo, datetime], before: int, minutes: int
) -> None:
    # Arrive up to 36 h before a clock change of the zone; most stays run past it.
    zone, change = change_in
    version = TariffVersion(**{**vars(version), "increment": max(version.increment, 15 * MINUTE)})
    arrived = change - timedelta(minutes=before)
    stay = timedelta(minutes=minutes)
    assert total(version, arrived, stay, zone) == Decimal(
        reference_cents(version, zone, arrived, arrived + stay)).scaleb(-2)


@relaxed
@given(tariffs(), zones, arrivals(), stays)
def test_a_fee_is_never_negative(
    version: TariffVersion, zone: ZoneInfo, arrived: datetime, stay: timedelta
) -> None:
    assert total(version, arrived, stay, zone) >= 0


@relaxed
@given(tariffs(), zones, arrivals(), stays, stays)
def test_a_fee_never_drops_when_the_car_stays_longer(
    version: TariffVersion, zone: ZoneInfo, arrived: datetime, a: timedelta, b: timedelta
) -> None:
    shorter, longer = sorted((a, b))
    assert total(version, arrived, shorter, zone) <= total(version, arrived, longer, zone)


@relaxed
@given(tariffs(), zones, arrivals(), st.timedeltas(timedelta(0), timedelta(days=6)))
def test_a_fee_never_exceeds_the_cap_for_each_started_day(
    version: TariffVersion, zone: ZoneInfo, arrived: datetime, stay: timedelta
) -> None:
    assume(version.daily_maximum is not None)
    assert version.daily_maximum is not None
    started_days = max(1, -(-stay // timedelta(days=1)))
    assert total(version, arrived, stay, zone) <= version.daily_maximum * started_days


@relaxed
@given(
    st.integers(min_value=0, max_value=int(MAX_PRICE * 100) - 1)
    .map(lambda cents: Decimal(cents).scaleb(-2)),
    zones,
    arrivals(),
    st.timedeltas(min_value=timedelta(hours=-2), max_value=timedelta(days=60)),
)
def test_the_flat_tariff_is_todays_rule_for_every_duration(
    price: Decimal, zone: ZoneInfo, arrived: datetime, stay: timedelta
) -> None:
    assert total(flat_tariff(price), arrived, stay, zone) == compute_fee(stay, price).cost


@relaxed
@given(tariffs(cap=False, extras=False), st.sampled_from([ZONES[0], ZONES[1], ZONES[2]]),
       arrivals(whole_minutes=True), st.integers(1, 2 * 24 * 4), st.data())
def test_splitting_a_stay_where_the_rate_changes_prices_each_part_as_its_band_says(
    version: TariffVersion, zone: ZoneInfo, arrived: datetime, quarters_after: int,
    data: st.DataObject,
) -> None:
    """What holds: with no minimum, grace or cap, an increment that divides 15 minutes (the
    bands' grid), an arrival on that grid and a zone whose offsets are whole hours, every
    increment lies inside one band. Then, for the first time ``cut`` at which the rate changes:
    the part before ``cut`` costs its length at its band's price (one line, rounded once), and
    the whole stay costs exactly the part before plus the part after. (With increments that
    straddle a boundary the parts are each billed whole and the sum can be larger.)"""
    step = data.draw(st.sampled_from([EXACT, MINUTE, 5 * MINUTE, 15 * MINUTE]))
    version = TariffVersion(bands=version.bands, increment=step, minimum=timedelta(0))
    arrived = arrived.replace(minute=arrived.minute // 15 * 15)

    def rate(moment: datetime) -> tuple[str, Decimal]:
        band = band_at(version, moment.astimezone(zone))
        return band.name, band.price_per_hour

    cut = arrived + 15 * MINUTE
    while rate(cut) == rate(arrived) and cut < arrived + timedelta(days=8):
        cut += 15 * MINUTE
    assume(rate(cut) != rate(arrived))  # a tariff with one rate all week has no cut
    left = cut + quarters_after * 15 * MINUTE
    name, price = rate(arrived)
    before = quote(version, arrived, cut, zone)
    hours_before = Decimal((cut - arrived) // timedelta(microseconds=1)) / 3_600_000_000
    assert [line.rate for line in before.lines] == [name]
    assert before.total == (hours_before * price).quantize(Decimal("0.01"), "ROUND_HALF_UP")
    after = quote(version, cut, left, zone)
    whole = quote(version, arrived, left, zone)
    assert whole.total == before.total + after.total
    # The same lines (a long stay's labels carry dates, so compare what they bill).
    def billed(lines: tuple[PricedLine, ...]) -> list[tuple[object, ...]]:
        return [(x.start, x.end, x.rate, x.increments, x.amount) for x in lines]

    assert billed(whole.lines[1:]) == billed(after.lines)


@relaxed
@given(st.integers(1, 9_999).map(lambda cents: Decimal(cents).scaleb(-2)),
       st.integers(0, 6 * 24 * 60), st.integers(0, 6 * 24 * 60), st.sampled_from([3, 10]))
def test_stays_across_the_paris_clock_changes_bill_the_real_elapsed_time(
    price: Decimal, before: int, after: int, month: int
) -> None:
    change = datetime(2026, month, 29 if month == 3 else 25, 1, 0, tzinfo=UTC)  # 01:00 UTC
    arrived = change - timedelta(minutes=before + 1)
    left = change + timedelta(minutes=after)
    real = left - arrived
    assert total(flat_tariff(price), arrived, real, PARIS) == compute_fee(real, price).cost


@pytest.mark.parametrize(
    ("day", "hours", "cost"),
    [
        (datetime(2026, 3, 28, 12), 23, Decimal("23.00")),  # spring: Sat noon → Sun noon
        (datetime(2026, 10, 24, 12), 25, Decimal("25.00")),  # autumn
        (datetime(2026, 7, 4, 12), 24, Decimal("24.00")),  # an ordinary weekend
    ],
)
def test_noon_to_noon_over_a_clock_change_is_23_or_25_hours(
    day: datetime, hours: int, cost: Decimal
) -> None:
    arrived = day.replace(tzinfo=PARIS)
    left = (day + timedelta(days=1)).replace(tzinfo=PARIS)
    priced = quote(flat_tariff(Decimal("1.00")), arrived, left, PARIS)
    assert priced.stay == timedelta(hours=hours)
    assert priced.total == cost


@pytest.mark.parametrize(
    ("night", "cost"),
    [
        (datetime(2026, 3, 28, 22), Decimal("8.40")),  # 22:00 → 06:00 is 7 h: 28 × 0.30
        (datetime(2026, 10, 24, 22), Decimal("10.80")),  # 9 h: 36 × 0.30
        (datetime(2026, 7, 4, 22), Decimal("9.60")),  # 8 h
    ],
)
def test_a_night_at_night_rate_over_a_clock_change(night: datetime, cost: Decimal) -> None:
    arrived = night.replace(tzinfo=PARIS)
    left = (night + timedelta(hours=8)).replace(tzinfo=PARIS)
    assert quote(day_night(), arrived, left, PARIS).total == cost


# --- itemised lines -----------------------------------------------------------------------------
def lines_of(version: TariffVersion, arrived: datetime, left: datetime) -> list[str]:
    return [str(line) for line in quote(version, arrived, left, PARIS).lines]


def test_a_day_night_stay_is_itemised_line_by_line() -> None:
    version = day_night(grace=10 * MINUTE, daily_maximum=Decimal("20.00"))
    arrived = datetime(2026, 3, 2, 18, 10, tzinfo=PARIS)  # a Monday
    priced = quote(version, arrived, datetime(2026, 3, 2, 22, 0, tzinfo=PARIS), PARIS)
    assert [str(line) for line in priced.lines] == [
        "Mon 18:10–20:10, day rate, 8 × 15 min at 3.50/h … 7.00",
        "Mon 20:10–22:10, night rate, 8 × 15 min at 1.20/h … 2.40",
    ]
    assert priced.total == Decimal("9.40")
    assert priced.billed == timedelta(hours=4)
    assert [line.increments for line in priced.lines] == [8, 8]
    assert priced.lines[0].start == arrived
    assert str(priced).endswith("total … 9.40 EUR")


def test_the_daily_maximum_is_a_line_that_takes_the_excess_off() -> None:
    version = day_night(daily_maximum=Decimal("20.00"))
    arrived = datetime(2026, 3, 2, 18, 10, tzinfo=PARIS)
    assert lines_of(version, arrived, datetime(2026, 3, 3, 19, 0, tzinfo=PARIS)) == [
        "Mon 18:10–20:10, day rate, 8 × 15 min at 3.50/h … 7.00",
        "Mon 20:10–Tue 08:10, night rate, 48 × 15 min at 1.20/h … 14.40",
        "Tue 08:10–18:10, day rate, 40 × 15 min at 3.50/h … 35.00",
        "daily maximum applied, Mon 18:10–Tue 18:10 (at most 20.00 per 24 h) … −36.40",
        "Tue 18:10–19:10, day rate, 4 × 15 min at 3.50/h … 3.50",
    ]
    assert quote(version, arrived, datetime(2026, 3, 3, 19, 0, tzinfo=PARIS), PARIS).total \
        == Decimal("23.50")


def test_leaving_within_the_grace_period_is_free_and_says_so() -> None:
    version = day_night(grace=10 * MINUTE)
    arrived = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    assert lines_of(version, arrived, arrived + 10 * MINUTE) == [
        "grace period: free (left within 10 min) … 0.00"
    ]
    # One second more and the whole stay is billed, minimum included.
    assert quote(version, arrived, arrived + timedelta(minutes=10, seconds=1), PARIS).total \
        == Decimal("3.50")


def test_a_short_stay_pays_the_minimum_and_the_line_says_why() -> None:
    arrived = datetime(2026, 3, 2, 19, 30, tzinfo=PARIS)
    # The stay's own 20 minutes (two started increments), then what the minimum adds.
    assert lines_of(day_night(), arrived, arrived + 20 * MINUTE) == [
        "Mon 19:30–20:00, day rate, 2 × 15 min at 3.50/h … 1.75",
        "Mon 20:00–20:30, night rate, 2 × 15 min at 1.20/h, minimum charge 1 h … 0.60",
    ]
    morning = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    assert lines_of(day_night(), morning, morning + 20 * MINUTE) == [
        "Mon 09:00–10:00, day rate, 4 × 15 min at 3.50/h, minimum charge 1 h … 3.50",
    ]


def test_the_flat_tariff_shows_exact_hours() -> None:
    arrived = datetime(2026, 3, 2, 18, 10, tzinfo=PARIS)
    assert lines_of(flat_tariff(Decimal("2.35")), arrived, arrived + 90 * MINUTE) == [
        "Mon 18:10–19:40, standard rate, 1.5000 h at 2.35/h … 3.53"
    ]


def test_a_public_holiday_is_priced_as_a_sunday() -> None:
    sunday_cheap = (
        Band(tuple(range(6)), time(0), time(0), Decimal("2.00"), "weekday rate"),
        Band((6,), time(0), time(0), Decimal("0.50"), "sunday rate"),
    )
    version = TariffVersion(bands=sunday_cheap, increment=60 * MINUTE,
                            holidays=frozenset({date(2026, 12, 25)}))
    friday = datetime(2026, 12, 25, 10, 0, tzinfo=PARIS)
    assert quote(version, friday, friday + 2 * MINUTE * 60, PARIS).total == Decimal("1.00")
    thursday = friday - timedelta(days=1)
    assert quote(version, thursday, thursday + 2 * MINUTE * 60, PARIS).total == Decimal("4.00")
    # Across the holiday's midnight: 23:00–01:00 is an hour at each rate.
    eve = datetime(2026, 12, 24, 23, 0, tzinfo=PARIS)
    assert lines_of(version, eve, eve + 2 * MINUTE * 60) == [
        "Thu 23:00–Fri 00:00, weekday rate, 1 × 1 h at 2.00/h … 2.00",
        "Fri 00:00–01:00, sunday rate, 1 × 1 h at 0.50/h … 0.50",
    ]


def test_a_clock_that_went_backwards_is_charged_the_minimum() -> None:
    arrived = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
    assert quote(day_night(), arrived, arrived - MINUTE, PARIS).total == Decimal("3.50")


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        quote(day_night(), datetime(2026, 3, 2, 9), datetime(2026, 3, 2, 10), PARIS)


# --- validation ---------------------------------------------------------------------------------
def bands_with(*extra: Band) -> tuple[Band, ...]:
    return (Band(ALL_DAYS, time(8), time(20), Decimal("3.50"), "day rate"), *extra)


NIGHT = Band(ALL_DAYS, time(20), time(8), Decimal("1.20"), "night rate")


@pytest.mark.parametrize(
    ("make", "field", "message"),
    [
        (lambda: TariffVersion(bands=()), "bands",
         "bands: add at least one band; nothing covers the week"),
        (lambda: TariffVersion(bands=(
            Band(ALL_DAYS, time(8), time(19), Decimal("3.50"), "day rate"),
            Band((1,), time(19), time(21), Decimal("2.00"), "evening"),
            Band(tuple(range(7)), time(21), time(8), Decimal("1.20"), "night rate"),
            Band((1,), time(20), time(8), Decimal("1.20"), "night rate"),
        )), "bands", "bands: Tue 19:00–21:00 overlaps Tue 20:00–08:00"),
        (lambda: TariffVersion(bands=(
            Band(ALL_DAYS, time(8), time(20), Decimal("3.50"), "day rate"),
            Band(tuple(range(6)), time(20), time(8), Decimal("1.20"), "night rate"),
            Band((6,), time(20), time(3), Decimal("1.20"), "night rate"),
            Band((0,), time(5), time(8), Decimal("1.20"), "night rate"),
        )), "bands", "bands: nothing covers Mon 03:00–05:00"),
        (lambda: TariffVersion(bands=(
            Band(ALL_DAYS, time(8), time(20), Decimal("3.50"), "day rate"),
            Band(tuple(range(6)), time(20), time(8), Decimal("1.20"), "night rate"),
            Band((6,), time(20), time(22), Decimal("1.20"), "night rate"),
            Band((0,), time(2), time(8), Decimal("1.20"), "night rate"),
        )), "bands", "bands: nothing covers Sun 22:00–Mon 02:00"),
        (lambda: TariffVersion(bands=bands_with(
            Band(tuple(range(6)), time(20), time(8), Decimal("1.20"), "night rate"),
            Band((6,), time(20), time(0), Decimal("1.20"), "night rate"),
        )), "bands", "bands: nothing covers Mon 00:00–08:00"),
        (lambda: TariffVersion(bands=bands_with(
            Band(ALL_DAYS, time(20), time(8), Decimal("-1.20"), "night rate"))),
         "bands[1].price_per_hour", "bands[1].price_per_hour: -1.20 is negative"),
        (lambda: TariffVersion(bands=bands_with(
            Band(ALL_DAYS, time(20), time(8), MAX_PRICE, "night rate"))),
         "bands[1].price_per_hour",
         f"bands[1].price_per_hour: {MAX_PRICE} is too large: it must be less than {MAX_PRICE}"),
        (lambda: TariffVersion(bands=bands_with(
            Band(ALL_DAYS, time(20), time(8), Decimal("1.205"), "night rate"))),
         "bands[1].price_per_hour", "bands[1].price_per_hour: 1.205 has more than 2 decimals"),
        (lambda: TariffVersion(bands=bands_with(
            Band(ALL_DAYS, time(20, 0, 30), time(8), Decimal("1.20"), "night rate"))),
         "bands[1].start", "bands[1].start: 20:00:30 is not on a whole minute"),
        (lambda: TariffVersion(bands=bands_with(
            Band((), time(20), time(8), Decimal("1.20"), "night rate"))),
         "bands[1].days", "bands[1].days: choose at least one day"),
        (lambda: TariffVersion(bands=bands_with(
            Band(ALL_DAYS, time(20), time(8), Decimal("1.20"), " "))),
         "bands[1].name", "bands[1].name: give the band a name, e.g. 'day rate'"),
        (lambda: TariffVersion(bands=bands_with(NIGHT), increment=timedelta(0)),
         "increment_minutes", "increment_minutes: must be at least 1 min"),
        (lambda: TariffVersion(bands=bands_with(NIGHT), increment=timedelta(seconds=90)),
         "increment_minutes", "increment_minutes: 0:01:30 is not a whole number of minutes"),
        (lambda: TariffVersion(bands=bands_with(NIGHT), minimum=timedelta(hours=25)),
         "minimum_minutes", "minimum_minutes: 1500 min is more than 24 h"),
        (lambda: TariffVersion(bands=bands_with(NIGHT), grace=-MINUTE),
         "grace_minutes", "grace_minutes: cannot be negative"),
        (lambda: TariffVersion(bands=bands_with(NIGHT), daily_maximum=Decimal("-0.01")),
         "daily_maximum", "daily_maximum: -0.01 is negative"),
        (lambda: TariffVersion(bands=bands_with(NIGHT), daily_maximum=Decimal("NaN")),
         "daily_maximum", "daily_maximum: Decimal('NaN') is not an amount"),
        (lambda: TariffVersion(bands=bands_with(NIGHT), effective_from=datetime(2027, 1, 1)),
         "effective_from", "effective_from: give a date and time with a UTC offset"),
        (lambda: TariffVersion(bands=bands_with(NIGHT), currency="euro"),
         "currency", "currency: 'euro' is not a currency code like 'EUR'"),
        (lambda: flat_tariff(Decimal("-2")), "bands[0].price_per_hour",
         "bands[0].price_per_hour: -2 is negative"),
    ],
)
def test_an_invalid_tariff_is_refused_with_one_line_naming_the_field(
    make: object, field: str, message: str
) -> None:
    assert callable(make)
    with pytest.raises(TariffError) as caught:
        make()
    assert str(caught.value) == message
    assert caught.value.field == field
    assert "\n" not in str(caught.value)


def test_every_problem_can_be_listed_for_a_form() -> None:
    version = day_night()
    broken = TariffVersion.__new__(TariffVersion)  # bypass the check to list all problems
    for name, value in vars(version).items():
        object.__setattr__(broken, name, value)
    object.__setattr__(broken, "grace", -MINUTE)
    object.__setattr__(broken, "currency", "eur")
    assert [problem.field for problem in problems(broken)] == ["grace_minutes", "currency"]


def test_a_valid_day_night_tariff_is_accepted() -> None:
    version = day_night(grace=10 * MINUTE, daily_maximum=Decimal("20.00"))
    assert problems(version) == []
    assert version.base_rate == Decimal("3.50")
