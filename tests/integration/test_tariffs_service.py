"""TariffService on SQLite and PostgreSQL: versions, the snapshot a stay is priced by, saving
rules, quotes, and what-if repricing checked against per-stay quotes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from parking_desktop.adapters.db.models import Reservation, UserActivity
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import PermissionDeniedError, ValidationError
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.tariffs import (
    TariffError,
    TariffVersion,
    flat_tariff,
    quote,
    tariff_from_json,
)
from parking_desktop.services.tariffs.simulation import SimulationCancelled
from parking_desktop.services.views import LotView
from tests.conftest import Unchanged

PARIS = ZoneInfo("Europe/Paris")
EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "day-night-tariff.json"


def day_night(effective_from: datetime | None = None) -> TariffVersion:
    return tariff_from_json(json.loads(EXAMPLE.read_text()), effective_from=effective_from)


@pytest.fixture
def lot(app: App, manager: Actor) -> LotView:
    return app.lots.create(manager, name="City Center", address="1 Main St", pin_code="75001",
                           price_per_hour="2.50", number_of_spots=5)


def stay(app: App, lot: LotView, plate: str, clock: FixedClock, minutes: float) -> Decimal:
    """Check a car in now, out ``minutes`` later; its fee."""
    from parking_desktop.domain.roles import SYSTEM

    app.parking.check_in(SYSTEM, lot.id, plate)
    clock.advance(minutes=minutes)
    return app.parking.check_out(SYSTEM, plate).cost


def test_a_new_lot_gets_todays_flat_rule_as_its_first_version(
    app: App, lot: LotView, manager: Actor, clock: FixedClock
) -> None:
    assert app.tariffs.current(lot.id) == flat_tariff(Decimal("2.50"),
                                                      effective_from=clock.now())
    [first] = app.tariffs.versions(lot.id)
    assert (first.used, first.created_by) == (False, "manager1")
    stay(app, lot, "AB123", clock, 90)
    [first] = app.tariffs.versions(lot.id)
    assert first.used


def test_a_stay_keeps_the_version_in_force_when_it_parked(
    app: App, lot: LotView, manager: Actor, clock: FixedClock
) -> None:
    from parking_desktop.domain.roles import SYSTEM

    start = clock.now()  # Monday 10:00 in Paris
    app.parking.check_in(SYSTEM, lot.id, "EARLY1")
    new_id = app.tariffs.save(lot.id, day_night(start), manager)
    app.parking.check_in(SYSTEM, lot.id, "LATE1")
    clock.advance(hours=3)
    early = app.parking.check_out(SYSTEM, "EARLY1")
    late = app.parking.check_out(SYSTEM, "LATE1")
    assert early.cost == Decimal("7.50")  # 3 h at 2.50, the flat version it parked under
    assert early.tariff_version_id != new_id and early.tariff_version_id is not None
    assert late.cost == Decimal("10.50") and late.tariff_version_id == new_id  # 3 h day rate
    assert [(line.text, line.amount) for line in late.lines] == [
        ("Mon 10:00–13:00, day rate, 12 × 15 min at 3.50/h", Decimal("10.50"))]
    assert late.currency == "EUR"
    with app.db.read() as s:
        recorded = dict(s.execute(select(Reservation.vehicle_number,
                                         Reservation.tariff_version_id)).all())
    assert recorded == {"EARLY1": early.tariff_version_id, "LATE1": new_id}
    assert [v.used for v in app.tariffs.versions(lot.id)] == [True, True]


def test_a_tariff_change_is_audited_with_before_and_after(
    app: App, lot: LotView, manager: Actor, clock: FixedClock
) -> None:
    new_id = app.tariffs.save(lot.id, day_night(clock.now() + timedelta(days=1)), manager)
    with app.db.read() as s:
        [(user_id, data)] = s.execute(
            select(UserActivity.user_id, UserActivity.activity_data)
            .where(UserActivity.activity_type == "tariff_changed")).all()
    assert user_id == manager.user_id and data["version_id"] == new_id
    assert data["before"]["bands"][0]["price_per_hour"] == "2.50"
    assert data["after"]["daily_maximum"] == "20.00"
    # In force tomorrow: today the lot still charges the flat rate.
    assert app.tariffs.current(lot.id).daily_maximum is None
    clock.advance(days=1)
    assert app.tariffs.current(lot.id).daily_maximum == Decimal("20.00")


def test_a_date_in_the_past_is_refused_once_the_version_in_force_was_used(
    app: App, lot: LotView, manager: Actor, clock: FixedClock, unchanged: Unchanged
) -> None:
    stay(app, lot, "AB123", clock, 30)
    with unchanged(), pytest.raises(TariffError) as refused:
        app.tariffs.save(lot.id, day_night(clock.now() - timedelta(minutes=5)), manager)
    assert refused.value.field == "effective_from"
    assert "in the past" in str(refused.value)


def test_a_date_before_the_version_in_force_began_is_refused(
    app: App, lot: LotView, manager: Actor, clock: FixedClock, unchanged: Unchanged
) -> None:
    with unchanged(), pytest.raises(TariffError, match=r"^effective_from: .*never apply"):
        app.tariffs.save(lot.id, day_night(clock.now() - timedelta(days=3)), manager)


def test_only_a_manager_saves_a_tariff(
    app: App, lot: LotView, attendant: Actor, clock: FixedClock, unchanged: Unchanged
) -> None:
    with unchanged(), pytest.raises(PermissionDeniedError):
        app.tariffs.save(lot.id, day_night(clock.now()), attendant)


def test_a_new_price_is_a_new_flat_version_and_old_stays_keep_theirs(
    app: App, lot: LotView, manager: Actor, clock: FixedClock
) -> None:
    from parking_desktop.domain.roles import SYSTEM

    app.parking.check_in(SYSTEM, lot.id, "OLD1")
    app.lots.set_price(manager, lot.id, "4.00")
    app.parking.check_in(SYSTEM, lot.id, "NEW1")
    clock.advance(hours=2)
    assert app.parking.check_out(SYSTEM, "OLD1").cost == Decimal("5.00")
    assert app.parking.check_out(SYSTEM, "NEW1").cost == Decimal("8.00")
    prices = [v.version.bands[0].price_per_hour for v in app.tariffs.versions(lot.id)]
    assert prices == [Decimal("2.50"), Decimal("4.00")]


def test_a_quote_uses_the_version_in_force_at_the_arrival(
    app: App, lot: LotView, manager: Actor, clock: FixedClock
) -> None:
    app.tariffs.save(lot.id, day_night(clock.now()), manager)
    # Monday 18:10 to 22:00, Paris time (naive times are the site's).
    priced = app.tariffs.quote(lot.id, datetime(2026, 3, 2, 18, 10), datetime(2026, 3, 2, 22))
    assert [str(line) for line in priced.lines] == [
        "Mon 18:10–20:10, day rate, 8 × 15 min at 3.50/h … 7.00",
        "Mon 20:10–22:10, night rate, 8 × 15 min at 1.20/h … 2.40",
    ]
    assert priced.total == Decimal("9.40")
    # Before the new version, the flat rule: 3 h 50 min at 2.50.
    before = app.tariffs.quote(lot.id, datetime(2026, 3, 1, 18, 10), datetime(2026, 3, 1, 22))
    assert before.total == Decimal("9.58")
    with pytest.raises(ValidationError):
        app.tariffs.quote(lot.id, datetime(2026, 3, 2, 22), datetime(2026, 3, 2, 18))


def test_simulation_totals_are_the_sum_of_per_stay_quotes(
    app: App, lot: LotView, manager: Actor, clock: FixedClock
) -> None:
    from parking_desktop.domain.roles import SYSTEM

    other = app.lots.create(manager, name="Harbour", address="2 Quay", pin_code="75002",
                            price_per_hour="1.00", number_of_spots=2)
    minutes = [5, 30, 61, 95, 180, 400, 900, 1500, 3000, 45]
    for i, length in enumerate(minutes):
        target = lot if i % 3 else other
        app.parking.check_in(SYSTEM, target.id, f"SIM{i}")
        clock.advance(minutes=length)
        app.parking.check_out(SYSTEM, f"SIM{i}")
        clock.advance(minutes=37 * i + 11)
    draft = day_night()
    progress: list[tuple[int, int]] = []
    result = app.tariffs.simulate(None, draft, 30, lambda done, total: progress.append(
        (done, total)))
    with app.db.read() as s:
        stays = s.execute(select(Reservation.vehicle_number, Reservation.parked_at,
                                 Reservation.left_at, Reservation.cost)).all()
    lot_of = {f"SIM{i}": (lot.id if i % 3 else other.id) for i in range(len(minutes))}
    for view in (lot, other):
        mine = [r for r in stays if lot_of[r[0]] == view.id]
        quotes = [quote(draft, parked, left, PARIS).total for _, parked, left, _ in mine]
        [found] = [x for x in result.lots if x.lot_id == view.id]
        assert found.stays == len(mine) and sum(found.stays_by_hour) == len(mine)
        assert found.revenue_now == sum(r[3] for r in mine)
        assert found.revenue_draft == sum(quotes)
        assert found.change == sum(found.change_by_hour)
        assert found.more == sum(q > r[3] for q, r in zip(quotes, mine, strict=True))
        assert found.less == sum(q < r[3] for q, r in zip(quotes, mine, strict=True))
        assert found.more + found.less + found.same == found.stays
    assert result.stays == len(minutes)
    assert progress[0] == (0, len(minutes)) and progress[-1] == (len(minutes), len(minutes))
    only = app.tariffs.simulate(lot.id, draft, 30)
    assert [x.lot_id for x in only.lots] == [lot.id]
    assert only.lots[0] == next(x for x in result.lots if x.lot_id == lot.id)
    # Stays that left before the period are not counted (a short period: SQLite walks the
    # left_at index instead of reading the whole table; the figures are the same).
    recent = app.tariffs.simulate(None, draft, 1)
    since = clock.now() - timedelta(days=1)
    kept = [r for r in stays if r[2] >= since]
    assert 0 < recent.stays == len(kept) < len(minutes)
    assert recent.revenue_draft == sum(quote(draft, p, left, PARIS).total for _, p, left, _ in kept)
    assert recent.revenue_now == sum(r[3] for r in kept)


def test_a_cancelled_simulation_gives_no_figures(
    app: App, lot: LotView, clock: FixedClock
) -> None:
    stay(app, lot, "AB123", clock, 30)
    with pytest.raises(SimulationCancelled):
        app.tariffs.simulate(lot.id, day_night(), 7, cancelled=lambda: True)
    with pytest.raises(ValidationError):
        app.tariffs.simulate(lot.id, day_night(), 0)


def test_the_spot_map_prices_a_parked_car_by_its_own_version_like_the_checkout_quote(
    app: App, lot: LotView, manager: Actor, clock: FixedClock
) -> None:
    """The spot map reads plain columns (not ORM objects): the stay's recorded tariff version
    must still price its fee so far, exactly as the check-out quote does."""
    from parking_desktop.domain.roles import SYSTEM

    app.tariffs.save(lot.id, day_night(clock.now()), manager)
    parked = app.parking.check_in(SYSTEM, lot.id, "NIGHT1")
    clock.advance(hours=7, minutes=20)
    app.tariffs.save(lot.id, day_night(clock.now() + timedelta(days=1)), manager)
    [spot] = [s for s in app.parking.spots(manager, lot.id) if s.reservation_id == parked.id]
    expected = app.parking.quote(manager, parked.id).cost
    assert spot.fee_so_far == expected
    # Not what today's flat price would say (the version recorded at parking decides).
    assert expected != quote(flat_tariff(Decimal("2.50")), clock.now() - timedelta(
        hours=7, minutes=20), clock.now(), PARIS).total
