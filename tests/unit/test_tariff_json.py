"""The JSON form of a tariff (docs/tariffs.md): the documented example works as documented, every
version survives a round trip, and bad input gets one line naming its place."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parking_desktop.domain.tariffs import (
    TariffError,
    TariffVersion,
    flat_tariff,
    quote,
    tariff_from_json,
    tariff_to_json,
)
from parking_desktop.domain.validation import MAX_PRICE
from tests.tariff_support import PARIS, tariffs

DOC = Path(__file__).resolve().parents[2] / "docs" / "tariffs.md"


def doc_examples() -> list[Any]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    return [json.loads(block) for block in blocks]


def example() -> dict[str, Any]:
    document = doc_examples()[0]
    assert isinstance(document, dict)
    return copy.deepcopy(document)


def test_the_documented_example_prices_as_documented() -> None:
    version = tariff_from_json(example())
    assert version.increment == timedelta(minutes=15)
    assert version.grace == timedelta(minutes=10)
    assert version.daily_maximum == Decimal("20.00")
    assert version.effective_from == datetime(2027, 1, 3, 23, 0, tzinfo=UTC)
    monday = datetime(2027, 3, 1, 18, 10, tzinfo=PARIS)
    priced = quote(version, monday, monday.replace(hour=22, minute=0), PARIS)
    assert [str(line) for line in priced.lines] == [
        "Mon 18:10–20:10, day rate, 8 × 15 min at 3.50/h … 7.00",
        "Mon 20:10–22:10, night rate, 8 × 15 min at 1.20/h … 2.40",
    ]
    # 2027-01-01 is a holiday (a Friday): priced as a Sunday, all at the night rate.
    holiday = datetime(2027, 1, 1, 9, 0, tzinfo=PARIS)
    assert quote(version, holiday, holiday.replace(hour=11), PARIS).total == Decimal("2.40")


def test_the_documented_default_tariff_is_the_flat_tariff() -> None:
    assert tariff_from_json(doc_examples()[1]) == flat_tariff(Decimal("2.50"))
    assert tariff_to_json(flat_tariff(Decimal("2.50"))) == doc_examples()[1]


def test_optional_keys_take_their_defaults() -> None:
    document = {"bands": example()["bands"]}
    moment = datetime(2027, 1, 4, tzinfo=UTC)
    version = tariff_from_json(document, effective_from=moment)
    assert version.effective_from == moment
    assert (version.minimum, version.grace, version.daily_maximum) == (
        timedelta(hours=1), timedelta(0), None)
    assert version.is_exact
    assert version.currency == "EUR"


@settings(deadline=None)
@given(tariffs(), st.sampled_from(["+00:00", "+01:00", "-05:30"]))
def test_every_version_survives_a_round_trip_through_json_text(
    version: TariffVersion, offset: str
) -> None:
    version = TariffVersion(**{**vars(version), "effective_from": datetime.fromisoformat(
        f"2027-01-04T00:00:00{offset}")})
    text = json.dumps(tariff_to_json(version))
    assert tariff_from_json(json.loads(text)) == version


def changed(path: str, value: object) -> dict[str, Any]:
    """The example with one value replaced (or removed, for ...): path like 'bands.2.start'."""
    document = example()
    *parents, last = path.split(".")
    target: Any = document
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        if value is ...:
            del target[int(last)]
        else:
            target[int(last)] = value
    elif value is ...:
        del target[last]
    else:
        target[last] = value
    return document


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1, 2], "tariff: expected a JSON object with a list of bands"),
        (changed("bands", ...), "bands: missing: a tariff needs its time bands"),
        (changed("bands", {}), "bands: expected a list of bands"),
        (changed("grace_minute", 10), "tariff: unknown key 'grace_minute'; expected currency, "
         "effective_from, increment_minutes, minimum_minutes, grace_minutes, daily_maximum, "
         "holidays, bands"),
        (changed("bands.1", "night"),
         "bands[1]: expected an object with days, start, end and price_per_hour"),
        (changed("bands.0.price_per_hour", ...), "bands[0].price_per_hour: missing"),
        (changed("bands.0.colour", "red"), "bands[0]: unknown key 'colour'; expected name, "
         "days, start, end, price_per_hour"),
        (changed("bands.2.start", "25:00"), "bands[2].start: '25:00' is not a time (HH:MM)"),
        (changed("bands.2.start", "24:00"), "bands[2].start: '24:00' is not a time (HH:MM)"),
        (changed("bands.2.end", "8h"), "bands[2].end: '8h' is not a time (HH:MM)"),
        (changed("bands.0.days.1", "Tues"),
         "bands[0].days[1]: 'Tues' is not a day; use Mon, Tue, Wed, Thu, Fri, Sat, Sun"),
        (changed("bands.0.days.1", "Mon"), "bands[0].days: 'Mon' is listed twice"),
        (changed("bands.0.days", "Mon-Fri"),
         'bands[0].days: expected a list of days like ["Mon", "Tue"]'),
        (changed("bands.0.name", 7), "bands[0].name: 7 is not text"),
        (changed("bands.0.price_per_hour", 3.5),
         'bands[0].price_per_hour: 3.5: write amounts as text, e.g. "3.50"'),
        (changed("bands.0.price_per_hour", "-3.50"),
         "bands[0].price_per_hour: '-3.50' is negative"),
        (changed("bands.0.price_per_hour", "3,50"),
         "bands[0].price_per_hour: '3,50' is not an amount"),
        (changed("bands.0.price_per_hour", f"{MAX_PRICE}.00"), "bands[0].price_per_hour: "
         f"{MAX_PRICE}.00 is too large: it must be less than {MAX_PRICE}"),
        (changed("bands.0.price_per_hour", "3.505"),
         "bands[0].price_per_hour: 3.505 has more than 2 decimals"),
        (changed("bands.1.start", "19:00"), "bands: Mon 08:00–20:00 overlaps Mon 19:00–00:00"),
        (changed("bands.3", ...), "bands: nothing covers Sat 00:00–Mon 00:00"),
        (changed("increment_minutes", 0), "increment_minutes: must be at least 1 min"),
        (changed("increment_minutes", "15"),
         "increment_minutes: '15' is not a whole number of minutes"),
        (changed("increment_minutes", 7.5),
         "increment_minutes: 7.5 is not a whole number of minutes"),
        (changed("increment_minutes", True),
         "increment_minutes: True is not a whole number of minutes"),
        (changed("minimum_minutes", 2000), "minimum_minutes: 2000 min is more than 24 h"),
        (changed("grace_minutes", -5), "grace_minutes: cannot be negative"),
        (changed("daily_maximum", "-1"), "daily_maximum: '-1' is negative"),
        (changed("daily_maximum", 20), 'daily_maximum: 20: write amounts as text, e.g. "3.50"'),
        (changed("holidays", "2027-01-01"),
         'holidays: expected a list of dates like ["2027-12-25"]'),
        (changed("holidays.1", "2027-02-30"),
         "holidays[1]: '2027-02-30' is not a date (YYYY-MM-DD)"),
        (changed("effective_from", "2027-01-04T00:00:00"),
         "effective_from: '2027-01-04T00:00:00' has no UTC offset, e.g. +01:00"),
        (changed("effective_from", "next Monday"), "effective_from: 'next Monday' is not a date "
         "and time like 2027-01-01T00:00:00+01:00"),
        (changed("currency", "eur"), "currency: 'eur' is not a currency code like 'EUR'"),
        (changed("currency", None), "currency: None is not a currency code like 'EUR'"),
    ],
)
def test_bad_input_gets_one_line_naming_its_place(document: object, message: str) -> None:
    with pytest.raises(TariffError) as caught:
        tariff_from_json(document)
    assert str(caught.value) == message
    assert caught.value.field == message.split(":", 1)[0]
