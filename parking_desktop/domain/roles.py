"""Roles and the signed-in actor."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    MANAGER = "manager"
    ATTENDANT = "attendant"
    DRIVER = "driver"


STAFF_ROLES = frozenset({Role.MANAGER, Role.ATTENDANT})


@dataclass(frozen=True)
class Actor:
    """Who is performing a service call. ``user_id`` is None only for the system itself."""

    user_id: int | None
    username: str
    role: Role

    @property
    def is_manager(self) -> bool:
        return self.role is Role.MANAGER

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


# The scheduler, the CLI run by the site's administrator, and the demo loader act as this.
SYSTEM = Actor(user_id=None, username="system", role=Role.MANAGER)
