"""Create and edit accounts, reset a password (validated as you type)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from parking_desktop.domain import validation
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.roles import Role
from parking_desktop.services.views import UserView
from parking_desktop.ui.common import formatting as fmt
from parking_desktop.ui.common.dialogs import FormDialog
from parking_desktop.ui.common.forms import Field, add_row, full_name_rule, line_edit
from parking_desktop.ui.desktop.screen import SignedIn


class PersonDialog(FormDialog):
    """New account (``user`` is None) or edit name, e-mail and role."""

    def __init__(self, session: SignedIn, user: UserView | None = None,
                 parent: QWidget | None = None) -> None:
        creating = user is None
        super().__init__(
            parent, "New person" if creating else f"Edit {user.username}",  # type: ignore[union-attr]
            "Drivers sign in at the kiosk; managers and attendants use this desktop."
            if creating else "The username cannot be changed.",
            "Create account" if creating else "Save changes")
        self.setObjectName("personDialog")
        self.session = session
        self.user = user
        body = self.body
        if creating:
            self.username = self.form.add("username", Field(
                line_edit(body, "Username", placeholder="letters, digits or _", max_length=80),
                validation.username))
            add_row(self.rows, "Username", self.username)
        self.full_name = self.form.add("full_name", Field(
            line_edit(body, "Full name", max_length=120,
                      text=user.full_name if user else ""), full_name_rule))
        self.email = self.form.add("email", Field(
            line_edit(body, "E-mail", placeholder="needed for reminders and reports",
                      max_length=254, text=(user.email or "") if user else ""),
            validation.email))
        add_row(self.rows, "Full name", self.full_name)
        add_row(self.rows, "E-mail", self.email)
        self.role = QComboBox(body)
        self.role.setAccessibleName("Role")
        for role in (Role.DRIVER, Role.ATTENDANT, Role.MANAGER):
            self.role.addItem(fmt.role(role.value), role.value)
        self.role.setCurrentIndex(self.role.findData(user.role.value if user else "driver"))
        caption = QLabel("Role", body)
        caption.setBuddy(self.role)
        self.rows.addRow(caption, self.role)
        if creating:
            self.password = self.form.add("password", Field(
                line_edit(body, "Password", password=True, max_length=1024),
                validation.password))
            self.confirm = self.form.add("confirm", Field(
                line_edit(body, "Repeat password", password=True, max_length=1024),
                self._same_password))
            self.password.editor.textChanged.connect(lambda _t: self.confirm.revalidate())
            add_row(self.rows, "Password", self.password,
                    hint=f"At least {validation.MIN_PASSWORD_LENGTH} characters; they can "
                         "change it later.")
            add_row(self.rows, "Repeat password", self.confirm)
        self.finish_layout()
        if not creating:
            self.setTabOrder(self.email.editor, self.role)
            self.setTabOrder(self.role, self.ok_button)
        else:
            self.setTabOrder(self.email.editor, self.role)
            self.setTabOrder(self.role, self.password.editor)

    def _same_password(self, text: str) -> str:
        if text != self.password.editor.text():
            raise ValidationError("The two passwords are different.")
        return text

    def save(self) -> None:
        values = self.form.values()
        users, actor = self.session.app.users, self.session.actor
        role = self.role.currentData()
        if self.user is None:
            self.run(users.create, actor, username=values["username"],
                     password=values["password"], role=role, email=values["email"],
                     full_name=values["full_name"])
        else:
            self.run(users.update, actor, self.user.id, email=values["email"] or "",
                     full_name=values["full_name"], role=role)


class ResetPasswordDialog(FormDialog):
    def __init__(self, session: SignedIn, user: UserView, parent: QWidget | None = None) -> None:
        super().__init__(parent, f"Reset password for {user.username}",
                         "Give them the new password in person; a locked account is "
                         "unlocked too.", "Reset password")
        self.setObjectName("resetPasswordDialog")
        self.session = session
        self.user = user
        self.password = self.form.add("password", Field(
            line_edit(self.body, "New password", password=True, max_length=1024),
            validation.password))
        self.confirm = self.form.add("confirm", Field(
            line_edit(self.body, "Repeat new password", password=True, max_length=1024),
            self._same_password))
        self.password.editor.textChanged.connect(lambda _t: self.confirm.revalidate())
        add_row(self.rows, "New password", self.password,
                hint=f"At least {validation.MIN_PASSWORD_LENGTH} characters.")
        add_row(self.rows, "Repeat password", self.confirm)
        self.finish_layout()

    def _same_password(self, text: str) -> str:
        if text != self.password.editor.text():
            raise ValidationError("The two passwords are different.")
        return text

    def save(self) -> None:
        self.run(self.session.app.users.reset_password, self.session.actor, self.user.id,
                 self.password.value)
