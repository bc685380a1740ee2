"""The sidebar's screens, in order. To add a screen, add one ScreenEntry line here.

``factory`` is "module:Class" (imported on first visit, so a screen's imports cost nothing until
it is opened); the class takes ``(session: SignedIn, parent)`` and subclasses ``Screen``.
``roles`` are the roles that may open it; others see a refusal in the window."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from parking_desktop.domain.roles import STAFF_ROLES, Role

if TYPE_CHECKING:
    from parking_desktop.ui.desktop.screen import Screen, SignedIn

MANAGER_ONLY = frozenset({Role.MANAGER})


@dataclass(frozen=True)
class ScreenEntry:
    key: str
    title: str
    icon: str  # resources/icons/<icon>.svg
    factory: str  # "package.module:ClassName"
    roles: frozenset[Role] = STAFF_ROLES

    def build(self, session: SignedIn) -> Screen:
        module_name, _, class_name = self.factory.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        screen: Screen = cls(session)
        return screen


SCREENS: list[ScreenEntry] = [
    ScreenEntry("dashboard", "Dashboard", "dashboard",
                "parking_desktop.ui.desktop.dashboard:DashboardScreen"),
    ScreenEntry("lots", "Lots", "lots", "parking_desktop.ui.desktop.lots:LotsScreen"),
    ScreenEntry("spots", "Spots", "spots", "parking_desktop.ui.desktop.spots:SpotsScreen"),
    ScreenEntry("people", "People", "people", "parking_desktop.ui.desktop.people:PeopleScreen",
                MANAGER_ONLY),
    ScreenEntry("reservations", "Reservations", "reservations",
                "parking_desktop.ui.desktop.reservations:ReservationsScreen"),
    ScreenEntry("activity", "Activity log", "activity",
                "parking_desktop.ui.desktop.activity:ActivityScreen"),
    ScreenEntry("exports", "Exports", "export",
                "parking_desktop.ui.desktop.exports_screen:ExportsScreen"),
    ScreenEntry("outbox", "Outbox", "outbox", "parking_desktop.ui.desktop.outbox:OutboxScreen",
                MANAGER_ONLY),
    ScreenEntry("jobs", "Jobs", "jobs", "parking_desktop.ui.desktop.jobs_screen:JobsScreen",
                MANAGER_ONLY),
    ScreenEntry("mail", "Mail settings", "mail",
                "parking_desktop.ui.desktop.mail_settings:MailSettingsScreen", MANAGER_ONLY),
    ScreenEntry("shifts", "Shifts", "key",
                "parking_desktop.ui.desktop.shifts_screen:ShiftsScreen", MANAGER_ONLY),
    ScreenEntry("exceptions", "Exceptions", "alert",
                "parking_desktop.ui.desktop.exceptions_screen:ExceptionsScreen", MANAGER_ONLY),
    ScreenEntry("kiosks", "Kiosks", "info",
                "parking_desktop.ui.desktop.kiosks_screen:KiosksScreen", MANAGER_ONLY),
    ScreenEntry("cache", "Cache & performance", "database",
                "parking_desktop.ui.desktop.cache_screen:CacheScreen", MANAGER_ONLY),
]


def entry(key: str) -> ScreenEntry:
    for item in SCREENS:
        if item.key == key:
            return item
    raise KeyError(key)
