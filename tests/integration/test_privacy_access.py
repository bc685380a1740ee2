"""Right of access on both databases: the data bundle (a ZIP through the export machinery)
holds every row about the driver and nothing about anyone else, with formula-safe CSV files;
and the privacy commands through real subprocesses."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from parking_desktop.adapters.db.models import Reservation, UserActivity
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.exports.scope import ExportScope
from tests.integration.privacy_support import (
    PASSWORD,
    T0,
    app_with,
    centre,
    person,
    privacy_cli,
    stay,
)


def two_drivers(app: App, clock: FixedClock) -> tuple[Actor, int, int, int]:
    clock.set(T0)
    manager = person(app, "boss", Role.MANAGER)
    a = person(app, "alma", Role.DRIVER, "alma@example.com", "=HYPERLINK(1)").user_id
    b = person(app, "bruno", Role.DRIVER, "bruno@example.com", "Bruno Other").user_id
    assert a is not None and b is not None
    lot_id = centre(app, manager)
    stay(app, clock, manager, lot_id, "ALMA01", 1, driver_id=a)
    stay(app, clock, manager, lot_id, "ALMA02", 2, driver_id=a)
    stay(app, clock, manager, lot_id, "BRUNO9", 2, driver_id=b)
    app.users.authenticate("alma", PASSWORD)
    app.users.authenticate("bruno", PASSWORD)
    clock.set(T0 + timedelta(days=3))
    return manager, a, b, lot_id


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


def test_privacy_commands(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    with app_with(db_url, tmp_path, clock, fast_hasher) as app:
        manager, alma, _, lot_id = two_drivers(app, clock)
        app.parking.check_in(manager, lot_id, "ALMA03", driver_id=alma)
    data_dir = tmp_path / "data"
    out = tmp_path / "alma.zip"
    done = privacy_cli(data_dir, db_url, "user", "data", "--username", "alma", "--out", str(out))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out) as zf:
        assert len(json.loads(zf.read("data.json"))["reservations"]) == 3
    refused = privacy_cli(data_dir, db_url, "user", "erase", "--username", "alma")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "open booking" in refused.stderr
    assert "Traceback" not in refused.stderr
    ran = privacy_cli(data_dir, db_url, "retention", "run", "--json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["plates_masked"] == 0  # no limit set: nothing changes
    erased = privacy_cli(data_dir, db_url, "user", "erase", "--username", "bruno")
    assert erased.returncode == 0, erased.stderr
    assert "erased-" in erased.stdout
    usage = privacy_cli(data_dir, db_url, "user", "erase")
    assert usage.returncode == 2
