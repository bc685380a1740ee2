"""What-if repricing in two worker processes (spawned) gives exactly the one-process result,
with progress to the end, and a cancel stops it; both databases."""

from __future__ import annotations

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM, Actor
from parking_desktop.services.tariffs.simulation import SimulationCancelled
from tests.integration.test_tariffs_service import day_night


def test_two_processes_give_the_one_process_result(
    app: App, manager: Actor, clock: FixedClock
) -> None:
    lots = [
        app.lots.create(
            manager,
            name=name,
            address="1 Main St",
            pin_code=f"P000{i}",
            price_per_hour=price,
            number_of_spots=3,
        ).id
        for i, (name, price) in enumerate([("Quay", "2.50"), ("Harbour", "1.00")])
    ]
    for i in range(24):
        app.parking.check_in(SYSTEM, lots[i % 2], f"W{i}")
        clock.advance(minutes=[5, 40, 61, 200, 700, 1600][i % 6])
        app.parking.check_out(SYSTEM, f"W{i}")
        clock.advance(minutes=53 * i + 7)
    draft = day_night()
    app.tariffs.procs = 1
    alone = app.tariffs.simulate(None, draft, 60)
    app.tariffs.procs, app.tariffs.parallel_from = 2, 0
    progress: list[tuple[int, int]] = []
    shared = app.tariffs.simulate(None, draft, 60, lambda d, t: progress.append((d, t)))
    assert shared == alone
    assert alone.stays == 24 and alone.revenue_draft != alone.revenue_now
    assert [lot.stays for lot in shared.lots] == [12, 12]
    assert progress[0] == (0, 24) and progress[-1] == (24, 24)
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)

    with pytest.raises(SimulationCancelled):
        app.tariffs.simulate(None, draft, 60, cancelled=lambda: True)
    for lot_id in lots:  # one lot alone as well
        app.tariffs.procs = 1
        one = app.tariffs.simulate(lot_id, draft, 60)
        app.tariffs.procs = 2
        assert app.tariffs.simulate(lot_id, draft, 60) == one
