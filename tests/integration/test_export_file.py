"""The export file, byte for byte, on SQLite and PostgreSQL: BOM, columns, site time zone
(across the March clock change), two-decimal money with the site's currency in its own cell,
"Active", quoting, formula neutralising,
anonymising, and the scopes."""

from __future__ import annotations

import os
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest

from parking_desktop.adapters.csv_export import FORMULA_TRIGGERS, pseudonym
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.exports.scope import ExportScope
from tests.integration.export_support import (
    History,
    actor,
    build_history,
    cells,
    export_bytes,
    finished,
)

HEADER = ("Reservation ID,Spot Number,Parking Lot,Address,Vehicle Number,Parking Start,"
          "Parking End,Duration (Hours),Cost,Currency,Status,Created At")
A = '"\'=HYPERLINK(""http://x"",""y"")","\'-1 Main St, ""Old Town"""'
B = "Gare Sud,'@Station Road 2"
ROW1 = (f"1,P001,{A},AB12CD,2026-03-02 10:15:00,2026-03-02 11:52:30,1.63,4.06,EUR,completed,"
        "2026-03-02 10:00:00")
ROW2 = (f"2,P001,{B},XY99Z,2026-03-02 11:52:30,2026-03-02 12:22:30,0.50,3.00,EUR,completed,"
        "2026-03-02 11:52:30")
ROW3 = f"3,P001,{B},GH77,,,,,,cancelled,2026-03-02 12:22:30"  # no cost, no currency
ROW4 = f"4,P001,{A},JK55,2026-03-02 12:27:30,Active,,,,active,2026-03-02 12:27:30"
ROW5 = (f"5,P001,{B},AB12CD,2026-03-29 01:30:00,2026-03-29 04:30:00,2.00,6.00,EUR,completed,"
        "2026-03-29 01:30:00")


@pytest.fixture
def history(app: App, manager: Actor, attendant: Actor, clock: FixedClock) -> History:
    return build_history(app, manager, attendant, clock)


def expected(*lines: str) -> bytes:
    return ("\ufeff" + "".join(line + "\n" for line in lines)).encode("utf-8")


def test_everything_byte_for_byte(app: App, manager: Actor, history: History) -> None:
    data = export_bytes(app, manager, ExportScope.everything())
    assert data == expected(
        HEADER + ",Driver",
        ROW1 + ",'@SUM(1) (sumdriver)",
        ROW2 + ",Walk-in",
        ROW3 + ",plain",
        ROW4 + ",plain",
        ROW5 + ",'@SUM(1) (sumdriver)",
    )


def test_one_drivers_history_has_the_listed_columns_only(
    app: App, manager: Actor, history: History
) -> None:
    assert history.sum_driver.user_id is not None
    by_manager = export_bytes(app, manager, ExportScope.driver(history.sum_driver.user_id))
    assert by_manager == expected(HEADER, ROW1, ROW5)
    # The driver's own request (no id given) is the same file.
    assert export_bytes(app, history.sum_driver, ExportScope(kind="driver")) == by_manager


def test_lot_and_date_range_scopes(app: App, manager: Actor, history: History) -> None:
    lot_a = cells(export_bytes(app, manager, ExportScope.lot(history.lot_a)))
    assert [row[0] for row in lot_a[1:]] == ["1", "4"]
    # Dates are the site's days, both ends included.
    march_2 = ExportScope.everything(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2))
    assert [row[0] for row in cells(export_bytes(app, manager, march_2))[1:]] == [
        "1", "2", "3", "4"]
    lot_b_late = ExportScope.lot(history.lot_b, date_from=date(2026, 3, 3))
    assert [row[0] for row in cells(export_bytes(app, manager, lot_b_late))[1:]] == ["5"]


def test_no_cell_can_run_as_a_formula(app: App, manager: Actor, history: History) -> None:
    rows = cells(export_bytes(app, manager, ExportScope.everything()))
    payloads = 0
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(FORMULA_TRIGGERS), cell
            payloads += cell.startswith("'")
    assert payloads == 2 + 5 + 2  # lot A's name (2 rows), every address, the driver (2 rows)
    assert rows[1][2] == "'" + '=HYPERLINK("http://x","y")'
    assert rows[1][12] == "'@SUM(1) (sumdriver)"


def test_anonymised_export(app: App, manager: Actor, history: History) -> None:
    rows = cells(export_bytes(app, manager, ExportScope.everything(anonymize=True)))
    key = app.exports.pseudonym_key()
    assert history.sum_driver.user_id is not None and history.plain_driver.user_id is not None
    sum_alias = pseudonym(key, history.sum_driver.user_id)
    plain_alias = pseudonym(key, history.plain_driver.user_id)
    assert [row[4] for row in rows[1:]] == ["****CD", "***9Z", "**77", "**55", "****CD"]
    assert [row[12] for row in rows[1:]] == [sum_alias, "Walk-in", plain_alias, plain_alias,
                                           sum_alias]
    assert sum_alias != plain_alias and sum_alias.startswith("Driver-")
    text = "\n".join(",".join(row) for row in rows)
    for secret in ("sumdriver", "SUM(1)", "plain", "AB12CD", "XY99Z", "JK55", "GH77"):
        assert secret not in text
    # Stable: the same driver gets the same pseudonym in the next export.
    again = cells(export_bytes(app, manager, ExportScope.everything(anonymize=True)))
    assert [row[12] for row in again] == [row[12] for row in rows]


def test_file_is_private_complete_and_in_the_upload_folder(
    app: App, manager: Actor, history: History
) -> None:
    view = finished(app, app.exports.request(manager, ExportScope.everything()))
    assert (view.status, view.progress, view.row_count, view.total_rows) == (
        "completed", 100, 5, 5)
    assert view.file_path is not None
    path = Path(view.file_path)
    assert path.parent == app.settings.upload_folder
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in app.settings.upload_folder.iterdir()] == [path.name]
    assert view.completed_at is not None and view.expires_at is not None
    assert view.expires_at - view.completed_at == timedelta(
        hours=app.settings.csv_export_expiry_hours)
    kinds = [a.activity_type for a in app.activity.history(SYSTEM, limit=100).items]
    assert "csv_export_requested" in kinds and "csv_export_completed" in kinds


def test_empty_export_has_just_the_header(app: App, manager: Actor) -> None:
    assert export_bytes(app, manager, ExportScope.everything()) == expected(HEADER + ",Driver")


def test_the_currency_cell_is_the_sites(
    db_url: str, tmp_path: Path, clock: FixedClock, fast_hasher: Argon2Hasher
) -> None:
    """A rupee site's file says INR next to every cost (the manager's export and the driver's
    own history alike); the cost stays a plain number a spreadsheet can add up."""
    settings = load_settings(
        data_dir=tmp_path / "inr", database_url=db_url, dotenv_path=tmp_path / "no.env",
        environ={"APP_TIMEZONE": "Europe/Paris", "CURRENCY": "INR", "LOCALE": "en_IN"})
    app = build_app(settings, clock=clock, hasher=fast_hasher)
    try:
        manager = actor(app, "inrmanager", Role.MANAGER)
        attendant = actor(app, "inrattendant", Role.ATTENDANT)
        history = build_history(app, manager, attendant, clock)
        rows = cells(export_bytes(app, manager, ExportScope.everything()))
        cost, currency = rows[0].index("Cost"), rows[0].index("Currency")
        assert currency == cost + 1
        assert [(row[cost], row[currency]) for row in rows[1:]] == [
            ("4.06", "INR"), ("3.00", "INR"), ("", ""), ("", ""), ("6.00", "INR")]
        own = cells(export_bytes(app, history.sum_driver, ExportScope(kind="driver")))
        assert [(row[cost], row[currency]) for row in own] == [
            ("Cost", "Currency"), ("4.06", "INR"), ("6.00", "INR")]
    finally:
        app.close()
