"""The ceiling of a price per hour follows the currency (docs/money.md, "The price ceiling"):
a yen, rupee or won lot can charge a realistic price, a euro lot keeps its 1000."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest

from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.tariffs import (
    ALL_DAYS,
    Band,
    TariffError,
    TariffVersion,
    flat_tariff,
    problems,
)
from parking_desktop.domain.validation import lot_price, max_price_per_hour, price_per_hour


@pytest.mark.parametrize(
    ("currency", "ceiling"),
    [
        ("EUR", "1000"),
        ("USD", "1000"),
        ("GBP", "1000"),
        ("CHF", "1000"),
        ("SEK", "10000"),
        ("INR", "100000"),
        ("JPY", "100000"),
        ("KRW", "1000000"),
        ("VND", "1000000"),
        # Not in the table: a currency without cents (Babel says 0 decimals) is a small unit...
        ("XAF", "100000"),
        ("PYG", "100000"),
        # ... one with cents, or a code nobody knows, keeps the euro's ceiling.
        ("KWD", "1000"),
        ("QQQ", "1000"),
        ("", "1000"),
        ("jpy", "100000"),
    ],
)
def test_the_ceiling_follows_the_currency(currency: str, ceiling: str) -> None:
    assert max_price_per_hour(currency) == Decimal(ceiling)


def test_a_year_at_any_ceiling_fits_the_money_columns() -> None:
    """NUMERIC(12,2) holds up to 9 999 999 999.99: a stay of a year at the highest ceiling
    must still be storable, or a checkout would fail on the database."""
    from parking_desktop.domain.validation import PRICE_SCALE

    highest = max(max_price_per_hour(code) for code in [*PRICE_SCALE, "XAF", "EUR"])
    assert highest * 24 * 366 < Decimal("10000000000")


def test_a_realistic_yen_or_rupee_price_is_accepted_and_a_euro_one_is_not() -> None:
    assert price_per_hour("1500", "JPY") == Decimal("1500.00")
    assert lot_price("2500", "INR") == Decimal("2500.00")
    assert lot_price("99999.99", "JPY") == Decimal("99999.99")
    with pytest.raises(ValidationError, match=r"less than 1000 EUR\."):
        price_per_hour("1500", "EUR")
    with pytest.raises(ValidationError, match=r"less than 100000 JPY\."):
        lot_price("100000", "JPY")
    with pytest.raises(ValidationError, match=r"less than 1000 EUR\."):
        lot_price("1000")  # the default stays the euro's


def test_a_tariff_in_yen_may_charge_what_a_yen_lot_may() -> None:
    assert problems(flat_tariff(Decimal("1500"), currency="JPY")) == []
    with pytest.raises(TariffError) as euro:
        flat_tariff(Decimal("1500"), currency="EUR")
    assert str(euro.value) == (
        "bands[0].price_per_hour: 1500 is too large: it must be less than 1000"
    )
    with pytest.raises(TariffError) as yen:
        flat_tariff(Decimal("100000"), currency="JPY")
    assert str(yen.value) == (
        "bands[0].price_per_hour: 100000 is too large: it must be less than 100000"
    )


@pytest.mark.parametrize(
    ("cap", "currency", "refused"),
    [
        ("30000", "JPY", False),
        ("30000", "EUR", True),
        ("2400000", "JPY", True),
    ],
)
def test_a_tariffs_daily_maximum_scales_the_same_way(
    cap: str, currency: str, refused: bool
) -> None:
    def version() -> TariffVersion:
        return TariffVersion(
            bands=(Band(ALL_DAYS, time(0), time(0), Decimal("300"), "all day"),),
            daily_maximum=Decimal(cap),
            currency=currency,
        )

    if refused:
        with pytest.raises(TariffError) as error:
            version()
        assert error.value.field == "daily_maximum"
    else:
        assert version().daily_maximum == Decimal(cap)
