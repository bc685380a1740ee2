"""Offline check-out priced by the tariff the kiosk last synced, on both databases: the same
fee and lines as the server would give, the version id kept by the replay, a picture older
than a tariff change, and a journal made before kiosks kept tariffs."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from parking_desktop.adapters.db.models import Reservation
from parking_desktop.adapters.kiosk_journal import JOURNAL_FILE
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.fee import compute_fee
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.tariffs import quote
from parking_desktop.services.kiosks.journal import OfflineDesk
from parking_desktop.services.kiosks.picture import take_picture
from parking_desktop.services.kiosks.replay import ReplayService
from parking_desktop.services.kiosks.syncing import KioskSync
from tests.integration.test_offline_journal import make_lot
from tests.integration.test_tariffs_service import day_night


def desk_for(app: App, folder: Path) -> tuple[OfflineDesk, KioskSync]:
    desk = OfflineDesk(folder, "k" * 36, app.ctx.clock)
    replay = ReplayService(app.ctx, app.parking.payments)
    return desk, KioskSync(desk, replay.apply, lambda: take_picture(app.ctx))


def stored(app: App, plate: str) -> Reservation:
    with app.ctx.read() as session:
        row = session.scalar(select(Reservation).where(Reservation.vehicle_number == plate))
        assert row is not None
        session.expunge(row)
        return row


def test_offline_check_out_is_priced_by_the_synced_tariff_with_its_lines(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    lot = make_lot(app, manager, spots=3)
    version_id = app.tariffs.save(lot, day_night(clock.now()), manager)
    app.parking.check_in(attendant, lot, "ON1")  # Mon 10:00 Paris, day rate
    desk, sync = desk_for(app, tmp_path)
    assert sync.sync_now().picture
    arrived = clock.now()
    clock.advance(minutes=20)
    off = desk.check_in(attendant, lot, "OFF1")
    clock.advance(hours=10, minutes=7)  # both stays run into the night rate (20:00 Paris)

    # What the server says a stay of the same times costs, line by line.
    online = app.tariffs.quote(lot, arrived, clock.now())
    quoted = desk.quote_vehicle(attendant, "ON1")
    assert quoted.cost == online.total
    assert [line.text for line in quoted.lines] == [line.label for line in online.lines]
    assert [("day rate" in t, "night rate" in t) for t in (li.text for li in quoted.lines)] == [
        (True, False),
        (False, True),
        (False, False),
    ]
    assert quoted.lines[-1].text.startswith("daily maximum applied")
    # Not today's flat rule at the lot's price any more.
    assert quoted.cost != compute_fee(clock.now() - arrived, Decimal("2.50")).cost
    receipt = desk.check_out(attendant, "ON1")
    assert (receipt.cost, receipt.tariff_version_id) == (online.total, version_id)
    assert sum(line.amount for line in receipt.lines) == receipt.cost
    assert receipt.currency == "EUR"
    later = desk.check_out(attendant, "OFF1")
    assert later.cost == app.tariffs.quote(lot, off.parked_at, clock.now()).total  # type: ignore[arg-type]
    assert later.tariff_version_id == version_id

    report = sync.sync_now()
    assert (report.applied, report.waiting) == (3, 0)
    for plate, fee in (("ON1", receipt.cost), ("OFF1", later.cost)):
        row = stored(app, plate)
        assert (row.cost, row.tariff_version_id) == (fee, version_id)


def test_a_picture_older_than_a_tariff_change_prices_by_the_version_it_had(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    lot = make_lot(app, manager, spots=3)
    first = app.tariffs.save(lot, day_night(clock.now()), manager)
    desk, sync = desk_for(app, tmp_path)
    sync.sync_now()
    # The cable is out: the manager's change of 5 minutes later never reaches the kiosk.
    clock.advance(minutes=5)
    dearer = day_night(clock.now())
    dearer = type(dearer)(
        **{**dearer.__dict__, "daily_maximum": None, "effective_from": clock.now()}
    )
    second = app.tariffs.save(lot, dearer, manager)
    assert second != first
    desk.check_in(attendant, lot, "OLD1")
    at = clock.now()
    clock.advance(hours=30)  # past the first version's daily maximum
    receipt = desk.check_out(attendant, "OLD1")
    assert receipt.tariff_version_id == first
    assert any("daily maximum" in line.text for line in receipt.lines)
    (then,) = [v.version for v in app.tariffs.versions(lot) if v.id == first]
    assert receipt.cost == quote(then, at, clock.now(), app.ctx.tz).total
    assert receipt.cost != quote(dearer, at, clock.now(), app.ctx.tz).total

    assert sync.sync_now().applied == 2
    row = stored(app, "OLD1")
    # The fee taken and the version it was computed with, not the version in force meanwhile.
    assert (row.cost, row.tariff_version_id) == (receipt.cost, first)


def test_a_journal_from_before_tariffs_still_prices_its_picture_flat(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    """A kiosk updated during an outage opens the journal its old version wrote: the old
    picture (no tariff columns) keeps working, priced as it was then."""
    lot = make_lot(app, manager, spots=2)
    folder = tmp_path / "old"
    folder.mkdir()
    con = sqlite3.connect(folder / JOURNAL_FILE)
    con.executescript(
        """
        CREATE TABLE picture_lots (id INTEGER PRIMARY KEY, name TEXT NOT NULL,
            address TEXT NOT NULL, price_per_hour TEXT NOT NULL);
        CREATE TABLE picture_spots (id INTEGER PRIMARY KEY, lot_id INTEGER NOT NULL,
            number TEXT NOT NULL, position INTEGER NOT NULL, status TEXT NOT NULL);
        CREATE TABLE picture_stays (reservation_id INTEGER PRIMARY KEY, vehicle TEXT NOT NULL,
            spot_id INTEGER NOT NULL, lot_id INTEGER NOT NULL, status TEXT NOT NULL,
            reserved_at TEXT NOT NULL, parked_at TEXT, price_per_hour TEXT NOT NULL,
            username TEXT);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )
    at = clock.now().isoformat()
    con.execute("INSERT INTO picture_lots VALUES (?, 'Central', '1 Main Street', '2.50')", (lot,))
    con.execute("INSERT INTO picture_spots VALUES (90, ?, 'P001', 1, 'occupied')", (lot,))
    con.execute(
        "INSERT INTO picture_stays VALUES (7, 'OLD1', 90, ?, 'active', ?, ?, '2.50', NULL)",
        (lot, at, at),
    )
    con.execute("INSERT INTO meta VALUES ('picture_at', ?)", (at,))
    con.commit()
    con.close()

    desk = OfflineDesk(folder, "k" * 36, clock)
    clock.advance(minutes=100)
    quoted = desk.quote_vehicle(attendant, "OLD1")
    assert quoted.cost == compute_fee(timedelta(minutes=100), Decimal("2.50")).cost
    assert quoted.tariff_version_id is None and len(quoted.lines) == 1
    desk.close()
