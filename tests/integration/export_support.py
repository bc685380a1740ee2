"""Shared data and helpers for the export tests."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.exports.exports import ExportJobView
from parking_desktop.services.exports.scope import ExportScope

LOT_A = '=HYPERLINK("http://x","y")'
ADDRESS_A = '-1 Main St, "Old Town"'
LOT_B = "Gare Sud"
ADDRESS_B = "@Station Road 2"


@dataclass(frozen=True)
class History:
    sum_driver: Actor  # full name "@SUM(1)"
    plain_driver: Actor  # no full name
    lot_a: int
    lot_b: int


def actor(app: App, username: str, role: Role, email: str | None = None,
          full_name: str = "") -> Actor:
    view = app.users.create(SYSTEM, username=username, password="correct-horse-1", role=role,
                            email=email, full_name=full_name)
    return Actor(user_id=view.id, username=view.username, role=view.role)


def build_history(app: App, manager: Actor, attendant: Actor, clock: FixedClock) -> History:
    """Five reservations, ids 1 to 5 (times in UTC; the site is in Europe/Paris):

    1. @SUM(1) books lot A 09:00, parks 09:15, leaves 10:52:30 (1.625 h at 2.50 -> 4.06)
    2. the attendant checks in walk-in XY99Z at lot B 10:52:30, out 11:22:30 (1 h min: 3.00)
    3. plain books lot B 11:22:30 and cancels at 11:27:30
    4. the attendant checks plain's JK55 in at lot A 11:27:30; still parked
    5. 29 March (the night clocks go forward): @SUM(1)'s AB12CD checked in at lot B 00:30 UTC
       (01:30 CET), out 02:30 UTC (04:30 CEST): 2 h, 6.00
    """
    sum_driver = actor(app, "sumdriver", Role.DRIVER, "sum@example.com", "@SUM(1)")
    plain = actor(app, "plain", Role.DRIVER, "plain@example.com")
    lot_a = app.lots.create(manager, name=LOT_A, address=ADDRESS_A, pin_code="75001",
                            price_per_hour="2.50", number_of_spots=3).id
    lot_b = app.lots.create(manager, name=LOT_B, address=ADDRESS_B, pin_code="75002",
                            price_per_hour="3", number_of_spots=2).id
    r1 = app.parking.reserve(sum_driver, lot_a, "ab-12 cd")
    clock.advance(minutes=15)
    app.parking.park(sum_driver, r1.id)
    clock.advance(hours=1, minutes=37, seconds=30)
    app.parking.release(sum_driver, r1.id)
    app.parking.check_in(attendant, lot_b, "xy-99 z")
    clock.advance(minutes=30)
    app.parking.check_out(attendant, "XY99Z")
    r3 = app.parking.reserve(plain, lot_b, "GH77")
    clock.advance(minutes=5)
    app.parking.cancel(plain, r3.id)
    assert plain.user_id is not None
    app.parking.check_in(attendant, lot_a, "JK55", driver_id=plain.user_id)
    clock.set(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    assert sum_driver.user_id is not None
    app.parking.check_in(attendant, lot_b, "AB12CD", driver_id=sum_driver.user_id)
    clock.advance(hours=2)
    app.parking.check_out(attendant, "AB12CD")
    return History(sum_driver, plain, lot_a, lot_b)


def finished(app: App, job_id: str) -> ExportJobView:
    assert app.exports.wait(job_id, timeout=60), "the export did not finish"
    return app.exports.status(SYSTEM, job_id)


def export_bytes(app: App, who: Actor, scope: ExportScope) -> bytes:
    view = finished(app, app.exports.request(who, scope))
    assert view.status == "completed", view.error_message
    assert view.file_path is not None
    return Path(view.file_path).read_bytes()


def cells(data: bytes) -> list[list[str]]:
    """The rows as a spreadsheet reads them (BOM removed)."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
