"""Working offline from the journal, and the replay, on both databases: the picture, offline
check-in/out/find, every operation applied once (even sent twice), the two conflicts of the
issue settled with a row for the manager, and the summary rows still matching."""

from __future__ import annotations

import os
import stat
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from parking_desktop.adapters.db import summary
from parking_desktop.adapters.db.models import Reservation
from parking_desktop.adapters.db.models_money import Payment
from parking_desktop.adapters.db.models_offline import AppliedOperation, SyncConflict
from parking_desktop.adapters.kiosk_journal import JOURNAL_FILE
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import ConflictError, DomainError, NotFoundError
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.states import BookingStatus
from parking_desktop.services.kiosks.desk import DRIVER_OFFLINE, KioskDesk
from parking_desktop.services.kiosks.journal import PROVISIONAL, OfflineDesk
from parking_desktop.services.kiosks.monitor import ConnectionMonitor, KioskIdentity
from parking_desktop.services.kiosks.operations import Outcome
from parking_desktop.services.kiosks.picture import take_picture
from parking_desktop.services.kiosks.replay import ReplayService
from parking_desktop.services.kiosks.status import kiosk_status
from parking_desktop.services.kiosks.syncing import KioskSync


def make_lot(app: App, manager: Actor, spots: int = 3) -> int:
    return app.lots.create(
        manager,
        name="Central",
        address="1 Main Street",
        pin_code="CEN01",
        price_per_hour=Decimal("2.50"),
        number_of_spots=spots,
    ).id


def desk_for(app: App, folder: Path, name: str) -> tuple[OfflineDesk, KioskSync]:
    desk = OfflineDesk(folder / name, f"{name:0<36}"[:36], app.ctx.clock)
    sync = KioskSync(
        desk, ReplayService(app.ctx, app.parking.payments).apply, lambda: take_picture(app.ctx)
    )
    return desk, sync


def count(app: App, model: type) -> int:
    with app.ctx.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_offline_check_in_find_and_check_out_then_replay_once(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    lot = make_lot(app, manager)
    app.parking.check_in(attendant, lot, "ON1")  # known to the picture: spot 1
    desk, sync = desk_for(app, tmp_path, "a")
    assert sync.sync_now().picture
    mode = stat.S_IMODE(os.stat(tmp_path / "a" / JOURNAL_FILE).st_mode)
    assert mode == 0o600

    # --- offline: the database is not used from here until the replay ---
    booked = desk.check_in(attendant, lot, "off 1")
    assert (booked.spot_number, booked.note) == ("P002", PROVISIONAL)
    with pytest.raises(ConflictError, match="already has an open booking"):
        desk.check_in(attendant, lot, "OFF1")
    assert [v.available for v in desk.lots()] == [1]
    found = desk.find(attendant, "OFF")
    assert found.found is not None and found.found.booking.vehicle_number == "OFF1"
    clock.advance(hours=2)
    receipt = desk.check_out(attendant, "ON1")  # a stay the server knew
    assert receipt.cost == Decimal("5.00")
    with pytest.raises(NotFoundError):
        desk.quote_vehicle(attendant, "ON1")
    assert desk.pending_count() == 2 and kiosk_status(tmp_path / "a", clock.now()).journal_size == 2

    report = sync.sync_now()
    assert (report.sent, report.applied, report.waiting, report.error) == (2, 2, 0, "")
    assert desk.pending_count() == 0
    with app.ctx.read() as session:
        on1 = session.scalar(select(Reservation).where(Reservation.vehicle_number == "ON1"))
        off1 = session.scalar(select(Reservation).where(Reservation.vehicle_number == "OFF1"))
        assert on1 is not None and off1 is not None
        assert (on1.status, on1.cost) == (BookingStatus.COMPLETED, Decimal("5.00"))
        assert off1.status == BookingStatus.ACTIVE and off1.spot.number == "P002"
        # The check-out done offline has its payment, recorded as any release records one.
        paid = session.scalars(select(Payment).where(Payment.reservation_id == on1.id)).all()
        assert [p.amount for p in paid] == [Decimal("5.00")]
        assert summary.drift(session) == []
    assert count(app, SyncConflict) == 0
    # Nothing left to send; the picture now has OFF1 from the server.
    assert sync.sync_now().sent == 0
    assert desk.find_vehicle(attendant, "OFF1").booking.note is None


def test_an_operation_sent_again_after_a_lost_answer_is_not_applied_twice(
    app: App, manager: Actor, attendant: Actor, tmp_path: Path
) -> None:
    """The server committed but the kiosk never heard (killed, or the line went): the next
    replay sends it again and is answered from applied_operations."""
    lot = make_lot(app, manager)
    desk, sync = desk_for(app, tmp_path, "a")
    sync.sync_now()
    desk.check_in(attendant, lot, "TWICE1")
    (op,) = desk.pending()
    first = ReplayService(app.ctx, app.parking.payments).apply(
        op
    )  # committed; the kiosk does not confirm it
    assert (first.outcome, first.again) == (Outcome.APPLIED, False)
    report = sync.sync_now()
    assert (report.sent, report.again, report.waiting) == (1, 1, 0)
    assert count(app, Reservation) == 1 and count(app, AppliedOperation) == 1


def test_two_kiosks_giving_the_same_spot_and_checking_out_the_same_car(
    app: App, manager: Actor, attendant: Actor, clock: FixedClock, tmp_path: Path
) -> None:
    lot = make_lot(app, manager, spots=4)
    app.parking.check_in(attendant, lot, "BOTH1")  # spot 1
    a, sync_a = desk_for(app, tmp_path, "a")
    b, sync_b = desk_for(app, tmp_path, "b")
    sync_a.sync_now()
    sync_b.sync_now()
    clock.advance(hours=1)
    assert a.check_in(attendant, lot, "AAA1").spot_number == "P002"
    assert b.check_in(attendant, lot, "BBB1").spot_number == "P002"  # the same belief
    clock.advance(hours=1)
    early = a.check_out(attendant, "BOTH1")
    clock.advance(hours=1)
    late = b.check_out(attendant, "BOTH1")
    assert late.cost > early.cost

    # The later check-out reaches the server first; the earlier one is still the one kept.
    assert sync_b.sync_now().ok and sync_a.sync_now().ok
    with app.ctx.read() as session:
        aaa = session.scalar(select(Reservation).where(Reservation.vehicle_number == "AAA1"))
        bbb = session.scalar(select(Reservation).where(Reservation.vehicle_number == "BBB1"))
        both = session.scalar(select(Reservation).where(Reservation.vehicle_number == "BOTH1"))
        assert aaa is not None and bbb is not None and both is not None
        # Moved, not doubled: to the first free spot then (B had already let BOTH1 go).
        assert bbb.spot.number == "P002" and aaa.spot.number == "P001"
        assert (both.left_at, both.cost) == (early.left_at, early.cost)
        assert summary.drift(session) == []
        conflicts = session.scalars(select(SyncConflict).order_by(SyncConflict.id)).all()
        assert [(c.kind, c.vehicle_number) for c in conflicts] == [
            ("check_in", "AAA1"),
            ("check_out", "BOTH1"),
        ]
        moved, kept = conflicts
        assert moved.kiosk_version["spot_number"] == "P002"
        assert moved.server_version["spot_given"] == "P001"
        assert kept.kiosk_version["cost"] == str(early.cost)
        assert kept.server_version["cost"] == str(late.cost)
    listed = ReplayService(app.ctx).conflicts(manager)
    assert {c.vehicle_number for c in listed} == {"AAA1", "BOTH1"}


def test_a_car_checked_in_offline_twice_keeps_the_first_booking(
    app: App, manager: Actor, attendant: Actor, tmp_path: Path
) -> None:
    lot = make_lot(app, manager)
    a, sync_a = desk_for(app, tmp_path, "a")
    b, sync_b = desk_for(app, tmp_path, "b")
    sync_a.sync_now()
    sync_b.sync_now()
    a.check_in(attendant, lot, "SAME1")
    b.check_in(attendant, lot, "SAME1")
    b.check_out(attendant, "SAME1")  # B checks out its own (refused: it was A's car)
    sync_a.sync_now()
    report = sync_b.sync_now()
    assert (report.sent, report.adjusted, report.waiting) == (2, 1, 0)
    with app.ctx.read() as session:
        rows = session.scalars(
            select(Reservation).where(Reservation.vehicle_number == "SAME1")
        ).all()
        assert len(rows) == 1
        # B's check-out is applied to the booking its check-in was settled on.
        assert rows[0].status == BookingStatus.COMPLETED
        assert summary.drift(session) == []
    assert count(app, SyncConflict) == 1


def test_drivers_cannot_book_offline_and_the_attendant_pages_use_the_journal(
    app: App, manager: Actor, attendant: Actor, driver: Actor, tmp_path: Path
) -> None:
    lot = make_lot(app, manager)
    offline, sync = desk_for(app, tmp_path, "a")
    sync.sync_now()
    link = ConnectionMonitor(
        lambda _r: app.ctx.clock.now(), KioskIdentity("a" * 36, "h", "", "0"), app.ctx.clock
    )
    desk = KioskDesk(app.parking, app.lots, app.kiosk, offline, link)
    link.report_failure(OperationalError("SELECT 1", None, Exception("server closed")))
    assert desk.working_offline
    with pytest.raises(DomainError, match="Booking is not possible") as refused:
        desk.reserve(driver, lot, "DRV1")
    assert str(refused.value) == DRIVER_OFFLINE
    booked = desk.check_in(attendant, lot, "GATE1")
    assert booked.note == PROVISIONAL and count(app, Reservation) == 0
