"""Accounts: create, sign in (argon2, lockout), roles, deactivate, reset password."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from parking_desktop.adapters.db.models import User
from parking_desktop.domain import validation
from parking_desktop.domain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import (
    require_manager,
    require_self_or_staff,
    require_staff,
)
from parking_desktop.services.parking.activity import record
from parking_desktop.services.sqlhelpers import contains
from parking_desktop.services.views import Page, UserView

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=5)


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...


def user_view(user: User) -> UserView:
    return UserView(
        id=user.id, username=user.username, email=user.email, full_name=user.full_name or "",
        role=Role(user.role), is_active=user.is_active, last_login=user.last_login,
        last_booking=user.last_booking, created_at=user.created_at,
        locked_until=user.locked_until,
    )


def _refuse_if_locked(locked_until: datetime | None, now: datetime) -> None:
    if locked_until is not None and locked_until > now:
        minutes = max(1, int((locked_until - now).total_seconds() + 59) // 60)
        raise AuthenticationError(
            f"Too many failed sign-ins: this account is locked for {minutes} more "
            f"minute{'s' if minutes != 1 else ''}."
        )


def same_username(name: str) -> Any:
    """Usernames are ASCII (validation.USERNAME_RE), so SQL lower() folds them the same way on
    both databases, and the unique index on lower(username) serves the lookup."""
    return func.lower(User.username) == name.lower()


def actor_for(user: User) -> Actor:
    return Actor(user_id=user.id, username=user.username, role=Role(user.role))


class UserService:
    def __init__(self, ctx: ServiceContext, hasher: PasswordHasher) -> None:
        self.ctx = ctx
        self.hasher = hasher
        self._dummy: str | None = None

    # --- queries -------------------------------------------------------------------------
    def has_manager(self) -> bool:
        """False on a fresh database: the first-run screen then creates the first manager."""
        with self.ctx.read() as session:
            found = session.scalar(
                select(User.id).where(User.role == Role.MANAGER.value, User.is_active).limit(1)
            )
        return found is not None

    def get(self, actor: Actor, user_id: int) -> UserView:
        require_self_or_staff(actor, user_id, "see account details")
        with self.ctx.read() as session:
            return user_view(self._load(session, user_id))

    def find_by_username(self, actor: Actor, username: str) -> UserView:
        """By username, whatever its case (usernames are unique case-insensitively)."""
        name = validation.search_text(username, "The username")
        if not actor.is_staff and name.lower() != actor.username.lower():
            # Refused before looking: a driver must not learn which usernames exist.
            require_self_or_staff(actor, None, "see account details")
        with self.ctx.read() as session:
            user = session.scalar(select(User).where(same_username(name)))
            if user is None:
                raise NotFoundError(f"There is no user '{name}'.")
            require_self_or_staff(actor, user.id, "see account details")
            return user_view(user)

    def search(
        self,
        actor: Actor,
        text: str = "",
        *,
        role: Role | None = None,
        include_inactive: bool = True,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[UserView]:
        """Drivers and staff by username, name or e-mail (staff only)."""
        require_staff(actor, "search people")
        conditions: list[Any] = []
        needle = validation.search_text(text)
        if needle:
            conditions.append(or_(
                contains(User.username, needle),
                contains(User.email, needle),
                contains(User.full_name, needle),
            ))
        if role is not None:
            conditions.append(User.role == role.value)
        if not include_inactive:
            conditions.append(User.is_active)
        limit = max(1, min(limit, 1000))
        with self.ctx.read() as session:
            total = session.scalar(select(func.count(User.id)).where(*conditions)) or 0
            users = session.scalars(
                select(User).where(*conditions).order_by(User.username)
                .offset(max(0, offset)).limit(limit)
            ).all()
            return Page([user_view(u) for u in users], total, offset, limit)

    # --- sign-in ---------------------------------------------------------------------------
    def authenticate(self, login: str, password: str) -> tuple[Actor, UserView]:
        """Sign in with username or e-mail. Five wrong passwords lock the account for five
        minutes. The message never tells which of the two was wrong.

        The (deliberately slow) argon2 check runs outside any write transaction: on SQLite a
        write transaction holds the database's only write lock, and every kiosk would wait."""
        login = validation.search_text(login, "The username")
        if not login or not password:
            raise AuthenticationError("Enter your username (or e-mail) and password.")
        now = self.ctx.clock.now()
        wrong = AuthenticationError("Wrong username or password.")
        by_login = or_(User.username == login, User.email == login.lower())
        with self.ctx.read() as session:
            found = session.execute(
                select(User.id, User.password_hash, User.locked_until).where(by_login)
            ).first()
        if found is None:
            # Same work as a real check, so the time taken does not reveal unknown names.
            self.hasher.verify(self._dummy_hash(), password)
            raise wrong
        user_id, password_hash, locked_until = found
        _refuse_if_locked(locked_until, now)
        password_ok = self.hasher.verify(password_hash, password)
        new_hash = (self.hasher.hash(password)
                    if password_ok and self.hasher.needs_rehash(password_hash) else None)
        # Only "activity": a sign-in changes no figure anyone caches (last_login is not on the
        # dashboard), so it must not make every kiosk sign-in recompute the dashboard.
        with self.ctx.write("activity") as session:
            user = self._load(session, user_id, lock=True)
            # Another kiosk may have locked the account while we were hashing.
            _refuse_if_locked(user.locked_until, now)
            if not password_ok or user.password_hash != password_hash:
                user.failed_logins = (user.failed_logins or 0) + 1
                data: dict[str, Any] = {"attempts": user.failed_logins}
                locked = user.failed_logins >= MAX_FAILED_LOGINS
                if locked:
                    user.locked_until = now + LOCKOUT
                    user.failed_logins = 0
                    data["locked_until"] = user.locked_until.isoformat()
                record(session, user.id, "login_failed", data, now)
                # Commit the counter, then refuse: the failed attempt must be remembered.
                session.commit()
                if locked:
                    raise AuthenticationError(
                        "Too many failed sign-ins: this account is locked for 5 minutes."
                    )
                raise wrong
            if not user.is_active:
                raise AuthenticationError("This account is deactivated; ask a manager.")
            if new_hash is not None:
                user.password_hash = new_hash
            user.failed_logins = 0
            user.locked_until = None
            user.last_login = now
            record(session, user.id, "login", {}, now)
            return actor_for(user), user_view(user)

    def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = self.hasher.hash("not-a-password-" + secrets.token_hex(8))
        return self._dummy

    # --- changes ----------------------------------------------------------------------------
    def create(
        self,
        actor: Actor,
        *,
        username: str,
        password: str,
        role: Role | str,
        email: str | None = None,
        full_name: str = "",
    ) -> UserView:
        """Managers create any account. On a database without a manager, the first manager
        can be created by anyone (first run)."""
        name = validation.username(username)
        chosen_role = validation.role(role)
        address = validation.email(email)
        validation.password(password)
        full = validation.full_name(full_name)
        first_manager = chosen_role is Role.MANAGER and not self.has_manager()
        if actor is not SYSTEM and not actor.is_manager and not first_manager:
            require_manager(actor, "create accounts")
        now = self.ctx.clock.now()
        password_hash = self.hasher.hash(password)
        with self.ctx.write(
            "users", "activity",
            conflict=f"The username '{name}' or that e-mail is already taken.",
            conflicts={
                "uq_users_username": f"The username '{name}' is already taken.",
                "uq_users_username_lower": f"The username '{name}' is already taken.",
                "uq_users_email": f"The e-mail {address} is already used by another account.",
            },
        ) as session:
            self._check_unique(session, name, address)
            user = User(
                username=name, email=address, full_name=full, password_hash=password_hash,
                role=chosen_role.value, is_active=True, created_at=now, failed_logins=0,
            )
            session.add(user)
            session.flush()
            record(session, actor.user_id, "user_created",
                   {"user_id": user.id, "username": name, "role": chosen_role.value,
                    "email": address}, now)
            return user_view(user)

    def update(
        self,
        actor: Actor,
        user_id: int,
        *,
        email: str | None = None,
        full_name: str | None = None,
        role: Role | str | None = None,
    ) -> UserView:
        require_manager(actor, "edit accounts")
        now = self.ctx.clock.now()
        with self.ctx.write("users", "activity", conflict="That e-mail is already taken.") as s:
            user = self._load(s, user_id, lock=True)
            before = {"email": user.email, "full_name": user.full_name, "role": user.role}
            if email is not None:
                address = validation.email(email)
                if address and s.scalar(
                    select(User.id).where(User.email == address, User.id != user_id)
                ):
                    raise ConflictError(f"The e-mail {address} is already used by another account.")
                user.email = address
            if full_name is not None:
                user.full_name = validation.full_name(full_name)
            if role is not None:
                new_role = validation.role(role)
                if user.id == actor.user_id and new_role is not Role.MANAGER:
                    raise ConflictError("You cannot remove your own manager role.")
                if user.role == Role.MANAGER.value and new_role is not Role.MANAGER:
                    self._ensure_other_manager(s, user.id)
                user.role = new_role.value
            after = {"email": user.email, "full_name": user.full_name, "role": user.role}
            if after != before:
                record(s, actor.user_id, "user_updated",
                       {"user_id": user.id, "username": user.username,
                        "before": before, "after": after}, now)
            return user_view(user)

    def set_active(self, actor: Actor, user_id: int, active: bool) -> UserView:
        require_manager(actor, "deactivate or reactivate accounts")
        now = self.ctx.clock.now()
        with self.ctx.write("users", "activity") as session:
            user = self._load(session, user_id, lock=True)
            if not active and user.id == actor.user_id:
                raise ConflictError("You cannot deactivate your own account.")
            if not active and user.role == Role.MANAGER.value:
                self._ensure_other_manager(session, user.id)
            if user.is_active != active:
                user.is_active = active
                record(session, actor.user_id,
                       "user_reactivated" if active else "user_deactivated",
                       {"user_id": user.id, "username": user.username,
                        "before": {"is_active": not active}, "after": {"is_active": active}}, now)
            return user_view(user)

    def reset_password(self, actor: Actor, user_id: int, new_password: str) -> None:
        """A manager resets anyone's password; anyone may change their own."""
        if actor.user_id != user_id:
            require_manager(actor, "reset other people's passwords")
        validation.password(new_password)
        password_hash = self.hasher.hash(new_password)
        now = self.ctx.clock.now()
        with self.ctx.write("users", "activity") as session:
            user = self._load(session, user_id, lock=True)
            user.password_hash = password_hash
            user.failed_logins = 0
            user.locked_until = None
            record(session, actor.user_id, "password_reset",
                   {"user_id": user.id, "username": user.username}, now)

    def verify_manager_password(self, password: str) -> bool:
        """True if ``password`` belongs to any active manager (the kiosk's exit check)."""
        with self.ctx.read() as session:
            hashes = session.scalars(
                select(User.password_hash).where(User.role == Role.MANAGER.value, User.is_active)
            ).all()
        return any(self.hasher.verify(h, password) for h in hashes)

    # --- helpers ----------------------------------------------------------------------------
    @staticmethod
    def _load(session: Session, user_id: int, lock: bool = False) -> User:
        query = select(User).where(User.id == user_id)
        user = session.scalar(query.with_for_update() if lock else query)
        if user is None:
            raise NotFoundError(f"There is no user with id {user_id}.")
        return user

    @staticmethod
    def _check_unique(session: Session, name: str, address: str | None) -> None:
        taken = session.scalar(select(User.username).where(same_username(name)))
        if taken == name:
            raise ConflictError(f"The username '{name}' is already taken.")
        if taken is not None:
            raise ConflictError(f"The username '{name}' is already taken (as '{taken}'): "
                                "usernames differing only in case are the same.")
        if address and session.scalar(select(User.id).where(User.email == address)):
            raise ConflictError(f"The e-mail {address} is already used by another account.")

    @staticmethod
    def _ensure_other_manager(session: Session, user_id: int) -> None:
        others = session.scalar(
            select(func.count(User.id)).where(
                User.role == Role.MANAGER.value, User.is_active, User.id != user_id
            )
        )
        if not others:
            raise ValidationError("This is the last active manager; create another one first.")
