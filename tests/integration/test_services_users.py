"""People and activity: accounts, sign-in, roles; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from parking_desktop.adapters.db.models import User, UserActivity
from parking_desktop.bootstrap import App
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from tests.conftest import PASSWORD, MakeUser, Unchanged, uid


def stored(app: App, user_id: int) -> User:
    with app.db.read() as s:
        user = s.get(User, user_id)
        assert user is not None
        return user


def activity(app: App, activity_type: str) -> list[tuple[int | None, dict[str, Any]]]:
    with app.db.read() as s:
        return [(u, dict(d)) for u, d in s.execute(
            select(UserActivity.user_id, UserActivity.activity_data)
            .where(UserActivity.activity_type == activity_type).order_by(UserActivity.id)
        ).all()]


# --- accounts --------------------------------------------------------------------------------
def test_the_password_is_stored_as_an_argon2id_hash(app: App, manager: Actor) -> None:
    view = app.users.create(manager, username="ann", password="s3cret-pass", role="driver",
                            email=" Ann@Example.com ")
    user = stored(app, view.id)
    assert user.password_hash.startswith("$argon2id$")
    assert "s3cret-pass" not in user.password_hash
    assert (view.username, view.email, view.role, view.is_active) == (
        "ann", "ann@example.com", Role.DRIVER, True)
    assert view.created_at == app.ctx.clock.now()
    assert activity(app, "user_created")[-1] == (manager.user_id, {
        "user_id": view.id, "username": "ann", "role": "driver", "email": "ann@example.com"})


def test_no_manager_on_a_fresh_database_then_the_first_one_is_created(app: App) -> None:
    assert app.users.has_manager() is False
    nobody = Actor(user_id=None, username="first-run", role=Role.DRIVER)
    first = app.users.create(nobody, username="boss", password=PASSWORD, role="manager")
    assert app.users.has_manager() is True
    # Once a manager exists, only a manager creates accounts.
    with pytest.raises(PermissionDeniedError, match="Only a manager can create accounts"):
        app.users.create(nobody, username="boss2", password=PASSWORD, role="manager")
    assert first.role is Role.MANAGER


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"username": "ab"}, ValidationError, "Username must be 3 to 80 characters"),
        ({"username": "bad name"}, ValidationError, "letters, digits or underscore"),
        ({"password": "short"}, ValidationError, "Password must be at least 8 characters"),
        ({"email": "nope"}, ValidationError, "'nope' is not a valid e-mail address"),
        ({"role": "admin"}, ValidationError, "Role 'admin' is not valid"),
        ({"username": "driver1"}, ConflictError, "The username 'driver1' is already taken"),
        ({"email": "DRIVER1@example.com"}, ConflictError,
         "The e-mail driver1@example.com is already used by another account"),
    ],
)
def test_bad_accounts_are_refused_and_change_nothing(
    app: App, manager: Actor, driver: Actor, unchanged: Unchanged, fields: dict[str, str],
    error: type[Exception], message: str,
) -> None:
    values = {"username": "newbie", "password": PASSWORD, "role": "driver",
              "email": "newbie@example.com", **fields}
    with unchanged(), pytest.raises(error) as info:
        app.users.create(manager, **values)
    assert message in str(info.value)


def test_only_a_manager_manages_accounts(
    app: App, manager: Actor, attendant: Actor, driver: Actor, unchanged: Unchanged
) -> None:
    for who in (attendant, driver):
        with unchanged():
            with pytest.raises(PermissionDeniedError, match="Only a manager can create"):
                app.users.create(who, username="sneaky", password=PASSWORD, role="manager")
            with pytest.raises(PermissionDeniedError, match="Only a manager can edit"):
                app.users.update(who, uid(driver), role="manager")
            with pytest.raises(PermissionDeniedError, match="Only a manager can deactivate"):
                app.users.set_active(who, uid(manager), False)
            with pytest.raises(PermissionDeniedError, match="reset other people's passwords"):
                app.users.reset_password(who, uid(manager), "new-password-1")


def test_manager_edits_are_audited_with_before_and_after(
    app: App, manager: Actor, driver: Actor
) -> None:
    app.users.update(manager, uid(driver), email="new@example.com", full_name=" Dee  Driver ",
                     role="attendant")
    [(who, data)] = activity(app, "user_updated")
    assert who == manager.user_id
    assert data["before"] == {"email": "driver1@example.com", "full_name": "", "role": "driver"}
    assert data["after"] == {"email": "new@example.com", "full_name": "Dee Driver",
                             "role": "attendant"}
    app.users.set_active(manager, uid(driver), False)
    [(_, data)] = activity(app, "user_deactivated")
    assert (data["before"], data["after"]) == ({"is_active": True}, {"is_active": False})
    app.users.set_active(manager, uid(driver), True)
    assert activity(app, "user_reactivated")[0][1]["after"] == {"is_active": True}


def test_an_e_mail_already_used_is_refused_on_update(
    app: App, manager: Actor, driver: Actor, unchanged: Unchanged
) -> None:
    with unchanged(), pytest.raises(ConflictError, match="already used by another account"):
        app.users.update(manager, uid(driver), email="MANAGER1@example.com")


def test_the_last_manager_cannot_be_demoted_or_deactivated(
    app: App, manager: Actor, make_user: MakeUser, unchanged: Unchanged
) -> None:
    with unchanged(), pytest.raises(ConflictError, match="cannot remove your own manager role"):
        app.users.update(manager, uid(manager), role="driver")
    with unchanged(), pytest.raises(ConflictError, match="cannot deactivate your own account"):
        app.users.set_active(manager, uid(manager), False)
    with unchanged(), pytest.raises(ValidationError, match="last active manager"):
        app.users.update(SYSTEM, uid(manager), role="driver")
    other = make_user("boss2", Role.MANAGER)
    app.users.set_active(other, uid(manager), False)  # fine: boss2 is still a manager


def test_unknown_user(app: App, manager: Actor) -> None:
    with pytest.raises(NotFoundError, match="no user with id 999"):
        app.users.update(manager, 999, full_name="x")
    with pytest.raises(NotFoundError, match="no user 'ghost'"):
        app.users.find_by_username(manager, "ghost")


# --- sign-in ---------------------------------------------------------------------------------
def test_sign_in_by_username_or_email_records_last_login(
    app: App, driver: Actor, clock: FixedClock
) -> None:
    clock.advance(hours=1)
    actor, view = app.users.authenticate("driver1", PASSWORD)
    assert actor == driver
    assert view.last_login == clock.now()
    clock.advance(minutes=1)
    actor, view = app.users.authenticate(" DRIVER1@example.com ", PASSWORD)
    assert actor == driver and view.last_login == clock.now()
    assert stored(app, uid(driver)).last_login == clock.now()
    assert len(activity(app, "login")) == 2
    assert activity(app, "login")[0][0] == driver.user_id


@pytest.mark.parametrize(("login", "password"), [("driver1", "wrong-password"),
                                                 ("nobody", PASSWORD)])
def test_a_wrong_sign_in_never_says_which_part_was_wrong(
    app: App, driver: Actor, login: str, password: str
) -> None:
    with pytest.raises(AuthenticationError, match=r"^Wrong username or password\.$"):
        app.users.authenticate(login, password)


def test_sign_in_needs_both_fields(app: App) -> None:
    with pytest.raises(AuthenticationError, match="Enter your username"):
        app.users.authenticate("  ", "x")
    with pytest.raises(AuthenticationError, match="Enter your username"):
        app.users.authenticate("driver1", "")


def test_five_failures_lock_the_account_for_five_minutes(
    app: App, driver: Actor, clock: FixedClock
) -> None:
    for attempt in range(1, 5):
        with pytest.raises(AuthenticationError, match="Wrong username or password"):
            app.users.authenticate("driver1", f"wrong-{attempt}")
        assert stored(app, uid(driver)).failed_logins == attempt
    with pytest.raises(AuthenticationError, match="locked for 5 minutes"):
        app.users.authenticate("driver1", "wrong-5")
    locked_at = clock.now()
    assert stored(app, uid(driver)).locked_until == locked_at + timedelta(minutes=5)
    failures = activity(app, "login_failed")
    assert [d["attempts"] for _, d in failures] == [1, 2, 3, 4, 5]
    assert failures[-1][1]["locked_until"] == (locked_at + timedelta(minutes=5)).isoformat()

    # Even the right password is refused while locked, and the lock says how long is left.
    clock.advance(minutes=2, seconds=30)
    with pytest.raises(AuthenticationError, match="locked for 3 more minutes"):
        app.users.authenticate("driver1", PASSWORD)
    clock.advance(minutes=2, seconds=29)
    with pytest.raises(AuthenticationError, match=r"locked for 1 more minute\.$"):
        app.users.authenticate("driver1", PASSWORD)
    assert activity(app, "login") == []

    clock.set(locked_at + timedelta(minutes=5))
    actor, _ = app.users.authenticate("driver1", PASSWORD)
    assert actor == driver
    user = stored(app, uid(driver))
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_a_success_resets_the_failure_count(app: App, driver: Actor) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            app.users.authenticate("driver1", "wrong-password")
    app.users.authenticate("driver1", PASSWORD)
    for _ in range(4):  # four more: still not locked
        with pytest.raises(AuthenticationError, match="Wrong username"):
            app.users.authenticate("driver1", "wrong-password")
    app.users.authenticate("driver1", PASSWORD)


def test_a_deactivated_account_cannot_sign_in(app: App, manager: Actor, driver: Actor) -> None:
    app.users.set_active(manager, uid(driver), False)
    with pytest.raises(AuthenticationError, match="deactivated; ask a manager"):
        app.users.authenticate("driver1", PASSWORD)
    assert stored(app, uid(driver)).last_login is None


def test_password_reset(app: App, manager: Actor, driver: Actor, clock: FixedClock) -> None:
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            app.users.authenticate("driver1", "wrong-password")
    app.users.reset_password(manager, uid(driver), "brand-new-pass")
    # The reset also lifts the lock.
    app.users.authenticate("driver1", "brand-new-pass")
    with pytest.raises(AuthenticationError, match="Wrong username or password"):
        app.users.authenticate("driver1", PASSWORD)
    # Anyone may change their own.
    app.users.reset_password(driver, uid(driver), "mine-again-1")
    app.users.authenticate("driver1", "mine-again-1")
    with pytest.raises(ValidationError, match="at least 8"):
        app.users.reset_password(driver, uid(driver), "short")
    assert [d["username"] for _, d in activity(app, "password_reset")] == ["driver1", "driver1"]
    assert "brand-new-pass" not in str(activity(app, "password_reset"))


def test_the_kiosk_exit_check_accepts_only_an_active_managers_password(
    app: App, manager: Actor, attendant: Actor
) -> None:
    assert app.users.verify_manager_password(PASSWORD) is True  # manager1's
    assert app.users.verify_manager_password("wrong-password") is False
    app.users.reset_password(manager, uid(attendant), "attendant-pass")
    assert app.users.verify_manager_password("attendant-pass") is False


# --- who sees whom ---------------------------------------------------------------------------
def test_a_driver_sees_only_their_own_account(
    app: App, driver: Actor, make_user: MakeUser, attendant: Actor
) -> None:
    other = make_user("driver2", Role.DRIVER, "d2@example.com")
    assert app.users.get(driver, uid(driver)).username == "driver1"
    assert app.users.find_by_username(driver, "driver1").id == driver.user_id
    with pytest.raises(PermissionDeniedError):
        app.users.get(driver, uid(other))
    with pytest.raises(PermissionDeniedError):
        app.users.find_by_username(driver, "driver2")
    # ...and cannot even learn whether a name exists.
    with pytest.raises(PermissionDeniedError):
        app.users.find_by_username(driver, "ghost")
    with pytest.raises(PermissionDeniedError):
        app.users.search(driver, "driver")
    assert app.users.get(attendant, uid(other)).username == "driver2"


def test_people_search_by_name_or_email_with_paging(
    app: App, manager: Actor, attendant: Actor, make_user: MakeUser
) -> None:
    for i in range(1, 6):
        make_user(f"driver{i}", Role.DRIVER, f"d{i}@mail.example")
    make_user("alice_w", Role.DRIVER, "wonder@land.example")
    app.users.update(manager, app.users.find_by_username(manager, "driver3").id,
                     full_name="Carla Jones")
    page = app.users.search(attendant, "driver", role=Role.DRIVER, limit=2, offset=2)
    assert page.total == 5
    assert [u.username for u in page.items] == ["driver3", "driver4"]
    assert [u.username for u in app.users.search(manager, "LAND.example").items] == ["alice_w"]
    assert [u.username for u in app.users.search(manager, "jones").items] == ["driver3"]
    assert [u.username for u in app.users.search(manager, "e_").items] == ["alice_w"]
    assert {u.role for u in app.users.search(manager, role=Role.ATTENDANT).items} == {
        Role.ATTENDANT}
    app.users.set_active(manager, app.users.find_by_username(manager, "driver5").id, False)
    active = app.users.search(manager, "driver", include_inactive=False)
    assert "driver5" not in [u.username for u in active.items]
