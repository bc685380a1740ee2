"""The tariff's currency is the site's (CURRENCY): a version without one gets it, one in another
currency is refused (service and CLI, one line, nothing changed), and `tariff show`/`quote`
write amounts with money's formatter. Both databases."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.roles import SYSTEM, Actor
from parking_desktop.domain.tariffs import TariffError
from tests.integration.test_cli import Cli, refused
from tests.integration.test_tariffs_service import EXAMPLE, day_night

GBP = {"CURRENCY": "GBP", "LOCALE": "en_GB"}


def test_a_version_in_another_currency_is_refused_by_the_service(app: App, manager: Actor) -> None:
    lot = app.lots.create(
        manager,
        name="Quay",
        address="1 Quay",
        pin_code="Q0001",
        price_per_hour="2.00",
        number_of_spots=2,
    ).id
    assert app.tariffs.currency == "EUR" and app.tariffs.current(lot).currency == "EUR"
    dollars = dataclasses.replace(day_night(), currency="USD")
    before = app.tariffs.versions(lot)
    with pytest.raises(TariffError, match=r"^currency: USD is not this site's currency \(EUR\)"):
        app.tariffs.save(lot, dollars, manager)
    with pytest.raises(TariffError, match="currency"):
        app.tariffs.simulate(lot, dollars, 30)
    assert app.tariffs.versions(lot) == before


@pytest.fixture
def gbp_cli(tmp_path: Path, db_url: str) -> Cli:
    data_dir = tmp_path / "data"
    settings = load_settings(
        data_dir=data_dir, database_url=db_url, environ=dict(GBP), dotenv_path=tmp_path / "none"
    )
    app = build_app(settings, hasher=Argon2Hasher(fast=True))
    try:
        app.lots.create(
            SYSTEM,
            name="Dock",
            address="1 Dock Rd",
            pin_code="D0001",
            price_per_hour="2.40",
            number_of_spots=2,
        )
    finally:
        app.close()
    return Cli(data_dir, db_url)


def test_the_cli_follows_the_site_currency(gbp_cli: Cli, tmp_path: Path) -> None:
    shown = gbp_cli("tariff", "show", "--lot", "Dock", "--json", env=GBP).json()
    assert shown["current"]["currency"] == "GBP"  # the new lot's flat version
    human = gbp_cli("tariff", "show", "--lot", "Dock", env=GBP)
    assert human.code == 0 and "standard rate £2.40/h" in human.out

    document = json.loads(EXAMPLE.read_text())
    euros = tmp_path / "euros.json"
    euros.write_text(json.dumps(document), encoding="utf-8")
    refused(
        gbp_cli("tariff", "set", "--lot", "Dock", "--file", str(euros), env=GBP),
        "euros.json",
        "currency: EUR is not this site's currency (GBP)",
    )
    refused(
        gbp_cli("tariff", "simulate", "--lot", "Dock", "--file", str(euros), env=GBP),
        "currency: EUR",
    )
    assert (
        len(gbp_cli("tariff", "show", "--lot", "Dock", "--json", env=GBP).json()["versions"]) == 1
    )  # nothing changed

    del document["currency"]
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(document), encoding="utf-8")
    assert (
        gbp_cli(
            "tariff",
            "set",
            "--lot",
            "Dock",
            "--file",
            str(plain),
            "--effective-from",
            "2030-01-01 00:00",
            env=GBP,
        ).code
        == 0
    )
    shown = gbp_cli("tariff", "show", "--lot", "Dock", "--json", env=GBP).json()
    assert [v["summary"]["currency"] for v in shown["versions"]] == ["GBP", "GBP"]
    human = gbp_cli("tariff", "show", "--lot", "Dock", env=GBP)
    assert "day rate £3.50/h" in human.out and "at most £20.00 per 24 h" in human.out

    quoted = gbp_cli(
        "tariff",
        "quote",
        "--lot",
        "Dock",
        "--from",
        "2030-01-07 18:10",
        "--to",
        "2030-01-08 19:00",
        env=GBP,
    )
    assert quoted.code == 0 and "total … £23.50" in quoted.out
    assert "daily maximum applied" in quoted.out and "… -£36.40" in quoted.out
    as_json = gbp_cli(
        "tariff",
        "quote",
        "--lot",
        "Dock",
        "--from",
        "2030-01-07 18:10",
        "--to",
        "2030-01-08 19:00",
        "--json",
        env=GBP,
    ).json()
    assert (as_json["total"], as_json["currency"]) == ("23.50", "GBP")

    # The release's receipt text: the lines with money's formatter too.
    assert gbp_cli("park", "--lot", "Dock", "--vehicle", "GB1", env=GBP).code == 0
    released = gbp_cli("release", "--vehicle", "GB1", env=GBP)
    assert released.code == 0 and "standard rate" in released.out
    assert "minimum charge 1 h … £2.40" in released.out
