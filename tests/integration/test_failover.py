"""A real failover: a private primary and its streaming standby (pg_basebackup -R), a worker
and a kiosk process on the two-host URL; the primary dies (pg_ctl stop -m immediate), the
standby is promoted, and both processes carry on — bookings succeed, the worker delivers a mail
queued after the promotion and records the run — with no restart.

How long detection and reconnection took is printed (and measured by
scripts/failover_benchmark.py), never asserted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from parking_desktop.adapters.db.models import JobRun, Reservation
from parking_desktop.adapters.job_lease import JobLeases
from parking_desktop.bootstrap import App
from tests.integration.failover_support import KioskProcess, seed_site
from tests.integration.hardening_support import Worker
from tests.mail_support import SmtpServer
from tests.pg_clusters import Pair, create_database, primary_and_standby, server_bindir

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def wait(condition: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return bool(condition())


@pytest.fixture
def pair() -> Iterator[Pair]:
    bindir = server_bindir()
    if bindir is None:
        pytest.fail(
            "the PostgreSQL server programs (initdb, pg_ctl, pg_basebackup) are not "
            "installed: the failover test needs them (Debian/Ubuntu: postgresql)",
            pytrace=False,
        )
    with primary_and_standby(bindir) as made:
        yield made


def test_worker_and_kiosk_carry_on_after_the_standby_is_promoted(
    pair: Pair, tmp_path: Path
) -> None:
    create_database(pair, "parking")
    url = pair.url("parking")
    app = seed_site(url, tmp_path / "test")
    smtp = SmtpServer().start()
    worker = Worker(
        tmp_path / "worker",
        url,
        {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp.port), "JOB_STALE_AFTER_SECONDS": "5"},
    )
    kiosk = KioskProcess(url, tmp_path / "kiosk")
    try:
        assert worker.wait_for("Worker running", timeout=120), worker.stderr
        assert wait(lambda: kiosk.count("ok") >= 5, 120), (kiosk.events[-5:], kiosk.errors)
        pair.wait_replayed()
        leases = JobLeases(app.db.engine, tmp_path / "leases")
        held = leases.acquire("export-1")  # an advisory lock in a session of the primary

        crashed = time.time()
        pair.crash_primary()
        pair.promote_standby()
        promoted = time.time()
        # A mail queued on the new primary: only a worker that reconnected can deliver it.
        assert wait(lambda: _queue_alert(app), 60)

        assert wait(lambda: kiosk.count("ok", after=promoted) >= 10, 120), (
            kiosk.events[-5:],
            kiosk.errors[-5:],
        )
        assert wait(lambda: len(smtp.received) >= 1, 150), worker.stderr
        assert wait(lambda: _runs_after(app, promoted), 30), worker.stderr
        # The kiosk's change listener (LISTEN) lost the primary and connected to the new one.
        assert wait(
            lambda: any(
                e["event"] == "listener" and e["connected"] and e["at"] > crashed
                for e in list(kiosk.events)
            ),
            60,
        ), kiosk.events[-5:]
        # The lease's session died with the primary: releasing it is not an error, and the
        # same lease can be taken on the new primary.
        held.release()
        leases.acquire("export-1").release()
        # Both are the processes started before the failover: neither restarted.
        assert worker.process.poll() is None and kiosk.process.poll() is None
    finally:
        kiosk_code = kiosk.stop()
        worker_code = worker.terminate(timeout=60)
        worker.kill()
        smtp.stop()

    assert kiosk_code == 0, kiosk.errors[-10:]
    assert worker_code == 0, worker.stderr
    # Every booking the kiosk said was made is on the new primary, once.
    done = kiosk.count("ok")
    with app.db.read() as session:
        stored = session.scalar(select(func.count()).select_from(Reservation))
    app.close()
    assert stored is not None and done <= stored <= done + kiosk.count("fail")
    assert "Traceback" not in worker.stderr, worker.stderr
    offline, back = kiosk.first("offline", crashed), kiosk.first("online", crashed)
    first_ok = kiosk.first("ok", crashed)
    assert first_ok is not None
    print(
        f"\nfailover: standby promoted {promoted - crashed:.2f} s after the crash; kiosk "
        f"noticed after {(offline['at'] - crashed) if offline else float('nan'):.2f} s, "
        f"back online after {(back['at'] - crashed) if back else float('nan'):.2f} s, "
        f"first booking after {first_ok['at'] - crashed:.2f} s"
    )


def _queue_alert(app: App) -> bool:
    try:
        queued = app.email.send_system_alert(
            "Failover test", "Sent after the promotion.", chat=False
        )
    except Exception:
        return False  # the pool still held connections to the dead primary: try again
    return bool(queued)


def _runs_after(app: App, moment: float) -> bool:
    since = datetime.fromtimestamp(moment, UTC)
    with app.db.read() as session:
        runs = session.scalars(
            select(JobRun).where(JobRun.job == "outbox_dispatch", JobRun.finished_at >= since)
        ).all()
    return any(run.status == "completed" and run.counts.get("sent") for run in runs)
