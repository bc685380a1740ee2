"""Real outages (a TCP proxy between the kiosks and PostgreSQL, cut and restored): two kiosk
processes offline at once do 100 check-ins and check-outs between them, some conflicting;
after the restore every operation is in the database once, the conflicts are listed, and
`db check` finds occupancy equal to the recount from the reservations. A kiosk killed (-9)
in the middle of its replay, then `sync`: still exactly once."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from parking_desktop.adapters.db.models import Reservation
from parking_desktop.adapters.db.models_offline import AppliedOperation, SyncConflict
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.domain.states import OPEN_BOOKINGS
from tests.conftest import PASSWORD, truncate_all
from tests.integration.hardening_support import TcpProxy, main_py
from tests.integration.offline_support import OfflineKiosk, SlowProxy

pytestmark = pytest.mark.postgres


def wait(condition: Callable[[], bool], timeout: float = 120.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def site(pg_database_url: str, tmp_path: Path) -> Iterator[tuple[App, int, Actor]]:
    """The server side: a manager, the attendant "gate" the kiosks sign in as, a lot of 80:
    room for every car even when the two replays run their check-ins side by side (11 parked
    before + 60), so no check-in is refused as "full" however the replays interleave."""
    truncate_all(pg_database_url)
    app = build_app(
        load_settings(
            data_dir=tmp_path / "server",
            database_url=pg_database_url,
            environ={"APP_TIMEZONE": "UTC", "SCHEDULER_ENABLED": "false"},
            dotenv_path=tmp_path / "no.env",
        )
    )
    boss = app.users.create(SYSTEM, username="boss", password=PASSWORD, role=Role.MANAGER)
    gate = app.users.create(SYSTEM, username="gate", password=PASSWORD, role=Role.ATTENDANT)
    manager = Actor(user_id=boss.id, username="boss", role=Role.MANAGER)
    lot = app.lots.create(
        manager,
        name="Central",
        address="1 Main Street",
        pin_code="CEN01",
        price_per_hour=Decimal("2.50"),
        number_of_spots=80,
    )
    try:
        yield app, lot.id, Actor(user_id=gate.id, username="gate", role=Role.ATTENDANT)
    finally:
        app.close()


def proxied(url: str, proxy: TcpProxy) -> str:
    return (
        make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    )


def scalar(app: App, query: object) -> int:
    with app.ctx.read() as session:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def synced_clean(kiosk: OfflineKiosk, after: float) -> bool:
    done = [e for e in kiosk.seen("synced") if e["at"] > after]
    return bool(done) and done[-1]["waiting"] == 0 and not done[-1]["error"]


def test_two_kiosks_offline_at_once_replay_every_operation_once(
    site: tuple[App, int, Actor], pg_database_url: str, tmp_path: Path
) -> None:
    app, lot, gate = site
    for n in range(1, 11):  # cars parked before the outage: in both kiosks' pictures
        app.parking.check_in(gate, lot, f"PRE{n:02d}")
    proxy = TcpProxy(make_url(pg_database_url).port or 5432).start()
    url = proxied(pg_database_url, proxy)
    a = OfflineKiosk(url, tmp_path / "kiosk-a")
    b = OfflineKiosk(url, tmp_path / "kiosk-b")
    try:
        assert a.wait_for("ready") and b.wait_for("ready"), a.errors + b.errors
        # A car checked in at A (online) just before the outage: B learns of it through the
        # change notices and a new picture, and can check it out offline.
        a.send({"ops": [["in", lot, "LATE1"]]})
        assert a.wait_for("ops_done")
        checked_in = a.seen("ops_done")[0]["at"]
        assert wait(lambda: any(e["at"] > checked_in for e in b.seen("synced")), 30)
        proxy.cut()
        assert a.wait_for("offline") and b.wait_for("offline")

        # 50 operations each. Both believe the same spots free (every check-in may collide),
        # both check in DUP1, both check out PRE06.
        ops_a = (
            [["in", lot, f"A{n:02d}"] for n in range(1, 31)]
            + [["out", f"A{n:02d}"] for n in range(1, 14)]
            + [["out", f"PRE{n:02d}"] for n in range(1, 6)]
            + [["in", lot, "DUP1"], ["out", "PRE06"]]
        )
        ops_b = (
            [["in", lot, f"B{n:02d}"] for n in range(1, 31)]
            + [["out", f"B{n:02d}"] for n in range(1, 14)]
            + [["out", "LATE1"]]
            + [["out", f"PRE{n:02d}"] for n in range(7, 11)]
            + [["in", lot, "DUP1"], ["out", "PRE06"]]
        )
        assert len(ops_a) + len(ops_b) == 100
        a.send({"ops": ops_a})
        b.send({"ops": ops_b})
        assert a.wait_for("ops_done", 2) and b.wait_for("ops_done")
        assert a.seen("op_refused") == b.seen("op_refused") == []
        assert a.seen("ops_done")[-1]["pending"] == b.seen("ops_done")[-1]["pending"] == 50
        assert scalar(app, select(func.count()).select_from(AppliedOperation)) == 0

        restored = time.time()
        proxy.restore()
        assert wait(lambda: synced_clean(a, restored) and synced_clean(b, restored)), (
            a.events[-3:],
            b.events[-3:],
        )
    finally:
        codes = (a.stop(), b.stop())
        proxy.cut()
    assert codes == (0, 0), a.errors + b.errors

    with app.ctx.read() as session:
        applied = session.scalars(select(AppliedOperation)).all()
        assert len(applied) == 100 and len({op.op_id for op in applied}) == 100
        per_kiosk = Counter(op.kiosk_id for op in applied)
        assert sorted(per_kiosk.values()) == [50, 50]
        for kiosk_id in per_kiosk:  # in order, none skipped
            assert sorted(op.seq for op in applied if op.kiosk_id == kiosk_id) == list(range(1, 51))
        plates = Counter(session.scalars(select(Reservation.vehicle_number)).all())
        expected = {f"A{n:02d}" for n in range(1, 31)} | {f"B{n:02d}" for n in range(1, 31)}
        expected |= {f"PRE{n:02d}" for n in range(1, 11)} | {"DUP1", "LATE1"}
        assert set(plates) == expected and set(plates.values()) == {1}  # nothing doubled
        still_open = session.scalars(
            select(Reservation.vehicle_number).where(Reservation.status.in_(OPEN_BOOKINGS))
        ).all()
        assert sorted(still_open) == sorted(
            [f"A{n:02d}" for n in range(14, 31)] + [f"B{n:02d}" for n in range(14, 31)] + ["DUP1"]
        )
        conflicts = session.scalars(select(SyncConflict)).all()
        not_as_done = [op for op in applied if op.outcome != "applied"]
        assert len(conflicts) == len(not_as_done)  # each one has its row for the manager
        kinds = {(c.kind, c.vehicle_number) for c in conflicts}
        assert ("check_in", "DUP1") in kinds and ("check_out", "PRE06") in kinds
        moved = [c for c in conflicts if "spot_given" in c.server_version]
        assert moved, "both kiosks gave out the same spots: some check-ins had to move"
        for c in moved:  # both versions are kept
            assert c.kiosk_version["spot_number"] != c.server_version["spot_given"]
    check = main_py(tmp_path / "check", pg_database_url, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "every spot's status match" in check.stdout


def test_a_kiosk_killed_during_its_replay_then_sync_is_still_exactly_once(
    site: tuple[App, int, Actor], pg_database_url: str, tmp_path: Path
) -> None:
    app, lot, _gate = site
    # Every chunk each way waits 15 ms: the replay of 40 operations takes seconds.
    proxy = SlowProxy(make_url(pg_database_url).port or 5432, delay=0.015).start()
    kiosk = OfflineKiosk(proxied(pg_database_url, proxy), tmp_path / "kiosk")
    try:
        assert kiosk.wait_for("ready"), kiosk.errors
        proxy.cut()
        assert kiosk.wait_for("offline")
        kiosk.send({"ops": [["in", lot, f"K{n:02d}"] for n in range(1, 41)]})
        assert kiosk.wait_for("ops_done")
        proxy.restore()
        count = select(func.count()).select_from(AppliedOperation)
        assert wait(lambda: scalar(app, count) >= 3)
        kiosk.process.kill()  # SIGKILL: no clean-up of any kind
        kiosk.process.wait(30)
        at_kill = scalar(app, count)
        assert at_kill < 40, "the replay ended before the kill: nothing was tested"
    finally:
        kiosk.stop()
        proxy.cut()

    # Restarted (here: the `sync` command on the same data folder, straight to the server).
    done = main_py(tmp_path / "kiosk", pg_database_url, "sync", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["waiting"] == 0 and report["error"] == ""
    assert report["sent"] >= 40 - at_kill  # what the kill left, with any answer it never heard
    with app.ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(AppliedOperation)) == 40
        plates = Counter(session.scalars(select(Reservation.vehicle_number)).all())
        assert set(plates) == {f"K{n:02d}" for n in range(1, 41)}
        assert set(plates.values()) == {1}
    status = main_py(tmp_path / "kiosk", pg_database_url, "kiosk", "status", "--json")
    assert json.loads(status.stdout)["journal_size"] == 0
    check = main_py(tmp_path / "check", pg_database_url, "db", "check")
    assert check.returncode == 0, check.stdout + check.stderr
