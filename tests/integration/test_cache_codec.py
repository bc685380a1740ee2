"""The cache's JSON codec gives back exactly what the services returned, for every view type
(real results from both databases), and refuses anything it did not write."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.cache import codec as cache_codec
from parking_desktop.services.parking.search import ReservationFilter
from parking_desktop.services.views import (
    ActivityView,
    LotOccupancy,
    Page,
    ReservationView,
)


def round_trip(value: Any) -> Any:
    return cache_codec.decode(cache_codec.encode(value))


def assert_same(a: Any, b: Any) -> None:
    """Equal, and of the same types all the way down (Decimal stays Decimal, tuple stays
    tuple, datetimes keep their zone)."""
    assert type(a) is type(b), (a, b)
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name))
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, datetime):
        assert a == b and a.utcoffset() == b.utcoffset() and str(a.tzinfo) == str(b.tzinfo)
    else:
        assert a == b


@pytest.fixture
def busy_app(app: App, manager: Actor, attendant: Actor, driver: Actor,
             clock: FixedClock) -> App:
    lot = app.lots.create(manager, name="Central", address="1 Main St", pin_code="CEN01",
                          price_per_hour="2.50", number_of_spots=5)
    app.lots.create(manager, name="Harbour", address="2 Quay", pin_code="HAR02",
                    price_per_hour="1.75", number_of_spots=3)
    booked = app.parking.reserve(driver, lot.id, "ab-123-cd")
    app.parking.park(driver, booked.id)
    clock.advance(minutes=95)
    app.parking.release(driver, booked.id)
    app.parking.check_in(attendant, lot.id, "WALK 1")
    app.parking.reserve(driver, lot.id, "AB123CD")
    return app


def test_every_cached_view_type_round_trips(busy_app: App, manager: Actor,
                                            driver: Actor) -> None:
    app = busy_app
    lots = app.lots.search()
    results: list[Any] = [
        lots,
        app.stats.dashboard(manager),
        app.stats.driver_summary(manager, driver.user_id),
        app.search.reservations(driver, ReservationFilter(user_id=driver.user_id)),
        app.parking.open_reservation(driver),
        app.parking.spots(manager, lots[0].id),
        app.users.get(manager, driver.user_id),
        app.activity.history(manager),
        None,
    ]
    dashboard = results[1]
    assert dashboard.per_lot and dashboard.recent and dashboard.revenue_total > 0
    assert isinstance(dashboard.revenue_per_day[0], tuple)
    assert results[2].recent and results[2].spend_per_month
    assert results[3].items and results[4] is not None
    assert any(spot.fee_so_far is not None for spot in results[5])
    for value in results:
        assert_same(value, round_trip(value))


def test_quotes_receipts_and_enums_round_trip(app: App, manager: Actor,
                                              attendant: Actor, clock: FixedClock) -> None:
    lot = app.lots.create(manager, name="Gate", address="3 Road", pin_code="GAT03",
                          price_per_hour="3.10", number_of_spots=2)
    app.parking.check_in(attendant, lot.id, "XY99ZZ")
    clock.advance(hours=2, minutes=7)
    quote = app.parking.quote_vehicle(attendant, "XY99ZZ")
    receipt = app.parking.check_out(attendant, "XY99ZZ")
    for value in (quote, receipt, Role.DRIVER, [Role.MANAGER, Role.ATTENDANT]):
        assert_same(value, round_trip(value))


def test_hand_made_values_keep_types_zones_and_dollar_keys() -> None:
    paris = datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Paris"))
    activity = ActivityView(
        id=1, user_id=None, username=None, activity_type="lot_updated",
        activity_data={"$d": "not a decimal", "$$x": 1, "before": {"price": "2.50"},
                       "list": [1, "two", None, True], "nested": {"$t": [1, 2]}},
        timestamp=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
    )
    page: Page[ReservationView] = Page(items=[], total=0, offset=0, limit=100)
    for value in (
        paris, date(2026, 2, 28), Decimal("0.10"), Decimal("-1234567.89"), (1, (2, "3")),
        activity, page, LotOccupancy(lot_id=1, name="X", available=1, reserved=0, occupied=0),
        {"occupancy": 12.5, "empty": {}, "list": []},
    ):
        assert_same(value, round_trip(value))


def test_unknown_types_are_refused_not_pickled() -> None:
    with pytest.raises(cache_codec.CodecError):
        cache_codec.encode(ReservationFilter())  # not a registered view
    with pytest.raises(cache_codec.CodecError):
        cache_codec.encode({1: "int key"})
    with pytest.raises(cache_codec.CodecError):
        cache_codec.encode(float("nan"))
    with pytest.raises(cache_codec.CodecError):
        cache_codec.encode(object())


@pytest.mark.parametrize("data", [
    b"\x80\x04\x95",  # a pickle header
    b"not json",
    b'{"$v": ["os.system", ["echo"]]}',  # only registered views can come out
    b'{"$e": ["Role", "superuser"]}',
    b'{"$d": "twelve"}',
    b'{"$unknown": 1}',
])
def test_bytes_we_did_not_write_are_rejected(data: bytes) -> None:
    with pytest.raises(cache_codec.CodecError):
        cache_codec.decode(data)


_keys = st.text(max_size=6)
_scalars = (st.none() | st.booleans() | st.integers() | st.text(max_size=10)
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.decimals(allow_nan=False, allow_infinity=False, places=2)
            | st.datetimes(timezones=st.just(UTC)))
_values = st.recursive(
    _scalars,
    lambda inner: (st.lists(inner, max_size=4)
                   | st.lists(inner, max_size=3).map(tuple)
                   | st.dictionaries(st.sampled_from(["a", "$d", "$$v", "$t", "$x", "b"])
                                     | _keys, inner, max_size=4)),
    max_leaves=20,
)


@given(_values)
def test_any_plain_data_round_trips(value: Any) -> None:
    assert_same(value, round_trip(value))


def test_private_copies_share_only_immutable_parts(busy_app: App, manager: Actor) -> None:
    stats = busy_app.stats.dashboard(manager)
    copy = cache_codec.private_copy(stats)
    assert_same(copy, stats)
    assert copy is not stats
    for name in ("per_lot", "revenue_per_day", "bookings_by_hour", "recent"):
        assert getattr(copy, name) is not getattr(stats, name)
    assert copy.recent[0] is stats.recent[0]  # a view without lists is shared as it is
    activity = busy_app.activity.history(manager).items[0]
    assert cache_codec.private_copy(activity).activity_data is not activity.activity_data
