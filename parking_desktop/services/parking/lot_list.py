"""The active-lot list (what ``LotService.search()`` returns) read over the plain DB-API.

For a one-shot command (``main.py lots``) that would otherwise load SQLAlchemy, the ORM and
every model to run two small SELECTs. None whenever the App must do it instead: a URL form or
a database file the plain reader does not take, and a schema not at this program's revision
(a new database, an older one the App upgrades, a newer one it refuses)."""

from __future__ import annotations

from typing import Any

from parking_desktop.adapters.db.plain import open_reader
from parking_desktop.adapters.db.plain_lots import LotRow, active_lots, tariff_document
from parking_desktop.adapters.db.schema_version import HEAD_REVISION
from parking_desktop.domain.clock import Clock
from parking_desktop.domain.tariffs import flat_tariff
from parking_desktop.services.tariffs.parsing import parse
from parking_desktop.services.tariffs.summary import summary
from parking_desktop.services.views import LotView


def read_active_lots(database_url: str, *, currency: str, clock: Clock) -> list[LotView] | None:
    """The list as ``LotService.search()`` builds it (the same views, tariff figures and
    order), or None (see the module's docstring). Errors are raised as the App's read raises
    them (``ServiceContext.read``)."""
    reader = open_reader(database_url)
    if reader is None:
        return None
    with reader:
        if reader.revisions() != [HEAD_REVISION]:
            return None
        try:
            now = clock.now()
            return [_view(row, tariff_document(reader, row.id, now), currency)
                    for row in active_lots(reader)]
        except Exception as exc:
            from parking_desktop.services.context import read_failure  # SQLAlchemy: on failure

            translated = read_failure(exc)
            if translated is exc:
                raise
            raise translated from None


def _view(row: LotRow, document: dict[str, Any] | None, currency: str) -> LotView:
    # As lots.lot_view() and tariffs.in_force(): a lot without a stored version is priced by
    # the flat rule at its price, in the site's currency.
    version = (flat_tariff(row.price_per_hour, currency=currency) if document is None
               else parse(document))
    return LotView(
        id=row.id, name=row.name, address=row.address, pin_code=row.pin_code,
        price_per_hour=row.price_per_hour, number_of_spots=row.number_of_spots,
        available=int(row.available or 0), reserved=int(row.reserved or 0),
        occupied=int(row.occupied or 0), created_at=row.created_at,
        archived_at=row.archived_at, tariff=summary(version),
    )


