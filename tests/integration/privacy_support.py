"""Shared pieces of the privacy tests: an App whose settings carry the RETAIN_* limits, the
people and the lot their histories start from, a small history spread over time, and the
command line in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM, Actor, Role

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-1"


@contextmanager
def app_with(
    db_url: str, folder: Path, clock: FixedClock, hasher: Argon2Hasher, **env: str
) -> Iterator[App]:
    settings = load_settings(
        data_dir=folder / "data",
        database_url=db_url,
        environ={"APP_TIMEZONE": "Europe/Paris", **env},
        dotenv_path=folder / "no.env",
    )
    application = build_app(settings, clock=clock, hasher=hasher)
    try:
        yield application
    finally:
        application.close()


def stay(
    app: App,
    clock: FixedClock,
    staff: Actor,
    lot_id: int,
    plate: str,
    day: int,
    driver_id: int | None = None,
    hours: int = 2,
) -> None:
    """A completed stay starting ``day`` days after T0."""
    clock.set(T0 + timedelta(days=day))
    app.parking.check_in(staff, lot_id, plate, driver_id=driver_id)
    clock.set(T0 + timedelta(days=day, hours=hours))
    app.parking.check_out(staff, plate)


def person(
    app: App, username: str, role: Role, email: str | None = None, full_name: str = ""
) -> Actor:
    """A new user (password ``PASSWORD``), as the actor they act as."""
    view = app.users.create(
        SYSTEM, username=username, password=PASSWORD, role=role, email=email, full_name=full_name
    )
    return Actor(user_id=view.id, username=username, role=role)


def centre(app: App, manager: Actor, price: str = "2.00") -> int:
    """The lot "Centre" of 5 spots; its id."""
    lot = app.lots.create(
        manager,
        name="Centre",
        address="1 Main St",
        pin_code="75001",
        price_per_hour=price,
        number_of_spots=5,
    )
    return lot.id


def privacy_cli(
    data_dir: Path, db_url: str, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``main.py`` with ``args`` in a subprocess, without this machine's database settings."""
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
        input=stdin,
    )
