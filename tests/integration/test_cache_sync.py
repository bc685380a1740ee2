"""Two machines (two apps with separate cache folders) on one PostgreSQL database see each
other's changes through the change notice, not only when a lifetime runs out: the clock is
fixed, so here a lifetime never runs out. How fast a notice arrives is not measured here."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.services.cache.sync import APPLICATION_NAME, CacheSync
from tests.conftest import PG_ADMIN_URL, START, truncate_all
from tests.integration.cache_support import build

pytestmark = pytest.mark.postgres

HANG_GUARD_S = 30.0  # only so that a notice that never comes fails instead of hanging


@pytest.fixture
def machines(pg_database_url: str, tmp_path: Path) -> Iterator[tuple[App, App]]:
    truncate_all(pg_database_url)
    clock = FixedClock(START)  # lifetimes never run out during these tests
    first = build(tmp_path / "machine-a", pg_database_url, clock)
    second = build(tmp_path / "machine-b", pg_database_url, clock)
    for app in (first, second):
        sync = app.cache.sync
        assert isinstance(sync, CacheSync) and sync.wait_connected(10)
    yield first, second
    first.close()
    second.close()


def eventually(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + HANG_GUARD_S
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_changes_on_one_machine_show_on_the_other_through_the_notice(
    machines: tuple[App, App]
) -> None:
    a, b = machines
    assert a.cache.directory != b.cache.directory
    lot = a.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                        price_per_hour="2.50", number_of_spots=4)
    assert b.lots.search()[0].price_per_hour == lot.price_per_hour
    assert b.stats.dashboard(SYSTEM).reservations_active == 0

    a.lots.set_price(SYSTEM, lot.id, "4.20")
    assert eventually(lambda: str(b.lots.search()[0].price_per_hour) == "4.20")

    a.parking.check_in(SYSTEM, lot.id, "AB123")
    # The dashboard was not cached on b (the price change dropped it), so it may read fresh at
    # once; the lot list *was* cached: it is the one that must be refreshed by the notice.
    assert eventually(lambda: b.stats.dashboard(SYSTEM).reservations_active == 1)
    assert eventually(lambda: b.lots.search()[0].occupied == 1)

    # And the other way round.
    assert a.lots.search()[0].occupied == 1
    b.parking.check_out(SYSTEM, "AB123")
    assert eventually(lambda: a.lots.search()[0].occupied == 0)


def test_without_the_listener_the_other_machine_would_stay_stale(
    machines: tuple[App, App], pg_database_url: str, tmp_path: Path
) -> None:
    """The control: it is the change notice, not luck, that refreshes the other machine."""
    a, b = machines
    sync = b.cache.sync
    assert isinstance(sync, CacheSync)
    lot = a.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                        price_per_hour="2.50", number_of_spots=4)
    assert eventually(lambda: sync.received == 1)  # the creation's notice
    sync.stop()
    witness = build(tmp_path / "machine-c", pg_database_url, FixedClock(START))
    try:
        listening = witness.cache.sync
        assert isinstance(listening, CacheSync) and listening.wait_connected(HANG_GUARD_S)
        for machine in (b, b, witness):  # cached on both
            assert machine.lots.search()[0].address == "1 Main St"
        a.lots.update(SYSTEM, lot.id, address="Moved")
        # A machine still listening gets the notice and reads the new address ...
        assert eventually(lambda: witness.lots.search()[0].address == "Moved")
        assert b.lots.search()[0].address == "1 Main St"  # ... b still has the cached value
    finally:
        witness.close()


def test_a_dropped_listener_connection_reconnects_and_forgets_what_it_may_have_missed(
    machines: tuple[App, App], pg_database_url: str
) -> None:
    a, b = machines
    lot = a.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                        price_per_hour="2.50", number_of_spots=4)
    assert b.lots.search()[0].address == "1 Main St"
    sync = b.cache.sync
    assert isinstance(sync, CacheSync)
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # the server drops both listeners (e.g. a restart)
        killed = conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = :app AND datname = :db"),
            {"app": APPLICATION_NAME, "db": make_url(pg_database_url).database}).scalar()
    admin.dispose()
    assert killed == 2
    # A change made while b was not listening; a's own publisher reconnects too.
    a.lots.update(SYSTEM, lot.id, address="Moved")
    assert eventually(lambda: b.lots.search()[0].address == "Moved")
    assert eventually(lambda: sync.status()[0])
