"""Shared pieces of the privacy tests: an App whose settings carry the RETAIN_* limits, and a
small history spread over time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import Actor

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


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
