"""`tariff show|set|quote|simulate` and the tariff parts of `lots --json` and `release --json`,
through real subprocesses on SQLite and PostgreSQL. Bad files: one line, exit 1, no change."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.test_cli import Cli, make_lot, refused

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "day-night-tariff.json"


@pytest.fixture
def cli(tmp_path: Path, db_url: str) -> Cli:
    cli = Cli(tmp_path / "data", db_url)
    make_lot(cli.data_dir, db_url, "City Center", 2, "2.40")
    return cli


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_show_lists_the_flat_rule_of_a_new_lot(cli: Cli) -> None:
    shown = cli("tariff", "show", "--lot", "city center", "--json").json()
    assert shown["summary"]["base_rate"] == "2.40" and shown["summary"]["flat"] is True
    assert shown["current"]["increment_minutes"] == "exact"
    assert [v["used"] for v in shown["versions"]] == [False]
    human = cli("tariff", "show", "--lot", "City Center")
    assert human.code == 0 and "standard rate €2.40/h" in human.out
    lots = cli("lots", "--json").json()
    assert lots[0]["price_per_hour"] == "2.40" and lots[0]["tariff"]["base_rate"] == "2.40"
    refused(cli("tariff", "show", "--lot", "Nowhere"), "Nowhere")


def test_set_saves_a_version_that_prices_new_stays(cli: Cli) -> None:
    assert cli("park", "--lot", "City Center", "--vehicle", "OLD1").code == 0
    done = cli("tariff", "set", "--lot", "City Center", "--file", str(EXAMPLE))
    assert done.code == 0 and done.out.startswith("Saved tariff version 2 of City Center")
    assert cli("park", "--lot", "City Center", "--vehicle", "NEW1").code == 0
    old = cli("release", "--vehicle", "OLD1", "--json").json()
    new = cli("release", "--vehicle", "NEW1", "--json").json()
    # The car parked before the change pays the flat hour; the new one leaves within grace.
    assert (old["cost"], old["total"], old["tariff_version_id"]) == ("2.40", "2.40", 1)
    assert [line["amount"] for line in old["lines"]] == ["2.40"]
    assert (new["cost"], new["tariff_version_id"], new["currency"]) == ("0.00", 2, "EUR")
    assert new["lines"] == [{"text": "grace period: free (left within 10 min)",
                             "amount": "0.00"}]
    shown = cli("tariff", "show", "--lot", "City Center", "--json").json()
    assert [v["used"] for v in shown["versions"]] == [True, True]


@pytest.mark.parametrize(("content", "words"), [
    ('{"bands": [', ["not JSON", "line 1"]),
    ('{"bands": [{"days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], "start": "08:00",'
     ' "end": "20:00", "price_per_hour": "3.50"}, {"days": ["Mon", "Tue", "Wed", "Thu", "Fri",'
     ' "Sat", "Sun"], "start": "20:00", "end": "08:00", "price_per_hour": "1.00"}, {"days":'
     ' ["Tue"], "start": "19:00", "end": "21:00", "price_per_hour": "1.00"}]}',
     ["bands: Tue 08:00–20:00 overlaps Tue 19:00–21:00"]),
    ('{"bands": [{"days": ["Mon"], "start": "25:00", "end": "08:00", "price_per_hour": "1"}]}',
     ["bands[0].start: '25:00' is not a time"]),
    ('{"grace_minute": 5, "bands": []}', ["grace_minute"]),
])
def test_a_bad_file_is_refused_in_one_line_and_changes_nothing(
    cli: Cli, tmp_path: Path, content: str, words: list[str]
) -> None:
    before = cli("tariff", "show", "--lot", "City Center", "--json").json()
    bad = write(tmp_path, "bad.json", content)
    refused(cli("tariff", "set", "--lot", "City Center", "--file", str(bad)), "bad.json", *words)
    refused(cli("tariff", "simulate", "--lot", "City Center", "--file", str(bad)), *words)
    assert cli("tariff", "show", "--lot", "City Center", "--json").json() == before


def test_set_refuses_a_missing_file_and_a_date_in_the_past(cli: Cli, tmp_path: Path) -> None:
    refused(cli("tariff", "set", "--lot", "City Center", "--file", str(tmp_path / "no.json")),
            "no such file")
    refused(cli("tariff", "set", "--lot", "City Center", "--file", str(EXAMPLE),
                "--effective-from", "2001-01-01 00:00"), "effective_from:", "never apply")
    refused(cli("tariff", "set", "--lot", "City Center", "--file", str(EXAMPLE),
                "--effective-from", "soon"), "--effective-from")


def test_quote_prints_the_lines(cli: Cli) -> None:
    assert cli("tariff", "set", "--lot", "City Center", "--file", str(EXAMPLE),
               "--effective-from", "2030-01-01 00:00").code == 0
    quoted = cli("tariff", "quote", "--lot", "City Center", "--from", "2030-01-07 18:10",
                 "--to", "2030-01-08 19:00", "--json").json()
    assert quoted["total"] == "23.50" and quoted["currency"] == "EUR"
    assert quoted["lines"][3] == {
        "text": "daily maximum applied, Mon 18:10–Tue 18:10 (at most 20.00 per 24 h)",
        "amount": "-36.40"}
    human = cli("tariff", "quote", "--lot", "City Center", "--from", "2029-06-01 10:00",
                "--to", "2029-06-01 12:30")
    assert human.code == 0 and "total … €6.00" in human.out  # before 2030: the flat 2.40/h
    refused(cli("tariff", "quote", "--lot", "City Center", "--from", "2030-01-08 10:00",
                "--to", "2030-01-07 10:00"), "before its start")


def test_simulate_compares_the_draft_with_what_was_charged(cli: Cli) -> None:
    for plate in ("SIM1", "SIM2"):
        assert cli("park", "--lot", "City Center", "--vehicle", plate).code == 0
        assert cli("release", "--vehicle", plate).code == 0
    result = cli("tariff", "simulate", "--lot", "City Center", "--file", str(EXAMPLE),
                 "--days", "7", "--json").json()
    [lot] = result["lots"]
    # Two stays of seconds: 2.40 each (the flat hour) now, free within the draft's grace.
    assert (lot["stays"], lot["revenue_now"], lot["revenue_draft"]) == (2, "4.80", "0.00")
    assert (lot["less"], lot["more"], lot["same"], lot["change_percent"]) == (2, 0, 0, "-100.0")
    assert sum(Decimal(c) for c in lot["change_by_hour"]) == Decimal("-4.80")
    human = cli("tariff", "simulate", "--lot", "City Center", "--file", str(EXAMPLE))
    assert human.code == 0 and "2 stays, revenue 4.80 → 0.00 EUR" in human.out
    assert cli("tariff", "simulate", "--lot", "City Center", "--file", str(EXAMPLE),
               "--days", "0").code == 2
    assert json.loads(EXAMPLE.read_text())["grace_minutes"] == 10
