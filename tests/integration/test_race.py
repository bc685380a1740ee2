"""Several processes booking the same lot at the same moment: two kiosks booking at the same
instant never get the same spot, on SQLite or PostgreSQL.

Each kiosk is a separate *spawned* process. For every scenario it builds its own App (settings,
engine, connection pool, services) on the test's database URL, like kiosks on one site, and
waits at a start line; the test then releases them together. The processes are started once
per module and reused, since starting a Python process that imports the app costs seconds."""

from __future__ import annotations

import multiprocessing
import queue
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from parking_desktop.adapters.db.models import ParkingSpot, Reservation
from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import SYSTEM, Actor, Role

KIOSKS = 6
PER_KIOSK = 3
SPOTS = 8  # fewer than KIOSKS * PER_KIOSK bookings
POOL = 9  # kiosk processes started for the module (the mixed-plate race uses them all)
MIXED_ROUNDS = 3  # the mixed-plate race is run this many times on fresh lots
TIMEOUT = 120  # a deadlock fails the test instead of hanging it

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Booking:
    actor: Actor
    plate: str
    walk_in: bool = False  # an attendant's check-in (reserve + park) instead of a booking


@dataclass(frozen=True)
class Job:
    url: str
    data_dir: str
    lot_id: int
    bookings: list[Booking] = field(default_factory=list)
    check_outs: list[tuple[Actor, str]] = field(default_factory=list)  # done before bookings
    resize: tuple[Actor, int] | None = None  # a manager resizing the lot, before bookings


@dataclass(frozen=True)
class Outcome:
    kiosk: int
    plate: str
    kind: str  # "ok", "conflict" or "error"
    detail: str  # spot number, the refusal message, or the traceback
    reservation_id: int | None = None


def _kiosk(index: int, inbox: Any, outbox: Any, go: Any) -> None:
    """A kiosk process: runs jobs until it receives None."""
    from parking_desktop.adapters.passwords import Argon2Hasher
    from parking_desktop.bootstrap import build_app
    from parking_desktop.config import load_settings
    from parking_desktop.domain.errors import ConflictError

    while (job := inbox.get()) is not None:
        outcomes: list[Outcome] = []
        app = None
        ready = False
        try:
            settings = load_settings(data_dir=Path(job.data_dir), database_url=job.url,
                                     environ={}, dotenv_path=Path(job.data_dir) / "none.env")
            app = build_app(settings, hasher=Argon2Hasher(fast=True), upgrade=False)
            app.lots.get(job.lot_id)  # connect before the start line, not after it
            outbox.put(("ready", index))
            ready = True
            if not go.wait(timeout=TIMEOUT):
                raise TimeoutError("never got the start signal")
            if job.resize is not None:
                try:
                    resized = app.lots.resize(job.resize[0], job.lot_id, job.resize[1])
                    outcomes.append(Outcome(index, "resize", "ok", str(resized.number_of_spots)))
                except ConflictError as exc:
                    outcomes.append(Outcome(index, "resize", "conflict", str(exc)))
            for actor, plate in job.check_outs:
                try:
                    app.parking.check_out(actor, plate)
                except Exception:
                    outcomes.append(Outcome(index, plate, "error", traceback.format_exc()))
            for booking in job.bookings:
                try:
                    if booking.walk_in:
                        made = app.parking.check_in(booking.actor, job.lot_id, booking.plate)
                    else:
                        made = app.parking.reserve(booking.actor, job.lot_id, booking.plate)
                    outcomes.append(Outcome(index, booking.plate, "ok", made.spot_number,
                                            made.id))
                except ConflictError as exc:
                    outcomes.append(Outcome(index, booking.plate, "conflict", str(exc)))
                except Exception:
                    outcomes.append(Outcome(index, booking.plate, "error",
                                            traceback.format_exc()))
        except Exception:
            outcomes.append(Outcome(index, "-", "error", traceback.format_exc()))
        finally:
            if app is not None:
                app.close()
            if not ready:
                outbox.put(("ready", index))
            outbox.put(("done", index, outcomes))


class Kiosks:
    """Spawned kiosk processes, started once and given one job each per scenario."""

    def __init__(self, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.go = ctx.Event()
        self.outbox = ctx.Queue()
        self.inboxes = [ctx.Queue() for _ in range(count)]
        self.processes = [
            ctx.Process(target=_kiosk, args=(i, inbox, self.outbox, self.go), daemon=True)
            for i, inbox in enumerate(self.inboxes)
        ]
        for process in self.processes:
            process.start()

    def run(self, jobs: list[Job]) -> list[Outcome]:
        """Give job i to kiosk i, start them together, return every outcome."""
        assert len(jobs) <= len(self.inboxes)
        self.go.clear()
        for inbox, job in zip(self.inboxes, jobs, strict=False):
            inbox.put(job)
        ready: set[int] = set()
        done: dict[int, list[Outcome]] = {}
        while len(done) < len(jobs):
            try:
                message = self.outbox.get(timeout=TIMEOUT)
            except queue.Empty:
                dead = [p.exitcode for p in self.processes if not p.is_alive()]
                pytest.fail(f"kiosks stuck (deadlock?); exited: {dead}")
            if message[0] == "ready":
                ready.add(message[1])
                if len(ready) == len(jobs):
                    self.go.set()  # everyone connected: the start line opens
            else:
                done[message[1]] = message[2]
        outcomes = [o for i in sorted(done) for o in done[i]]
        errors = [o.detail for o in outcomes if o.kind == "error"]
        assert not errors, "\n\n".join(errors)
        return outcomes

    def close(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():  # only our own children
                process.kill()
                process.join()


@pytest.fixture(scope="module")
def kiosks() -> Iterator[Kiosks]:
    pool = Kiosks(POOL)
    yield pool
    pool.close()


def job(app: App, tmp_path: Path, name: str, lot_id: int, **kwargs: Any) -> Job:
    return Job(url=app.settings.database_url, data_dir=str(tmp_path / name), lot_id=lot_id,
               **kwargs)


def open_reservations(app: App, lot_id: int) -> list[tuple[int, str, str]]:
    """(spot id, spot number, status) of every open reservation in the lot."""
    with app.db.read() as s:
        return [(spot_id, number, status) for spot_id, number, status in s.execute(
            select(Reservation.spot_id, ParkingSpot.number, Reservation.status)
            .join(ParkingSpot, ParkingSpot.id == Reservation.spot_id)
            .where(ParkingSpot.lot_id == lot_id,
                   Reservation.status.in_(("reserved", "active")))
        ).all()]


def assert_spots_match_reservations(app: App, lot_id: int) -> None:
    expected = {"reserved": "R", "active": "O"}
    open_now = open_reservations(app, lot_id)
    assert len({spot for spot, _, _ in open_now}) == len(open_now), "a spot is given twice"
    by_spot = {spot_id: expected[status] for spot_id, _, status in open_now}
    with app.db.read() as s:
        spots = s.execute(select(ParkingSpot.id, ParkingSpot.number, ParkingSpot.status)
                          .where(ParkingSpot.lot_id == lot_id)).all()
    mismatched = [(n, st, by_spot.get(i, "A")) for i, n, st in spots
                  if st != by_spot.get(i, "A")]
    assert not mismatched, f"spot status vs open reservation: {mismatched}"


def make_people(app: App, manager: Actor, drivers: int) -> tuple[Actor, list[Actor]]:
    view = app.users.create(manager, username="kiosk", password="kiosk-pass-1",
                            role=Role.ATTENDANT)
    attendant = Actor(view.id, view.username, view.role)
    people = []
    for i in range(drivers):
        view = app.users.create(SYSTEM, username=f"racer{i}", password="racer-pass-1",
                                role=Role.DRIVER)
        people.append(Actor(view.id, view.username, view.role))
    return attendant, people


def test_concurrent_bookings_never_share_a_spot_or_overfill_the_lot(
    app: App, manager: Actor, tmp_path: Path, kiosks: Kiosks
) -> None:
    lot = app.lots.create(manager, name="Race Track", address="1 Fast Lane", pin_code="RACE1",
                          price_per_hour="2.00", number_of_spots=SPOTS)
    attendant, drivers = make_people(app, manager, KIOSKS * PER_KIOSK)
    jobs = []
    for k in range(KIOSKS):
        bookings = []
        for b in range(PER_KIOSK):
            n = k * PER_KIOSK + b
            # Half the kiosks take drivers' bookings, the others check walk-ins in.
            bookings.append(Booking(attendant, f"WALK{n:02d}", walk_in=True) if k % 2 else
                            Booking(drivers[n], f"DRV{n:02d}"))
        jobs.append(job(app, tmp_path, f"k{k}", lot.id, bookings=bookings))

    outcomes = kiosks.run(jobs)

    won = [o for o in outcomes if o.kind == "ok"]
    refused = [o for o in outcomes if o.kind == "conflict"]
    assert len(outcomes) == KIOSKS * PER_KIOSK
    # Every spot given exactly once; the lot filled but never exceeded.
    assert sorted(o.detail for o in won) == [f"P{i:03d}" for i in range(1, SPOTS + 1)]
    assert len(refused) == KIOSKS * PER_KIOSK - SPOTS
    # Every refusal is the clean "full" message, not a crash or a database error.
    assert {o.detail for o in refused} == {"Lot 'Race Track' is full: no spot is available."}
    # The database agrees with what the kiosks were told.
    open_now = open_reservations(app, lot.id)
    assert sorted(n for _, n, _ in open_now) == sorted(o.detail for o in won)
    assert sorted(r for _, _, r in open_now) == sorted(
        "active" if o.plate.startswith("WALK") else "reserved" for o in won)
    assert_spots_match_reservations(app, lot.id)
    assert app.lots.get(lot.id).available == 0


def test_check_outs_and_check_ins_at_once_keep_spots_consistent(
    app: App, manager: Actor, tmp_path: Path, kiosks: Kiosks
) -> None:
    """Two kiosks free spots while four check cars in: a freed spot is given at most once,
    the lot is never exceeded, and statuses still match the open reservations."""
    lot = app.lots.create(manager, name="Busy Lot", address="2 Fast Lane", pin_code="RACE2",
                          price_per_hour="2.00", number_of_spots=4)
    attendant, _ = make_people(app, manager, 0)
    for i in range(4):
        app.parking.check_in(attendant, lot.id, f"OLD{i}")
    jobs = [job(app, tmp_path, "out0", lot.id, check_outs=[(attendant, "OLD0"),
                                                           (attendant, "OLD1")]),
            job(app, tmp_path, "out1", lot.id, check_outs=[(attendant, "OLD2"),
                                                           (attendant, "OLD3")])]
    jobs += [job(app, tmp_path, f"in{k}", lot.id,
                 bookings=[Booking(attendant, f"NEW{k}{b}", walk_in=True) for b in range(2)])
             for k in range(4)]
    outcomes = kiosks.run(jobs)
    won = [o for o in outcomes if o.kind == "ok"]
    refused = [o for o in outcomes if o.kind == "conflict"]
    assert len(won) + len(refused) == 8
    assert len(won) <= 4
    assert {o.detail for o in refused} <= {"Lot 'Busy Lot' is full: no spot is available."}
    counts = Counter(o.detail for o in won)
    assert all(n == 1 for n in counts.values()), counts
    open_now = open_reservations(app, lot.id)
    assert sorted(n for _, n, _ in open_now) == sorted(o.detail for o in won)
    assert_spots_match_reservations(app, lot.id)


def test_one_driver_booking_from_several_kiosks_at_once_gets_one_booking(
    app: App, manager: Actor, tmp_path: Path, kiosks: Kiosks
) -> None:
    lot = app.lots.create(manager, name="Twin Lot", address="3 Fast Lane", pin_code="RACE3",
                          price_per_hour="2.00", number_of_spots=6)
    _, [driver] = make_people(app, manager, 1)
    # The same driver, four kiosks, four different plates, one instant.
    jobs = [job(app, tmp_path, f"twin{k}", lot.id, bookings=[Booking(driver, f"TWIN{k}")])
            for k in range(4)]
    outcomes = kiosks.run(jobs)
    won = [o for o in outcomes if o.kind == "ok"]
    refused = [o for o in outcomes if o.kind == "conflict"]
    assert len(won) == 1, outcomes
    assert len(refused) == 3
    # On PostgreSQL the losers pass the service's check and are stopped by the partial unique
    # index; they must still get the plain sentence, not a database error.
    assert {o.detail for o in refused} == {
        "racer0 already has an open booking; release or cancel it first."}
    open_now = open_reservations(app, lot.id)
    assert [n for _, n, _ in open_now] == [won[0].detail]
    assert_spots_match_reservations(app, lot.id)
    current = app.parking.open_reservation(driver)
    assert current is not None and current.id == won[0].reservation_id


def test_one_plate_checked_in_at_several_gates_at_once_gets_one_spot(
    app: App, manager: Actor, tmp_path: Path, kiosks: Kiosks
) -> None:
    lot = app.lots.create(manager, name="Gate Lot", address="4 Fast Lane", pin_code="RACE4",
                          price_per_hour="2.00", number_of_spots=6)
    attendant, _ = make_people(app, manager, 0)
    jobs = [job(app, tmp_path, f"gate{k}", lot.id,
                bookings=[Booking(attendant, "SAME123", walk_in=True)]) for k in range(3)]
    outcomes = kiosks.run(jobs)
    assert sorted(o.kind for o in outcomes) == ["conflict", "conflict", "ok"]
    assert all("Vehicle SAME123 already has an open booking" in o.detail
               for o in outcomes if o.kind == "conflict")
    assert len(open_reservations(app, lot.id)) == 1
    assert_spots_match_reservations(app, lot.id)


def test_shrinking_while_kiosks_book_never_strands_a_booking(
    app: App, manager: Actor, tmp_path: Path, kiosks: Kiosks
) -> None:
    """A manager shrinks the lot from 8 to 3 spots while five kiosks check cars in: either the
    shrink wins (and no booking lands on a removed spot) or it is refused naming the spots
    that block it; nothing in between."""
    lot = app.lots.create(manager, name="Shrinking", address="5 Fast Lane", pin_code="RACE5",
                          price_per_hour="2.00", number_of_spots=8)
    attendant, _ = make_people(app, manager, 0)
    jobs = [job(app, tmp_path, "shrink", lot.id, resize=(manager, 3))]
    jobs += [job(app, tmp_path, f"gate{k}", lot.id,
                 bookings=[Booking(attendant, f"CAR{k}{b}", walk_in=True) for b in range(2)])
             for k in range(5)]
    outcomes = kiosks.run(jobs)
    [resize] = [o for o in outcomes if o.plate == "resize"]
    won = [o for o in outcomes if o.plate != "resize" and o.kind == "ok"]
    final = app.lots.get(lot.id)
    spots = {s.number for s in app.parking.spots(manager, lot.id)}
    if resize.kind == "ok":
        assert final.number_of_spots == 3 and spots == {"P001", "P002", "P003"}
        assert len(won) <= 3
    else:
        assert resize.detail.startswith("Lot 'Shrinking' has occupied spot")
        assert resize.detail.endswith("free them before shrinking.")
        assert final.number_of_spots == 8 and len(spots) == 8
    # Every open booking is on a spot that still exists, and the map agrees.
    assert {n for _, n, _ in open_reservations(app, lot.id)} <= spots
    assert sorted(n for _, n, _ in open_reservations(app, lot.id)) == sorted(
        o.detail for o in won)
    assert_spots_match_reservations(app, lot.id)


def winner_spot(outcomes: list[Outcome], plate: str) -> str:
    """The spot the one successful booking of ``plate`` got."""
    [spot] = [o.detail for o in outcomes if o.plate == plate and o.kind == "ok"]
    return spot


def test_one_plate_at_eight_gates_and_another_car_at_a_ninth_both_get_a_spot(
    app: App, manager: Actor, tmp_path: Path, kiosks: Kiosks
) -> None:
    """Two free spots, nine kiosks at once: eight check the same plate in, the ninth books
    another car for a driver. Both vehicles get a spot; every other gate is told the plate is
    already booked, and nobody hears "full" while a spot is free. (On PostgreSQL, SKIP LOCKED
    used to skip the spots held by the same-plate losers, and the other car was told the lot
    was full while a spot was about to be given back.)"""
    attendant, [driver] = make_people(app, manager, 1)
    for round_ in range(MIXED_ROUNDS):
        lot = app.lots.create(manager, name=f"Mixed {round_}", address="6 Fast Lane",
                              pin_code=f"MIX{round_}", price_per_hour="2.00", number_of_spots=2)
        same, other = f"SAME{round_}", f"OTHER{round_}"
        jobs = [job(app, tmp_path, f"mix{round_}-{k}", lot.id,
                    bookings=[Booking(attendant, same, walk_in=True)]) for k in range(8)]
        jobs.insert(round_ * 4, job(app, tmp_path, f"mix{round_}-other", lot.id,
                                    bookings=[Booking(driver, other)]))
        outcomes = kiosks.run(jobs)
        assert len(outcomes) == 9
        assert [o.kind for o in outcomes if o.plate == other] == ["ok"], outcomes
        same_plate = [o for o in outcomes if o.plate == same]
        assert sorted(o.kind for o in same_plate) == ["conflict"] * 7 + ["ok"], outcomes
        # Each refusal names the real reason and where the car already is.
        refusals = {o.detail for o in same_plate if o.kind == "conflict"}
        assert len(refusals) == 1, outcomes
        [refusal] = refusals
        assert refusal.startswith(f"Vehicle {same} already has an open booking: parked in "), \
            outcomes
        assert f"spot {winner_spot(outcomes, same)}," in refusal, outcomes
        assert sorted(o.detail for o in outcomes if o.kind == "ok") == ["P001", "P002"]
        open_now = open_reservations(app, lot.id)
        assert sorted(n for _, n, _ in open_now) == ["P001", "P002"]
        assert_spots_match_reservations(app, lot.id)
        current = app.parking.open_reservation(driver)
        assert current is not None and current.vehicle_number == other
        app.parking.cancel(driver, current.id)  # the driver may book again next round
