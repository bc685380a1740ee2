"""What the `demo` command was asked for, and what it made; apart from the builder, so the
command line reads the defaults to describe ``demo`` without loading the builder (and
SQLAlchemy) for every command."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from parking_desktop.domain.errors import ValidationError

LIMITS = {"drivers": (1, 100_000), "lots": (1, 50), "days": (1, 3650)}


@dataclass(frozen=True)
class DemoOptions:
    drivers: int = 200
    lots: int = 5
    days: int = 90
    seed: int = 1

    def validated(self) -> DemoOptions:
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ValidationError(
                    f"--{name} must be between {low} and {high}, not {value}."
                )
        return self


@dataclass(frozen=True)
class DemoSignIn:
    username: str
    role: str
    email: str | None


@dataclass(frozen=True)
class DemoResult:
    password: str
    sign_ins: list[DemoSignIn]
    lots: int
    spots: int
    drivers: int
    reservations: int
    open_reservations: int
    activity_rows: int
    seconds: float
    revenue_total: Decimal = Decimal("0.00")
    shifts: int = 0  # the attendants' shifts of the last two weeks, one of them open
    payments: int = 0  # payments and refunds, one receipt each
