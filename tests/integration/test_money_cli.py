"""`release` with payments and `shift open|close|report|list|review`, through real
subprocesses, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import build_app
from parking_desktop.config import load_settings
from tests.integration.test_cli import PASSWORD, Cli, cli, make_lot, refused

__all__ = ["cli"]  # the fixture, used by name


def exception_kinds(data_dir: Path, db_url: str) -> list[str]:
    settings = load_settings(
        data_dir=data_dir, database_url=db_url, environ={}, dotenv_path=data_dir / "none"
    )
    app = build_app(settings, hasher=Argon2Hasher(fast=True))
    try:
        from parking_desktop.domain.roles import SYSTEM

        return [e.kind.value for e in app.money.exceptions(SYSTEM)][::-1]
    finally:
        app.close()


def test_release_records_an_administrative_payment_flagged_in_exceptions(
    cli: Cli, db_url: str
) -> None:
    make_lot(cli.data_dir, db_url, "City Center", 3, "2.40")
    for plate in ("AA11", "BB22", "CC33"):
        assert cli("park", "--lot", "City Center", "--vehicle", plate).code == 0
    # Cash is taken at a kiosk, inside a shift: refused here, nothing changed.
    refused(cli("release", "--vehicle", "AA11", "--method", "cash"), "shift")
    assert cli("release", "--vehicle", "AA11", "--method", "card").code == 1
    # Waived needs a reason (usage error before anything is opened).
    waived = cli("release", "--vehicle", "AA11", "--method", "waived")
    refused(waived, "--reason")
    assert cli("release", "--vehicle", "AA11", "--reason-code", "nonsense").code == 2

    paid = cli("release", "--vehicle", "AA11", "--json").json()
    assert (paid["cost"], paid["currency"], paid["receipt_number"]) == ("2.40", "EUR", "000001")
    assert paid["payment"]["method"] == "account"
    assert paid["payment"]["taken_by"].startswith("cli:")
    free = cli(
        "release",
        "--vehicle",
        "BB22",
        "--method",
        "waived",
        "--reason",
        "barrier test",
        "--reason-code",
        "equipment_fault",
        "--json",
    ).json()
    assert (free["cost"], free["payment"]["method"], free["receipt_number"]) == (
        "0.00",
        "waived",
        "000002",
    )
    human = cli("release", "--vehicle", "CC33", env={"LOCALE": "fr_FR"})
    assert human.code == 0 and "2,40\u00a0€ (account, receipt 000003" in human.out
    assert exception_kinds(cli.data_dir, db_url) == [
        "admin_payment",
        "free_exit",
        "admin_payment",
        "admin_payment",
    ]


def test_shift_open_close_report_list_review(cli: Cli, db_url: str) -> None:
    assert (
        cli("user", "add", "--username", "ann", "--role", "attendant", password=PASSWORD).code == 0
    )
    assert (
        cli(
            "user",
            "add",
            "--username",
            "boss",
            "--role",
            "manager",
            "--email",
            "boss@example.com",
            password=PASSWORD,
        ).code
        == 0
    )
    refused(cli("shift", "open", "--attendant", "nobody"), "nobody")
    assert cli("shift", "open", "--attendant", "ann", "--float", "-3").code == 2
    opened = cli(
        "shift", "open", "--attendant", "ann", "--float", "150", "--host", "kiosk-1", "--json"
    ).json()
    assert (opened["state"], opened["opening_float"], opened["host"]) == (
        "open",
        "150.00",
        "kiosk-1",
    )
    refused(cli("shift", "open", "--attendant", "ann"), "already has an open shift")
    shift_id = str(opened["id"])
    listed = cli("shift", "list")
    assert listed.code == 0 and "ann" in listed.out and "kiosk-1" in listed.out

    refused(cli("shift", "close", "--id", shift_id, "--counted", "149"), "give a reason")
    assert cli("shift", "close", "--id", shift_id).code == 1
    closed = cli(
        "shift",
        "close",
        "--id",
        shift_id,
        "--denomination",
        "50=2",
        "--denomination",
        "20=2",
        "--denomination",
        "5=1",
        "--denomination",
        "2=2",
        "--reason",
        "one euro short",
        "--json",
    ).json()
    assert (closed["expected_cash"], closed["counted_cash"], closed["difference"]) == (
        "150.00",
        "149.00",
        "-1.00",
    )

    report = cli("shift", "report", "--id", shift_id)
    assert report.code == 0
    assert "Z-report, shift" in report.out and "one euro short" in report.out
    as_json = cli("shift", "report", "--id", shift_id, "--json").json()
    assert (as_json["expected_cash"], as_json["difference"]) == ("150.00", "-1.00")
    pdf = cli.data_dir.parent / "z.pdf"
    written = cli("shift", "report", "--id", shift_id, "--pdf", str(pdf))
    if written.code == 0:  # a build with the PDF renderer (adapters/pdf)
        assert pdf.read_bytes().startswith(b"%PDF")
    else:
        refused(written, "no PDF renderer")
        assert not pdf.exists()

    approved = cli(
        "shift", "review", "--id", shift_id, "--comment", "ok", "--approve", "--json"
    ).json()
    assert (approved["state"], approved["manager_comment"]) == ("approved", "ok")
    refused(cli("shift", "review", "--id", shift_id, "--approve"), "already approved")
    refused(cli("shift", "report", "--id", "999"), "no shift")
