"""Right of access on both databases: the data bundle (a ZIP through the export machinery)
holds every row about the driver and nothing about anyone else, with formula-safe CSV files;
and the privacy commands through real subprocesses."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from parking_desktop.adapters.db.models import Reservation, UserActivity
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.exports.scope import ExportScope
from tests.integration.privacy_support import T0, app_with, stay

ROOT = Path(__file__).resolve().parents[2]


def two_drivers(app: App, clock: FixedClock) -> tuple[Actor, int, int, int]:
    clock.set(T0)
    m = app.users.create(SYSTEM, username="boss", password="correct-horse-1", role=Role.MANAGER)
    manager = Actor(user_id=m.id, username="boss", role=Role.MANAGER)
    a = app.users.create(
        SYSTEM,
        username="alma",
        password="correct-horse-1",
        role=Role.DRIVER,
        email="alma@example.com",
        full_name="=HYPERLINK(1)",
    )
    b = app.users.create(
        SYSTEM,
        username="bruno",
        password="correct-horse-1",
        role=Role.DRIVER,
        email="bruno@example.com",
        full_name="Bruno Other",
    )
    lot = app.lots.create(
        manager,
        name="Centre",
        address="1 Main St",
        pin_code="75001",
        price_per_hour="2.00",
        number_of_spots=5,
    )
    stay(app, clock, manager, lot.id, "ALMA01", 1, driver_id=a.id)
    stay(app, clock, manager, lot.id, "ALMA02", 2, driver_id=a.id)
    stay(app, clock, manager, lot.id, "BRUNO9", 2, driver_id=b.id)
    app.users.authenticate("alma", "correct-horse-1")
    app.users.authenticate("bruno", "correct-horse-1")
    clock.set(T0 + timedelta(days=3))
    return manager, a.id, b.id, lot.id


def test_the_bundle_holds_every_row_of_the_driver_and_nothing_else(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher) as app:
        manager, alma, bruno, _ = two_drivers(app, clock)
        job = app.exports.request(manager, ExportScope.data(alma))
        assert app.exports.wait(job, 30)
        view = app.exports.status(manager, job)
        assert view.status == "completed", view.error_message
        assert view.label == "Personal data of alma"
        target = app.exports.save(manager, job, tmp_path / "alma.zip")
        with zipfile.ZipFile(target) as zf:
            names = set(zf.namelist())
            data = json.loads(zf.read("data.json"))
            everything = b"".join(zf.read(n) for n in names).decode("utf-8")
            profile = list(csv.DictReader(io.StringIO(zf.read("profile.csv").decode("utf-8-sig"))))
        assert {"data.json", "profile.csv", "reservations.csv", "activity.csv"} <= names
        with app.db.read() as session:
            mine = set(session.scalars(select(Reservation.id).where(Reservation.user_id == alma)))
            acts = set(session.scalars(select(UserActivity.id).where(UserActivity.user_id == alma)))
        assert {r["id"] for r in data["reservations"]} == mine and len(mine) == 2
        assert {a["id"] for a in data["activity"]} == acts and acts
        assert [p["username"] for p in data["profile"]] == ["alma"]
        assert "password_hash" not in data["profile"][0]
        assert profile[0]["full_name"] == "'=HYPERLINK(1)"  # formula-safe
        for other in ("bruno", "BRUNO9", "Bruno Other"):
            assert other not in everything
        assert all(r["user_id"] == alma for r in data["reservations"])
        # A driver may have their own bundle, not someone else's.
        alma_actor = Actor(user_id=alma, username="alma", role=Role.DRIVER)
        own = app.exports.request(alma_actor, ExportScope.data(alma))
        assert app.exports.wait(own, 30)
        try:
            app.exports.request(alma_actor, ExportScope.data(bruno))
        except Exception as exc:
            assert "only export their own" in str(exc)
        else:
            raise AssertionError("a driver got another driver's data")


def _cli(data_dir: Path, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PARKING_DATA_DIR")}
    env.update({"APP_TIMEZONE": "Europe/Paris", "SCHEDULER_ENABLED": "false"})
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir), "--db", db_url, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_privacy_commands(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher) as app:
        manager, alma, _, lot_id = two_drivers(app, clock)
        app.parking.check_in(manager, lot_id, "ALMA03", driver_id=alma)
    data_dir = tmp_path / "data"
    out = tmp_path / "alma.zip"
    done = _cli(data_dir, db_url, "user", "data", "--username", "alma", "--out", str(out))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as zf:
        assert len(json.loads(zf.read("data.json"))["reservations"]) == 3
    refused = _cli(data_dir, db_url, "user", "erase", "--username", "alma")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "open booking" in refused.stderr
    assert "Traceback" not in refused.stderr
    ran = _cli(data_dir, db_url, "retention", "run", "--json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["plates_masked"] == 0  # no limit set: nothing changes
    erased = _cli(data_dir, db_url, "user", "erase", "--username", "bruno")
    assert erased.returncode == 0, erased.stderr
    assert "erased-" in erased.stdout
    usage = _cli(data_dir, db_url, "user", "erase")
    assert usage.returncode == 2
