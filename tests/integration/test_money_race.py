"""Receipt numbers under a real race: several kiosk processes check cars out at the same
instant on one database (PostgreSQL: one server, several machines), with refused check-outs
among them. The numbers are 1..N: no gap, no duplicate."""

from __future__ import annotations

import multiprocessing
import traceback
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor, Role
from tests.conftest import MakeUser
from tests.integration.money_support import make_lot, payments, receipt_numbers

KIOSKS = 4
PER_KIOSK = 6
TIMEOUT = 180

pytestmark = pytest.mark.slow


def _kiosk(url: str, data_dir: str, actor: Actor, plates: list[str], go: Any, out: Any) -> None:
    """One kiosk: its own App (engine, pool, services); waits at the start line, then checks
    its cars out as fast as it can; every other one first with too little cash (refused)."""
    try:
        from parking_desktop.adapters.passwords import Argon2Hasher
        from parking_desktop.bootstrap import build_app
        from parking_desktop.config import load_settings
        from parking_desktop.domain.errors import ValidationError
        from parking_desktop.domain.money import PaymentMethod
        from parking_desktop.services.money.views import PaymentRequest

        settings = load_settings(
            data_dir=Path(data_dir),
            database_url=url,
            environ={},
            dotenv_path=Path(data_dir) / "none.env",
        )
        app = build_app(settings, hasher=Argon2Hasher(fast=True), upgrade=False)
        app.money.current_shift(actor)  # connected before the start line
        go.wait(TIMEOUT)
        numbers = []
        for index, plate in enumerate(plates):
            if index % 2:  # a refused check-out in between leaves no trace in the numbers
                refused = False
                try:
                    app.money.check_out(
                        actor, plate, PaymentRequest(PaymentMethod.CASH, tendered=Decimal("0.01"))
                    )
                except ValidationError:
                    refused = True
                assert refused
            receipt = app.money.check_out(
                actor,
                plate,
                PaymentRequest(PaymentMethod.CASH if index % 3 else PaymentMethod.CARD),
            )
            assert receipt.payment is not None
            numbers.append(int(receipt.payment.receipt_number))
        app.close()
        out.put(("ok", numbers))
    except Exception:
        out.put(("error", traceback.format_exc()))


def test_receipt_numbers_stay_gapless_and_unique_with_kiosks_racing(
    app: App, manager: Actor, make_user: MakeUser, tmp_path: Path, db_url: str
) -> None:
    lot = make_lot(app, manager, spots=KIOSKS * PER_KIOSK)
    jobs = []
    for kiosk in range(KIOSKS):
        attendant = make_user(f"kiosk_att{kiosk}", Role.ATTENDANT)
        app.money.open_shift(attendant, Decimal("50"), host=f"kiosk-{kiosk}")
        plates = [f"RACE{kiosk}X{n}" for n in range(PER_KIOSK)]
        for plate in plates:
            app.parking.check_in(attendant, lot.id, plate)
        jobs.append((attendant, plates))
    spawn = multiprocessing.get_context("spawn")
    go = spawn.Barrier(KIOSKS)
    out = spawn.Queue()
    processes = [
        spawn.Process(
            target=_kiosk, args=(db_url, str(tmp_path / f"kiosk{i}"), actor, plates, go, out)
        )
        for i, (actor, plates) in enumerate(jobs)
    ]
    for process in processes:
        process.start()
    try:
        results = [out.get(timeout=TIMEOUT) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    errors = [detail for kind, detail in results if kind == "error"]
    assert errors == []
    handed_out = sorted(n for _, numbers in results for n in numbers)
    total = KIOSKS * PER_KIOSK
    assert handed_out == list(range(1, total + 1))
    assert receipt_numbers(app) == list(range(1, total + 1))
    assert len(payments(app)) == total
