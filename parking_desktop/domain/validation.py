"""Input rules. Each function returns the cleaned value or raises ValidationError with a sentence
that names the problem. No text field accepts control characters (C0, DEL, C1, line and
paragraph separators): they are invisible on screen, break one-line output and CSV cells, and
PostgreSQL refuses NUL outright."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.roles import Role

MAX_SPOTS = 5000
MAX_PRICE = Decimal("1000")  # per hour, in euro-sized units: above is a typing mistake
# How many units of a currency make roughly one euro, as the nearest power of ten (docs/money.md,
# "The price ceiling"). A ceiling only catches typing mistakes, so the order of magnitude is
# enough and exchange rates moving never make a realistic price invalid. At most 1000: the money
# columns are NUMERIC(12,2), and a year's stay at the ceiling must still fit in them.
PRICE_SCALE: dict[str, int] = {
    **dict.fromkeys(("BRL", "CNY", "CZK", "DKK", "HKD", "MAD", "MXN", "NOK", "PLN", "SEK",
                     "ZAR"), 10),
    **dict.fromkeys(("BDT", "DZD", "EGP", "INR", "ISK", "JPY", "KES", "PHP", "PKR", "RSD",
                     "RUB", "THB", "TRY", "TWD", "UAH"), 100),
    **dict.fromkeys(("ARS", "CLP", "COP", "HUF", "IDR", "IQD", "IRR", "KRW", "KZT", "LKR",
                     "MNT", "NGN", "TZS", "UGX", "VND"), 1000),
}
CENT = Decimal("0.01")
VEHICLE_RE = re.compile(r"^[A-Z0-9]{2,15}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{3,80}$")
PIN_RE = re.compile(r"^[A-Za-z0-9]{3,10}$")
# Deliberately simple: one @, something on both sides, a dot in the domain, no spaces.
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
MAX_SEARCH_LENGTH = 200
MAX_FULL_NAME_LENGTH = 120
# C0 controls, DEL, C1 controls, and the two Unicode line breaks that str.splitlines honours.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_NAMED_CONTROLS = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """The text with every control character written as an escape (\\n, \\x1b, \\u2028), so
    a message that quotes it stays on one line and shows what was typed."""
    def spell(match: re.Match[str]) -> str:
        char = match.group()
        if char in _NAMED_CONTROLS:
            return _NAMED_CONTROLS[char]
        code = ord(char)
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"

    return CONTROL_RE.sub(spell, text)


def quoted(raw: object, limit: int = 30) -> str:
    """A user's value for a message: stripped, control characters escaped, cut short."""
    text = escape_controls(str(raw).strip())
    return text if len(text) <= limit else text[:limit] + "…"


def no_control_characters(text: str, what: str) -> str:
    """Refuse ``text`` if it holds a control character; ``what`` names the field."""
    found = CONTROL_RE.search(text)
    if found is not None:
        raise ValidationError(
            f"{what} contains a control character (U+{ord(found.group()):04X}); remove it."
        )
    if SURROGATE_RE.search(text):  # undecodable bytes (a file or terminal not in UTF-8)
        raise ValidationError(f"{what} is not valid text: it holds bytes that are not UTF-8.")
    return text


def search_text(raw: str | None, what: str = "The search text") -> str:
    """What a person typed in a search box or filter: trimmed, bounded, no control character."""
    text = no_control_characters((raw or "").strip(), what)
    if len(text) > MAX_SEARCH_LENGTH:
        raise ValidationError(f"{what} is too long: at most {MAX_SEARCH_LENGTH} characters.")
    return text


def normalise_vehicle(raw: str) -> str:
    """Upper case, spaces and dashes removed; 2 to 15 letters or digits."""
    # Spaces, tabs and dashes are separators people type between groups; they are dropped.
    stripped = re.sub(r"[\s\-]", "", raw or "")
    if not stripped:
        raise ValidationError("Enter a vehicle number.")
    no_control_characters(stripped, "The vehicle number")
    cleaned = stripped.upper()
    # isascii: upper() turns 'ß' into 'SS' and 'ﬁ' into 'FI'; refuse them rather than guess.
    if not stripped.isascii() or not VEHICLE_RE.fullmatch(cleaned):
        raise ValidationError(
            f"Vehicle number '{quoted(raw)}' is not valid: use 2 to 15 letters or digits."
        )
    return cleaned


def lot_name(raw: str) -> str:
    name = " ".join(no_control_characters((raw or "").strip(), "The lot's name").split())
    if not name:
        raise ValidationError("Enter the lot's name.")
    if len(name) > 100:
        raise ValidationError(f"The lot's name is {len(name)} characters; at most 100 are allowed.")
    return name


def address(raw: str) -> str:
    text = no_control_characters((raw or "").strip(), "The address")
    if not text:
        raise ValidationError("Enter the lot's address.")
    if len(text) > 500:
        raise ValidationError("The address is too long: at most 500 characters.")
    return text


def pin_code(raw: str) -> str:
    text = no_control_characters((raw or "").strip(), "The pin code").upper()
    if not PIN_RE.fullmatch(text):
        raise ValidationError("The pin code must be 3 to 10 letters or digits.")
    return text


def max_price_per_hour(currency: str) -> Decimal:
    """The exclusive ceiling of a price per hour in ``currency`` (ISO 4217): 1000 for the euro,
    pound, dollar and every currency not listed, 100 000 for the yen or the rupee, 1 000 000
    for the won. Shared by a lot's flat price and a tariff's bands; never raises."""
    code = currency.strip().upper() if isinstance(currency, str) else ""
    scale = PRICE_SCALE.get(code)
    if scale is None:
        scale = 100 if _minor_digits(code) == 0 else 1  # an unlisted currency without cents
    return MAX_PRICE * scale


def _minor_digits(code: str) -> int:
    """Babel's (CLDR's) number of decimals of ``code``; 2 for a code it does not know."""
    from babel.numbers import get_currency_precision  # CLDR data, loaded on first use

    try:
        return int(get_currency_precision(code)) if len(code) == 3 else 2
    except (KeyError, ValueError):
        return 2


def price_per_hour(raw: Decimal | str | int | float, currency: str = "EUR") -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(f"Price per hour '{quoted(raw)}' is not a number.") from None
    if not value.is_finite():
        raise ValidationError(f"Price per hour '{quoted(raw)}' is not a number.")
    if value <= 0:
        raise ValidationError("Price per hour must be more than 0.")
    # The upper bound first: quantizing a huge value (1E+30) raises InvalidOperation.
    ceiling = max_price_per_hour(currency)
    if value >= ceiling:
        raise ValidationError(f"Price per hour must be less than {ceiling} {currency}.")
    if value != value.quantize(CENT):
        raise ValidationError("Price per hour can have at most 2 decimals.")
    return value.quantize(CENT)


def number_of_spots(raw: int | str) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValidationError(
            f"Number of spots '{quoted(raw)}' is not a whole number."
        ) from None
    if not 1 <= value <= MAX_SPOTS:
        raise ValidationError(f"Number of spots must be between 1 and {MAX_SPOTS}.")
    return value


def username(raw: str) -> str:
    text = no_control_characters((raw or "").strip(), "The username")
    if not USERNAME_RE.fullmatch(text):
        raise ValidationError(
            "Username must be 3 to 80 characters: letters, digits or underscore."
        )
    return text


def email(raw: str | None) -> str | None:
    text = no_control_characters((raw or "").strip(), "The e-mail address")
    if not text:
        return None
    if len(text) > 254 or not EMAIL_RE.fullmatch(text):
        raise ValidationError(f"'{quoted(text, 60)}' is not a valid e-mail address.")
    return text.lower()


def full_name(raw: str | None) -> str:
    """Optional; inner spaces collapsed, cut to the column's length."""
    text = no_control_characters((raw or "").strip(), "The full name")
    return " ".join(text.split())[:MAX_FULL_NAME_LENGTH]


def password(raw: str) -> str:
    if len(raw or "") < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")
    if len(raw) > 1024:
        raise ValidationError("Password is too long.")
    return raw


def role(raw: str | Role) -> Role:
    try:
        return Role(str(raw).strip().lower())
    except ValueError:
        raise ValidationError(
            f"Role '{quoted(raw)}' is not valid: choose manager, attendant or driver."
        ) from None


def reason(raw: str | None) -> str:
    text = no_control_characters((raw or "").strip(), "The reason")
    if not text:
        raise ValidationError("Give a reason for the force-release.")
    if len(text) > 500:
        raise ValidationError("The reason is too long: at most 500 characters.")
    return text


def spot_number(position: int) -> str:
    """P001 … P999, then P1000 …: existing spots keep their painted numbers when a lot grows."""
    return f"P{position:03d}"


def plain_number(raw: Decimal | str | int | float, what: str) -> Decimal | str | int | float:
    """Refuse a number written with an exponent ("1e3", Decimal("1E+3")): nobody types a
    price that way, and reading it as 1000 would save something else than what was meant."""
    if isinstance(raw, Decimal):
        exponent = raw.as_tuple().exponent
        if isinstance(exponent, int) and exponent > 0:
            raise ValidationError(f"{what} must be written with digits, e.g. 2.50.")
    elif isinstance(raw, str) and re.search(r"\d\s*[eE]|[eE]\s*[+-]?\d", raw):
        raise ValidationError(f"{what} '{raw.strip()[:30]}' must be written with digits, "
                              "e.g. 2.50.")
    return raw


def lot_price(raw: Decimal | str | int | float, currency: str = "EUR") -> Decimal:
    """A lot's price per hour as the service takes it: plain digits, then the price rule
    with the ceiling of the site's ``currency``."""
    return price_per_hour(plain_number(raw, "Price per hour"), currency)


def at_most(text: str, limit: int, what: str) -> str:
    """Refuse ``text`` longer than ``limit`` characters (never cut it); ``what`` names it."""
    if len(text) > limit:
        raise ValidationError(f"{what} is {len(text)} characters; at most {limit} are allowed.")
    return text
