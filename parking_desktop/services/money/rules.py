"""Pure decisions of a check-out's payment: what is charged after an adjustment, how much was
given away, the change due. No database here: payments.py applies them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.fee import CENT
from parking_desktop.domain.money import ExceptionKind, PaymentMethod
from parking_desktop.services.money.views import Adjustment, AdjustmentKind

NO_SHIFT = "No open shift: open a shift (with its cash float) before taking payments at the booth."
NO_SHIFT_CASH = (
    "Cash and card payments belong to an attendant's shift: open a shift first, "
    "or record the payment to the driver's account."
)
EXCEPTION_OF = {
    AdjustmentKind.FREE_EXIT: ExceptionKind.FREE_EXIT,
    AdjustmentKind.DISCOUNT_AMOUNT: ExceptionKind.DISCOUNT,
    AdjustmentKind.DISCOUNT_PERCENT: ExceptionKind.DISCOUNT,
    AdjustmentKind.FEE_OVERRIDE: ExceptionKind.FEE_OVERRIDE,
}


@dataclass(frozen=True)
class Charge:
    fee: Decimal  # what the tariff computed
    charged: Decimal  # what the driver pays
    given_away: Decimal  # fee - charged when positive (what the waiver limit applies to)


def charge(fee: Decimal, adjustment: Adjustment | None, method: PaymentMethod) -> Charge:
    fee = fee.quantize(CENT, rounding=ROUND_HALF_UP)
    charged = fee
    if method is PaymentMethod.WAIVED:
        charged = Decimal("0.00")
    elif adjustment is not None:
        charged = _adjusted(fee, adjustment)
    return Charge(fee=fee, charged=charged, given_away=max(Decimal("0.00"), fee - charged))


def _adjusted(fee: Decimal, adjustment: Adjustment) -> Decimal:
    value = adjustment.value
    if not value.is_finite() or value < 0:
        raise ValidationError("An adjustment must be a positive amount.")
    kind = adjustment.kind
    if kind is AdjustmentKind.FREE_EXIT:
        return Decimal("0.00")
    if kind is AdjustmentKind.DISCOUNT_AMOUNT:
        if value > fee:
            raise ValidationError(f"A discount of {value} is more than the fee of {fee}.")
        return (fee - value).quantize(CENT, rounding=ROUND_HALF_UP)
    if kind is AdjustmentKind.DISCOUNT_PERCENT:
        if value > 100:
            raise ValidationError("A discount cannot be more than 100 %.")
        return (fee * (100 - value) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    if value >= Decimal("1e9"):
        raise ValidationError("That fee is too large.")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def change_due(charged: Decimal, tendered: Decimal | None) -> tuple[Decimal, Decimal]:
    """(tendered, change) of a cash payment; the exact amount when nothing was typed."""
    if tendered is None:
        return charged, Decimal("0.00")
    if not tendered.is_finite() or tendered < charged:
        raise ValidationError(
            f"Cash tendered ({tendered}) is less than the amount due ({charged})."
        )
    if tendered >= Decimal("1e9"):
        raise ValidationError("That cash amount is too large.")
    tendered = tendered.quantize(CENT, rounding=ROUND_HALF_UP)
    return tendered, tendered - charged
