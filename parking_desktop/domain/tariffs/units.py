"""Names and units every tariff module shares (kept apart so validation and the model do not
import each other)."""

from __future__ import annotations

from datetime import timedelta

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# "Exact": billed pro rata to the microsecond, as the flat fee rule in domain/fee.py does.
EXACT = timedelta(microseconds=1)
