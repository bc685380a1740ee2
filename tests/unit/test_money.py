"""The money rules without a database: Money, the VAT split, cash counts, what a check-out
charges after an adjustment, the change due, formatting through Babel, the settings."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parking_desktop.config import ConfigError, load_settings
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.money import (
    Money,
    PaymentMethod,
    ReasonCode,
    count_denominations,
    expected_cash,
    split_vat,
)
from parking_desktop.services.money.formatting import format_money
from parking_desktop.services.money.rules import change_due, charge
from parking_desktop.services.money.views import Adjustment, AdjustmentKind

cents = st.integers(0, 10_000_000).map(lambda c: Decimal(c) / 100)


def test_money_adds_only_in_the_same_currency() -> None:
    assert Money(Decimal("1.10"), "EUR") + Money(Decimal("2.25"), "EUR") == Money(
        Decimal("3.35"), "EUR"
    )
    with pytest.raises(ValueError, match="EUR and GBP"):
        _ = Money(Decimal(1), "EUR") - Money(Decimal(1), "GBP")
    assert Money(Decimal("2.345"), "EUR").rounded() == Money(Decimal("2.35"), "EUR")


@given(
    gross=cents,
    rate=st.sampled_from(
        [Decimal(0), Decimal(5), Decimal("5.5"), Decimal(18), Decimal(20), Decimal(21)]
    ),
)
def test_vat_parts_always_add_up_to_the_gross(gross: Decimal, rate: Decimal) -> None:
    split = split_vat(gross, rate)
    assert split.net + split.vat == split.gross == gross
    assert split.vat >= 0 and split.vat.as_tuple().exponent == -2
    if rate:
        # Within half a cent of the exact VAT part of an inclusive price.
        assert abs(split.vat - gross * rate / (100 + rate)) <= Decimal("0.005")


def test_vat_is_rounded_half_up_once_per_receipt() -> None:
    assert split_vat(Decimal("5.00"), Decimal(20)).vat == Decimal("0.83")  # 0.8333
    assert split_vat(Decimal("0.21"), Decimal(5)).vat == Decimal("0.01")  # 0.01
    assert split_vat(Decimal("10.50"), Decimal(5)).vat == Decimal("0.50")  # exactly 0.5
    assert split_vat(Decimal("3.00"), Decimal(0)).vat == Decimal("0.00")


@given(opening=cents, cash_in=st.lists(cents, max_size=10), out=st.lists(cents, max_size=5))
def test_expected_cash_is_float_plus_payments_minus_refunds(
    opening: Decimal, cash_in: list[Decimal], out: list[Decimal]
) -> None:
    assert expected_cash(opening, sum(cash_in, Decimal(0)), sum(out, Decimal(0))) == (
        opening + sum(cash_in, Decimal(0)) - sum(out, Decimal(0))
    )


def test_cash_counted_by_denomination() -> None:
    assert count_denominations({Decimal(50): 2, Decimal("0.20"): 3}) == Decimal("100.60")
    with pytest.raises(ValueError):
        count_denominations({Decimal(10): -1})


def test_what_an_adjustment_charges_and_gives_away() -> None:
    fee = Decimal("12.00")

    def adj(kind: AdjustmentKind, value: str) -> Adjustment:
        return Adjustment(kind, ReasonCode.GOODWILL, "why", Decimal(value))

    cash = PaymentMethod.CASH
    assert charge(fee, None, cash).charged == fee
    assert charge(fee, None, PaymentMethod.WAIVED).given_away == fee
    assert charge(fee, adj(AdjustmentKind.DISCOUNT_AMOUNT, "2.5"), cash).charged == Decimal("9.50")
    percent = charge(fee, adj(AdjustmentKind.DISCOUNT_PERCENT, "33.333"), cash)
    assert (percent.charged, percent.given_away) == (Decimal("8.00"), Decimal("4.00"))
    higher = charge(fee, adj(AdjustmentKind.FEE_OVERRIDE, "20"), cash)
    assert (higher.charged, higher.given_away) == (Decimal("20.00"), Decimal("0.00"))
    assert charge(fee, adj(AdjustmentKind.FREE_EXIT, "0"), cash).charged == 0
    with pytest.raises(ValidationError, match="more than the fee"):
        charge(fee, adj(AdjustmentKind.DISCOUNT_AMOUNT, "13"), cash)
    with pytest.raises(ValidationError, match="100 %"):
        charge(fee, adj(AdjustmentKind.DISCOUNT_PERCENT, "101"), cash)
    with pytest.raises(ValidationError, match="positive"):
        charge(fee, adj(AdjustmentKind.FEE_OVERRIDE, "-1"), cash)


def test_change_due() -> None:
    assert change_due(Decimal("3.75"), None) == (Decimal("3.75"), Decimal("0.00"))
    assert change_due(Decimal("3.75"), Decimal("20")) == (Decimal("20.00"), Decimal("16.25"))
    with pytest.raises(ValidationError, match="less than the amount due"):
        change_due(Decimal("3.75"), Decimal("3.74"))


@pytest.mark.parametrize(
    ("currency", "locale", "shown"),
    [
        ("EUR", "en_US", "€1,234.50"),
        ("EUR", "fr_FR", "1\u202f234,50\u00a0€"),
        ("GBP", "en_GB", "£1,234.50"),
        ("INR", "hi_IN", "₹1,234.50"),
        ("INR", "en_IN", "₹12,34,567.00"),  # lakh grouping: the locale's, not ours
        ("JPY", "ja_JP", "￥1,235"),  # no minor unit
    ],
)
def test_amounts_are_written_for_the_locale_with_their_currency(
    currency: str, locale: str, shown: str
) -> None:
    amount = Decimal("1234567") if shown.startswith("₹12") else Decimal("1234.5")
    assert format_money(amount, currency, locale) == shown


def test_currency_vat_and_locale_settings_are_validated(tmp_path: Path) -> None:
    def load(**env: str):  # type: ignore[no-untyped-def]
        return load_settings(data_dir=tmp_path, environ=env, dotenv_path=tmp_path / "none")

    defaults = load()
    assert (defaults.currency, defaults.vat_rate, defaults.locale) == ("EUR", 0, "en_US")
    assert (defaults.shift_max_hours, defaults.attendant_waiver_limit) == (12, 10)
    chosen = load(CURRENCY="inr", VAT_RATE="18", LOCALE="hi-IN")
    assert (chosen.currency, chosen.vat_rate, chosen.locale) == ("INR", Decimal(18), "hi_IN")
    for name, value, message in (
        ("CURRENCY", "EURO", "ISO 4217"),
        ("CURRENCY", "XYZ", "ISO 4217"),
        ("VAT_RATE", "120", "between 0 and 100"),
        ("VAT_RATE", "ten", "a number"),
        ("LOCALE", "zz_QQ", "a locale"),
        ("ATTENDANT_WAIVER_LIMIT", "-5", "between"),
    ):
        with pytest.raises(ConfigError, match=message):
            load(**{name: value})
