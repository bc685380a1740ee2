"""Sign-in and first-run (create the first manager) dialogs, shared by desktop and kiosk."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from zoneinfo import available_timezones

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget

from parking_desktop.bootstrap import App
from parking_desktop.domain import validation
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.roles import STAFF_ROLES, Actor, Role
from parking_desktop.services.views import UserView
from parking_desktop.ui.common.dialogs import ServiceDialog
from parking_desktop.ui.common.forms import Field, Form, add_row, full_name_rule, line_edit
from parking_desktop.ui.common.timezone import machine_zone, save_site_zone, zone_box

# Acts for nobody: the service lets it create a manager only while none exists (first run).
FIRST_RUN = Actor(user_id=None, username="first-run", role=Role.ATTENDANT)

ROLE_REFUSAL = {
    Role.DRIVER: "Drivers sign in at the kiosk; this desktop is for managers and attendants.",
}


class SignInDialog(ServiceDialog):
    """Username or e-mail and password. The service's message (wrong password, locked account)
    is shown in the dialog; ``actor`` and ``user`` are set when it is accepted."""

    def __init__(self, app: App, parent: QWidget | None = None, *,
                 allowed_roles: Collection[Role] = STAFF_ROLES,
                 subtitle: str = "Sign in with your username or e-mail address.") -> None:
        super().__init__(parent, "Sign in to Parking Desktop", subtitle=subtitle,
                         ok_text="Sign in")
        self.setObjectName("signInDialog")
        self.app = app
        self.allowed_roles = frozenset(allowed_roles)
        self.actor: Actor | None = None
        self.user: UserView | None = None
        form = QFormLayout()
        form.setSpacing(10)
        self.layout_.addLayout(form)
        self.login = line_edit(self.body, "Username or e-mail", placeholder="e.g. manager1",
                               max_length=254)
        self.password = line_edit(self.body, "Password", password=True, max_length=1024)
        for caption, edit in (("Username or e-mail", self.login), ("Password", self.password)):
            label = QLabel(caption, self.body)
            label.setBuddy(edit)
            form.addRow(label, edit)
        self.setTabOrder(self.login, self.password)
        self.setTabOrder(self.password, self.ok_button)
        self.setTabOrder(self.ok_button, self.cancel_button)
        self.login.setFocus()

    def submit(self) -> None:
        login, password = self.login.text().strip(), self.password.text()
        if not login or not password:
            self.banner.show_error("Enter your username (or e-mail) and password.")
            (self.login if not login else self.password).setFocus()
            return
        self.run(self.app.users.authenticate, login, password, on_success=self._signed_in)

    def _signed_in(self, result: tuple[Actor, UserView]) -> None:
        actor, user = result
        if actor.role not in self.allowed_roles:
            self.password.clear()
            self.banner.show_error(ROLE_REFUSAL.get(
                actor.role, f"A {actor.role.value} account cannot sign in here."))
            return
        self.actor, self.user = actor, user
        self.accept()

    def focus_first_problem(self) -> None:
        if self.banner.text:
            self.password.selectAll()
            self.password.setFocus()


class FirstManagerDialog(ServiceDialog):
    """First run: there is no manager yet, so the first screen creates one (no default
    password ships). On success the new manager is signed in."""

    def __init__(self, app: App, parent: QWidget | None = None) -> None:
        super().__init__(
            parent, "Welcome to Parking Desktop",
            subtitle="This database has no manager yet. Create the first manager account; "
                     "you will use it to sign in and to add everyone else.",
            ok_text="Create manager")
        self.setObjectName("firstRunDialog")
        self.app = app
        self.actor: Actor | None = None
        self.user: UserView | None = None
        layout = QFormLayout()
        layout.setSpacing(6)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.layout_.addLayout(layout)
        self.form = Form(self)
        body = self.body
        self.username = self.form.add("username", Field(
            line_edit(body, "Username", placeholder="letters, digits or _", max_length=80),
            validation.username))
        self.full_name = self.form.add("full_name", Field(
            line_edit(body, "Full name", placeholder="optional", max_length=120),
            full_name_rule))
        self.email = self.form.add("email", Field(
            line_edit(body, "E-mail", placeholder="optional", max_length=254),
            validation.email))
        self.password = self.form.add("password", Field(
            line_edit(body, "Password", password=True, max_length=1024), validation.password))
        self.confirm = self.form.add("confirm", Field(
            line_edit(body, "Repeat password", password=True, max_length=1024),
            self._same_password))
        self.password.editor.textChanged.connect(lambda _t: self.confirm.revalidate())
        add_row(layout, "Username", self.username)
        add_row(layout, "Full name", self.full_name)
        add_row(layout, "E-mail", self.email)
        add_row(layout, "Password", self.password,
                hint=f"At least {validation.MIN_PASSWORD_LENGTH} characters.")
        add_row(layout, "Repeat password", self.confirm)
        configured = app.settings.app_timezone
        self.zone = zone_box(body, configured if configured != "UTC" else machine_zone())
        layout.addRow("Time zone", self.zone)
        zone_hint = QLabel("Every time on screen, in reports and in e-mails is shown in the "
                           "site's time zone.", body)
        zone_hint.setObjectName("fieldHint")
        zone_hint.setWordWrap(True)
        layout.addRow("", zone_hint)
        editors: list[QWidget] = [f.editor for f in self.form.fields.values()]
        editors.append(self.zone)
        for first, second in zip([*editors, self.ok_button],
                                 [*editors[1:], self.ok_button, self.cancel_button], strict=True):
            self.setTabOrder(first, second)
        self.form.valid_changed.connect(lambda _v: self.ok_button.setEnabled(self.can_submit()))
        self.ok_button.setEnabled(self.can_submit())
        self.username.editor.setFocus(Qt.FocusReason.OtherFocusReason)

    def _same_password(self, text: str) -> str:
        if text != self.password.editor.text():
            raise ValidationError("The two passwords are different.")
        return text

    def can_submit(self) -> bool:
        return self.form.valid

    def submit(self) -> None:
        if not self.form.valid:
            self.form.reveal_all()
            self.focus_first_problem()
            return
        zone = self.zone.currentText().strip()
        if zone not in available_timezones():
            self.banner.show_error(f"'{zone[:40]}' is not a time zone: pick one from the list, "
                                   "e.g. Europe/Paris.")
            self.zone.setFocus()
            return
        values = {**self.form.values(), "zone": zone}
        self.run(self._create_and_sign_in, values, on_success=self._created)

    def _create_and_sign_in(self, values: dict[str, Any]) -> tuple[Actor, UserView]:
        # Worker thread: create the account, then sign in with it (records the login).
        self.app.users.create(FIRST_RUN, username=values["username"],
                              password=values["password"], role=Role.MANAGER,
                              email=values["email"], full_name=values["full_name"])
        if values["zone"] != self.app.settings.app_timezone:  # only once the account exists
            save_site_zone(self.app, values["zone"])
        return self.app.users.authenticate(values["username"], values["password"])

    def _created(self, result: tuple[Actor, UserView]) -> None:
        self.actor, self.user = result
        self.accept()

    def focus_first_problem(self) -> None:
        field = self.form.first_invalid()
        if field is not None:
            field.editor.setFocus()


def password_editor(parent: QWidget, name: str) -> QLineEdit:
    return line_edit(parent, name, password=True, max_length=1024)
