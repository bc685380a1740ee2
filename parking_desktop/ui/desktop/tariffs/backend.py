"""What the tariff editor needs of the tariff service, as a small interface: the editor is
built against it, and the app's ``TariffService`` (``app.tariffs``) provides it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Protocol, cast

from parking_desktop.bootstrap import App
from parking_desktop.domain.errors import ConflictError
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.tariffs import PricedStay, TariffVersion, flat_tariff, quote

Progress = Callable[[int, int], None]


class Simulation(Protocol):
    """What-if repricing of one lot's completed stays (the fields the panel shows)."""

    @property
    def stays(self) -> int: ...
    @property
    def revenue_now(self) -> Decimal: ...
    @property
    def revenue_draft(self) -> Decimal: ...
    @property
    def more(self) -> int: ...  # stays that would cost more with the draft
    @property
    def less(self) -> int: ...
    @property
    def same(self) -> int: ...
    @property
    def change_by_hour(self) -> Sequence[Decimal]: ...  # 24 amounts, by local hour of arrival
    @property
    def currency(self) -> str: ...


class TariffBackend(Protocol):
    def current(self, lot_id: int) -> TariffVersion: ...
    def save(self, lot_id: int, version: TariffVersion, actor: Actor) -> int: ...
    def quote(self, lot_id: int, arrived_at: datetime, left_at: datetime) -> PricedStay: ...
    def simulate(
        self,
        lot_id: int,
        draft: TariffVersion,
        days: int,
        progress: Progress,
        cancelled: threading.Event,
    ) -> Simulation: ...


class EngineOnly:
    """Until the app has a tariff service: every lot's tariff is its flat price (what the
    migration gives existing lots), quotes come from the rate engine, and saving or
    simulating says plainly that it cannot be done yet."""

    UNAVAILABLE = "Tariffs cannot be saved or simulated by this version of the program yet."

    def __init__(self, app: App) -> None:
        self.app = app

    def current(self, lot_id: int) -> TariffVersion:
        return flat_tariff(self.app.lots.get(lot_id).price_per_hour)

    def save(self, lot_id: int, version: TariffVersion, actor: Actor) -> int:
        raise ConflictError(self.UNAVAILABLE)

    def quote(self, lot_id: int, arrived_at: datetime, left_at: datetime) -> PricedStay:
        return quote(self.current(lot_id), arrived_at, left_at, self.app.ctx.tz)

    def simulate(
        self,
        lot_id: int,
        draft: TariffVersion,
        days: int,
        progress: Progress,
        cancelled: threading.Event,
    ) -> Simulation:
        raise ConflictError(self.UNAVAILABLE)


def backend_for(app: App) -> TariffBackend:
    service = getattr(app, "tariffs", None)
    return EngineOnly(app) if service is None else cast(TariffBackend, service)
