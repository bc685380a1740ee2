"""What the tariff editor needs of the tariff service, as a small interface: the app's
``TariffService`` (``app.tariffs``) provides it; a test can hand the editor a stand-in (a
long what-if run to cancel)."""

from __future__ import annotations

from typing import Protocol

from parking_desktop.bootstrap import App
from parking_desktop.domain.roles import Actor
from parking_desktop.domain.tariffs import TariffVersion
from parking_desktop.services.tariffs.simulation import Cancelled, Progress, SimulationResult


class TariffBackend(Protocol):
    def current(self, lot_id: int) -> TariffVersion: ...
    def save(self, lot_id: int, version: TariffVersion, actor: Actor) -> int: ...
    def simulate(
        self,
        lot_id: int | None,
        draft: TariffVersion,
        days: int,
        progress: Progress | None = None,
        cancelled: Cancelled | None = None,
    ) -> SimulationResult: ...


def backend_for(app: App) -> TariffBackend:
    return app.tariffs
