"""What every notifier returns; notifiers never raise (a failed notice must not fail a job)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NotifyResult:
    ok: bool
    message: str  # a sentence for logs and the Settings screen ("Sent.", "Not configured." ...)
    status: int | None = None  # the HTTP status of the last attempt, if any
    attempts: int = 0
    skipped: bool = False  # True when the notifier is not configured
