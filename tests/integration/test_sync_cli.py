"""`sync [--json]` and `kiosk status` as a person runs them (real subprocesses): nothing to
send, a database that cannot be reached (one line, exit 1, the journal kept), and a replay."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.services.kiosks.identity import kiosk_id
from parking_desktop.services.kiosks.journal import OfflineDesk
from parking_desktop.services.kiosks.picture import take_picture
from parking_desktop.services.parking.search import ReservationFilter
from tests.integration.hardening_support import main_py

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/parking"


def journal_with_two_operations(app: App, manager: Actor, attendant: Actor, folder: Path) -> None:
    lot = app.lots.create(
        manager,
        name="Central",
        address="1 Main Street",
        pin_code="CEN01",
        price_per_hour=Decimal("2.50"),
        number_of_spots=3,
    ).id
    desk = OfflineDesk(folder, kiosk_id(folder), app.ctx.clock)
    desk.record_picture(take_picture(app.ctx))
    desk.check_in(attendant, lot, "CLI1")
    desk.check_in(attendant, lot, "CLI2")
    desk.close()


def test_sync_with_no_journal_has_nothing_to_send(tmp_path: Path) -> None:
    done = main_py(tmp_path / "data", UNREACHABLE, "sync")
    assert done.returncode == 0, done.stderr
    assert "nothing to send" in done.stdout


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sync_cut_off_fails_in_one_line_then_sends_once_reachable(
    app: App, db_url: str, manager: Actor, attendant: Actor, tmp_path: Path
) -> None:
    folder = tmp_path / "kiosk"
    journal_with_two_operations(app, manager, attendant, folder)

    refused = main_py(folder, UNREACHABLE, "sync")
    assert refused.returncode == 1
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    status = main_py(folder, UNREACHABLE, "kiosk", "status", "--json")
    assert json.loads(status.stdout)["journal_size"] == 2  # nothing lost

    sent = main_py(folder, db_url, "sync", "--json")
    assert sent.returncode == 0, sent.stderr
    report = json.loads(sent.stdout)
    assert (report["sent"], report["applied"], report["waiting"], report["error"]) == (2, 2, 0, "")
    plates = {r.vehicle_number for r in app.search.reservations(manager, ReservationFilter()).items}
    assert plates == {"CLI1", "CLI2"}
    again = main_py(folder, db_url, "sync")
    assert again.returncode == 0 and "0 operation(s) sent" in again.stdout
    text = main_py(folder, UNREACHABLE, "kiosk", "status")
    assert "0 operation(s) waiting" in text.stdout
    assert "Last sync:" in text.stdout and "(ok: 0 operation(s) sent" in text.stdout
