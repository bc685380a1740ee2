"""An offline operation as the kiosk journals it and the server replays it (plain data: it
crosses threads and, as JSON, the kiosk's journal file)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class OpKind(StrEnum):
    CHECK_IN = "check_in"
    CHECK_OUT = "check_out"


class Outcome(StrEnum):
    """What the server did with an operation (``applied_operations.outcome``)."""

    APPLIED = "applied"  # as the kiosk did it
    ADJUSTED = "adjusted"  # the closest correct outcome instead (a conflict row says what)
    REFUSED = "refused"  # nothing could be applied (a conflict row says why)


@dataclass(frozen=True)
class Operation:
    """``payload`` holds JSON values only (money and moments as text): see journal.py."""

    op_id: str  # a uuid made by the kiosk: the server's "at most once" key
    kiosk_id: str
    seq: int  # the kiosk's own order; replay follows it
    kind: OpKind
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Confirmation:
    """The server's answer for one operation; the kiosk drops the operation once it has it."""

    op_id: str
    outcome: Outcome
    reservation_id: int | None
    message: str
    again: bool = False  # it had been applied before (a replay cut off after the commit)


@dataclass(frozen=True)
class ConflictView:
    id: int
    op_id: str
    kiosk_id: str
    kind: str
    vehicle_number: str
    kiosk_version: dict[str, Any]
    server_version: dict[str, Any]
    outcome: str
    reservation_id: int | None
    created_at: datetime
    resolved_at: datetime | None
