"""A stored tariff document as a version (SQLAlchemy-free: the plain lot list uses it too)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from parking_desktop.domain.tariffs import TariffVersion, tariff_from_json


@lru_cache(maxsize=512)
def _parse(text: str) -> TariffVersion:
    return tariff_from_json(json.loads(text))


def parse(document: dict[str, Any]) -> TariffVersion:
    """A stored document as a version. Cached by its text: versions never change, and checking
    a version's bands on every check-out would be wasted work."""
    return _parse(json.dumps(document, sort_keys=True))
