"""Role checks, done inside the services (buttons being hidden is not enough)."""

from __future__ import annotations

from parking_desktop.domain.errors import PermissionDeniedError
from parking_desktop.domain.roles import Actor, Role


def require_manager(actor: Actor, action: str) -> None:
    if actor.role is not Role.MANAGER:
        raise PermissionDeniedError(f"Only a manager can {action}.")


def require_staff(actor: Actor, action: str) -> None:
    if actor.role not in (Role.MANAGER, Role.ATTENDANT):
        raise PermissionDeniedError(f"Only staff can {action}.")


def require_self_or_staff(actor: Actor, user_id: int | None, action: str) -> None:
    if actor.is_staff:
        return
    if user_id is None or actor.user_id != user_id:
        raise PermissionDeniedError(f"You can only {action} for your own account.")


def require_self_or_manager(actor: Actor, user_id: int | None, action: str) -> None:
    if actor.is_manager:
        return
    if user_id is None or actor.user_id != user_id:
        raise PermissionDeniedError(f"You can only {action} for your own account.")
