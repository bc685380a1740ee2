"""Input rules: each returns the cleaned value or refuses with a sentence that
names the problem."""

from __future__ import annotations

import re
import string
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parking_desktop.domain import validation
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.roles import Role

# No per-example deadline: a busy CI machine must not fail a correct rule on time.
relaxed = settings(deadline=None)

PLATE_CHARS = string.ascii_letters + string.digits


# --- vehicle numbers -------------------------------------------------------------------------
@relaxed
@given(st.lists(st.sampled_from(PLATE_CHARS), min_size=2, max_size=15),
       st.lists(st.sampled_from([" ", "-", "  ", "\t"]), max_size=5))
def test_vehicle_is_upper_cased_with_spaces_and_dashes_removed(
    chars: list[str], separators: list[str]
) -> None:
    raw = "".join(chars)
    # Sprinkle separators between the characters.
    spread = list(raw)
    for i, sep in enumerate(separators):
        spread.insert(min(len(spread), 1 + 2 * i), sep)
    assert validation.normalise_vehicle("".join(spread)) == raw.upper()


@relaxed
@given(st.text(max_size=40))
def test_a_normalised_vehicle_is_always_2_to_15_upper_letters_or_digits(raw: str) -> None:
    try:
        plate = validation.normalise_vehicle(raw)
    except ValidationError as exc:
        assert str(exc)  # a sentence, never empty
        return
    assert 2 <= len(plate) <= 15
    assert set(plate) <= set(string.ascii_uppercase + string.digits)
    assert validation.normalise_vehicle(plate) == plate  # idempotent


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("ab-12 cd", "AB12CD"), (" xy 9 ", "XY9"), ("AB\u00a012", "AB12"), ("a1", "A1"),
     ("ABCDEFGHIJ12345", "ABCDEFGHIJ12345")],
)
def test_valid_vehicle_numbers(raw: str, expected: str) -> None:
    assert validation.normalise_vehicle(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Enter a vehicle number."),
        ("  - ", "Enter a vehicle number."),
        ("A", "Vehicle number 'A' is not valid: use 2 to 15 letters or digits."),
        ("ABCDEFGHIJ123456", "use 2 to 15 letters or digits"),
        ("AB_12", "Vehicle number 'AB_12' is not valid"),
        ("AB.12", "is not valid"),
        ("ÄB12", "is not valid"),  # letters outside A-Z cannot be read by plate cameras
        ("ß1", "is not valid"),  # would otherwise become 'SS1'
    ],
)
def test_invalid_vehicle_numbers(raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        validation.normalise_vehicle(raw)


def test_a_very_long_vehicle_number_is_cut_short_in_the_message() -> None:
    with pytest.raises(ValidationError) as info:
        validation.normalise_vehicle("X" * 500)
    assert len(str(info.value)) < 120


# --- lots ------------------------------------------------------------------------------------
def test_lot_name_is_trimmed_and_inner_spaces_collapsed() -> None:
    assert validation.lot_name("  City   Center ") == "City Center"


def test_lot_name_limits() -> None:
    assert validation.lot_name("x" * 100) == "x" * 100
    with pytest.raises(ValidationError, match="101 characters; at most 100"):
        validation.lot_name("x" * 101)
    with pytest.raises(ValidationError, match="Enter the lot's name"):
        validation.lot_name("   ")


def test_address_is_required_and_bounded() -> None:
    assert validation.address(" 1 Main St ") == "1 Main St"
    with pytest.raises(ValidationError, match="Enter the lot's address"):
        validation.address("")
    with pytest.raises(ValidationError, match="at most 500"):
        validation.address("a" * 501)


@pytest.mark.parametrize(("raw", "expected"), [("75001", "75001"), (" ab3 ", "AB3"),
                                               ("A" * 10, "A" * 10)])
def test_valid_pin_codes(raw: str, expected: str) -> None:
    assert validation.pin_code(raw) == expected


@pytest.mark.parametrize("raw", ["", "12", "A" * 11, "75-001", "75 001"])
def test_invalid_pin_codes(raw: str) -> None:
    with pytest.raises(ValidationError, match="pin code must be 3 to 10 letters or digits"):
        validation.pin_code(raw)


# --- prices ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2.5", "2.50"), ("2.50", "2.50"), ("2.500", "2.50"), (3, "3.00"), (Decimal("0.01"), "0.01"),
     (2.5, "2.50"), (" 1.99 ", "1.99"), ("999.99", "999.99"), ("1e2", "100.00")],
)
def test_valid_prices_come_back_with_two_decimals(raw: object, expected: str) -> None:
    price = validation.price_per_hour(raw)  # type: ignore[arg-type]
    assert price == Decimal(expected)
    assert price.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "must be more than 0"),
        ("-1.00", "must be more than 0"),
        ("-0", "must be more than 0"),
        ("0.001", "at most 2 decimals"),
        ("2.345", "at most 2 decimals"),
        ("1e-5", "at most 2 decimals"),
        ("abc", "'abc' is not a number"),
        ("2,50", "'2,50' is not a number"),
        ("", "is not a number"),
        ("NaN", "is not a number"),
        ("Infinity", "is not a number"),
        ("1000", "less than 1000"),
        ("100000", "less than 1000"),
        ("1E+30", "less than 1000"),  # used to crash with decimal.InvalidOperation
    ],
)
def test_invalid_prices(raw: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validation.price_per_hour(raw)


@pytest.mark.parametrize("raw", ["1e3", "1E3", "2.5e1", " 1e+2 ", Decimal("1E+3")])
def test_a_lot_price_with_an_exponent_is_refused(raw: str | Decimal) -> None:
    with pytest.raises(ValidationError, match="must be written with digits"):
        validation.lot_price(raw)


@pytest.mark.parametrize(("raw", "expected"), [("2.90", "2.90"), (Decimal("1000.00") / 2, "500.00"),
                                               ("999.99", "999.99"), (3, "3.00")])
def test_a_plain_lot_price_is_accepted(raw: object, expected: str) -> None:
    assert validation.lot_price(raw) == Decimal(expected)  # type: ignore[arg-type]


@relaxed
@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_price_validation_never_crashes(value: Decimal) -> None:
    try:
        price = validation.price_per_hour(value)
    except ValidationError:
        return
    assert Decimal("0") < price < Decimal("100000")
    assert price == value  # accepted prices are never silently rounded


# --- spots -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "expected"), [(1, 1), ("5000", 5000), (" 42 ", 42)])
def test_valid_spot_counts(raw: int | str, expected: int) -> None:
    assert validation.number_of_spots(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [(0, "between 1 and 5000"), (5001, "between 1 and 5000"), (-3, "between 1 and 5000"),
     ("3.5", "'3.5' is not a whole number"), ("ten", "'ten' is not a whole number"),
     ("", "is not a whole number")],
)
def test_invalid_spot_counts(raw: int | str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validation.number_of_spots(raw)


@pytest.mark.parametrize(
    ("position", "number"), [(1, "P001"), (12, "P012"), (999, "P999"), (1000, "P1000"),
                             (5000, "P5000")],
)
def test_spot_numbers(position: int, number: str) -> None:
    assert validation.spot_number(position) == number


# --- people ----------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["abc", "driver_1", "A" * 80, " bob "])
def test_valid_usernames(raw: str) -> None:
    assert validation.username(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["ab", "A" * 81, "bob smith", "bob-smith", "bob@x", ""])
def test_invalid_usernames(raw: str) -> None:
    with pytest.raises(ValidationError, match="3 to 80 characters: letters, digits or underscore"):
        validation.username(raw)


def test_email_is_optional_trimmed_and_lower_cased() -> None:
    assert validation.email(None) is None
    assert validation.email("   ") is None
    assert validation.email(" Ann@Example.COM ") == "ann@example.com"


@pytest.mark.parametrize("raw", ["ann", "ann@", "@example.com", "ann@example", "a b@example.com",
                                 "a@b@example.com", "a" * 250 + "@x.com"])
def test_invalid_emails(raw: str) -> None:
    with pytest.raises(ValidationError, match="is not a valid e-mail address"):
        validation.email(raw)


def test_password_length() -> None:
    assert validation.password("12345678") == "12345678"
    with pytest.raises(ValidationError, match="at least 8 characters"):
        validation.password("1234567")
    with pytest.raises(ValidationError, match="at least 8 characters"):
        validation.password("")
    with pytest.raises(ValidationError, match="too long"):
        validation.password("x" * 1025)


@pytest.mark.parametrize(("raw", "role"), [("manager", Role.MANAGER), (" Driver ", Role.DRIVER),
                                           (Role.ATTENDANT, Role.ATTENDANT)])
def test_roles(raw: str | Role, role: Role) -> None:
    assert validation.role(raw) is role


def test_unknown_role() -> None:
    with pytest.raises(ValidationError, match="Role 'admin' is not valid: choose manager"):
        validation.role("admin")


def test_force_release_reason_is_required() -> None:
    assert validation.reason("  towed  ") == "towed"
    with pytest.raises(ValidationError, match="Give a reason"):
        validation.reason("   ")
    with pytest.raises(ValidationError, match="at most 500"):
        validation.reason("x" * 501)
