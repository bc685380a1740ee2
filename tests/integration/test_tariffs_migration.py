"""0012 on a database with data: every lot (archived too) gets today's flat rule at its price as
its first version, old reservations record none and are charged exactly as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, select

from parking_desktop.adapters.db import migrate
from parking_desktop.adapters.db.models import ParkingSpot, Reservation
from parking_desktop.adapters.db.models_tariffs import TariffVersion as VersionRow
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.fee import compute_fee
from parking_desktop.domain.roles import SYSTEM
from parking_desktop.domain.tariffs import flat_tariff, tariff_from_json
from tests.integration.test_migrations import _add_lot, empty_engine  # noqa: F401

PARKED = datetime(2026, 3, 1, 9, 0, 7, 250_000, tzinfo=UTC)


def test_0012_gives_every_lot_its_flat_rule_and_old_fees_do_not_move(
    empty_engine: Engine,  # noqa: F811
    tmp_path: Path,
) -> None:
    migrate.upgrade(empty_engine, "0005")
    with empty_engine.begin() as conn:
        _add_lot(conn, "City Center")
        _add_lot(conn, "Old Harbour", archived=True)
        conn.execute(ParkingSpot.__table__.insert().values(
            id=1, lot_id=1, number="P001", position=1, status="O"))
        # Booked at 1.70/h before the lot cost 2.00/h: the stay keeps the price it recorded.
        conn.execute(Reservation.__table__.insert().values(
            spot_id=1, vehicle_number="OPEN1", status="active", reserved_at=PARKED,
            parked_at=PARKED, price_per_hour=Decimal("1.70")))
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as conn:
        versions = conn.execute(select(VersionRow.lot_id, VersionRow.document,
                                       VersionRow.created_by)).all()
        recorded = conn.execute(select(Reservation.tariff_version_id)).scalars().all()
    assert sorted(lot for lot, _, _ in versions) == [1, 2]
    assert all(tariff_from_json(doc) == flat_tariff(Decimal("2.00")) for _, doc, _ in versions)
    assert all(by is None for _, _, by in versions)
    assert recorded == [None]

    url = empty_engine.url.render_as_string(hide_password=False)
    settings = load_settings(data_dir=tmp_path / "data", database_url=url,
                             environ={"APP_TIMEZONE": "Europe/Paris"},
                             dotenv_path=tmp_path / "no.env")
    left = PARKED + timedelta(hours=2, minutes=13, seconds=1, microseconds=3)
    app = build_app(settings, clock=FixedClock(left), hasher=Argon2Hasher(fast=True))
    try:
        receipt = app.parking.check_out(SYSTEM, "OPEN1")
        expected = compute_fee(left - PARKED, Decimal("1.70"))
        assert (receipt.cost, receipt.hours) == (expected.cost, expected.hours)
        assert receipt.tariff_version_id is None
        assert [line.amount for line in receipt.lines] == [expected.cost]
        assert app.tariffs.current(1) == flat_tariff(Decimal("2.00"))
        [stored] = app.tariffs.versions(1)
        assert not stored.used
    finally:
        app.close()
