"""Settings → Mail (manager only): the SMTP server, the password (kept in the OS keyring and
never shown back), a test e-mail with the server's answer, and the Google Chat webhook.

A user name without STARTTLS or SSL gets a warning next to the security field (the program
refuses to send a password in clear); a bad sender or CA file gets its message next to the
field."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from parking_desktop.config import mail_sender_problem
from parking_desktop.services.mail.email import TestMailResult
from parking_desktop.services.mail.settings import MailSettingsView
from parking_desktop.services.privacy.preferences import UnsubscribeResult
from parking_desktop.ui.common import dialogs
from parking_desktop.ui.common.widgets import Card, tool_button
from parking_desktop.ui.desktop.outbox import header_actions
from parking_desktop.ui.desktop.screen import Screen, SignedIn

SECURITY = [("None (local relay)", "none"), ("STARTTLS", "tls"), ("SSL/TLS", "ssl")]
PLAINTEXT_WARNING = (
    "Without STARTTLS or SSL the password would cross the network unencrypted, so the program "
    "will not log in this way. Choose STARTTLS or SSL/TLS (only a mail relay on this computer "
    "can be allowed, by whoever installed the program)."
)
# The settings' names in the service's messages, as the fields are labelled on this screen.
FIELD_WORDS = {"MAIL_DEFAULT_SENDER": "The sender address", "MAIL_CA_FILE": "The CA file",
               "MAIL_SERVER": "The mail server", "MAIL_PORT": "The port",
               "MAIL_USERNAME": "The user name", "MAIL_PASSWORD": "The mail password",
               "GOOGLE_CHAT_WEBHOOK_URL": "The Google Chat address"}


def plain_words(message: str) -> str:
    """A service message with setting names replaced by the words on screen."""
    for name, words in FIELD_WORDS.items():
        if message.startswith(name):
            message = words + message[len(name):]
        message = message.replace(name, words[0].lower() + words[1:])
    return message


def _read_text(name: str) -> str:
    """An imported requests file (on the worker thread); a refusal in words if unreadable."""
    from pathlib import Path

    from parking_desktop.domain.errors import ValidationError

    try:
        return Path(name).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ValidationError(f"{name} cannot be read: {exc.strerror or exc}.") from None


def keyring_words(secure: bool, backend: str) -> str:
    """Where the password is kept, for a manager (the technical details in the tooltip)."""
    if secure:
        return f"The password is kept in this computer's password store ({backend})."
    return ("This computer has no secure password store, so the password cannot be stored "
            "here. Ask whoever installed the program to give it the mail password in its "
            "configuration instead.")
PASSWORD_TEXT = {
    "keyring": "Stored in the keyring",
    "environment": "Given by the program's configuration (not stored here)",
    "none": "Not set",
}


class MailSettingsScreen(Screen):
    TITLE = "Mail settings"
    SUBTITLE = "Outgoing e-mail and manager notifications"
    TOPICS = frozenset({"settings"})

    def __init__(self, session: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.view: MailSettingsView | None = None
        self._saved_values: dict[str, str] | None = None  # what the screen loaded or saved
        self.last_result = ""  # what the last test said (tests read it)

        server_card = Card("Outgoing mail server", self)
        form = QFormLayout()
        form.setSpacing(10)
        self.server = self._line("Mail server", "smtp.example.com")
        self.port = QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setAccessibleName("Port")
        self.port.setMaximumWidth(140)
        self.security = QComboBox(self)
        self.security.setAccessibleName("Security")
        self.security.setMaximumWidth(260)
        for label, key in SECURITY:
            self.security.addItem(label, key)
        self.username = self._line("User name", "leave empty when the server needs no login")
        self.sender_edit = self._line("Sender address", "parking@example.com")
        self.ca_file = self._line("Extra CA file", "optional: a relay with its own CA")
        self.plaintext_warning = self._note("Security warning", "fieldError")
        self.server_error = self._note("Mail server problem", "fieldError")
        self.sender_error = self._note("Sender problem", "fieldError")
        self.ca_error = self._note("CA file problem", "fieldError")
        self.webhook_error = self._note("Google Chat address problem", "fieldError")
        for label, widget, note in (
                ("Server", self.server, self.server_error), ("Port", self.port, None),
                ("Security", self.security, self.plaintext_warning),
                ("User name", self.username, None),
                ("Sender", self.sender_edit, self.sender_error),
                ("CA file", self.ca_file, self.ca_error)):
            form.addRow(label, widget)
            if note is not None:
                form.addRow("", note)
        self.security.currentIndexChanged.connect(self._update_warning)
        self.username.textChanged.connect(self._update_warning)
        self.sender_edit.editingFinished.connect(self._check_sender)
        password_row = QHBoxLayout()
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("SMTP password")
        self.password.setPlaceholderText("type a new password to store it")
        self.password.returnPressed.connect(self.store_password)
        password_row.addWidget(self.password, 1)
        self.store_button = tool_button("Store password", "key", self)
        self.store_button.clicked.connect(self.store_password)
        password_row.addWidget(self.store_button)
        form.addRow("Password", password_row)
        self.password_state = QLabel("—", self)
        self.password_state.setAccessibleName("Password status")
        form.addRow("", self.password_state)
        self.keyring_note = QLabel("", self)
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setObjectName("hint")
        self.keyring_note.setAccessibleName("Keyring status")
        form.addRow("", self.keyring_note)
        server_card.content.addLayout(form)
        self.save_button = tool_button("Save", "check", self, primary=True)
        self.save_button.clicked.connect(self.save)
        header_actions(self).addWidget(self.save_button)
        column = self.scrolling_body()
        column.addWidget(server_card)

        test_card = Card("Try it", self)
        test_row = QHBoxLayout()
        self.test_to = self._line("Test recipient", "address for a test e-mail")
        self.test_to.setText(session.user.email or "")
        self.test_to.returnPressed.connect(self.send_test)
        test_row.addWidget(self.test_to, 1)
        self.test_button = tool_button("Send test e-mail", "check", self)
        self.test_button.clicked.connect(self.send_test)
        test_row.addWidget(self.test_button)
        test_card.content.addLayout(test_row)
        chat_row = QHBoxLayout()
        self.webhook = self._line("Google Chat webhook URL",
                                  "https://chat.googleapis.com/v1/spaces/…")
        self.webhook.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)  # it carries a token
        chat_row.addWidget(self.webhook, 1)
        self.chat_button = tool_button("Send test message", "check", self)
        self.chat_button.clicked.connect(self.send_test_chat)
        chat_row.addWidget(self.chat_button)
        test_card.content.addLayout(chat_row)
        test_card.content.addWidget(self.webhook_error)
        self.result = QLabel("", self)
        self.result.setWordWrap(True)
        self.result.setAccessibleName("Test result")
        test_card.content.addWidget(self.result)
        column.addWidget(test_card)
        column.addWidget(self._unsubscribe_card())
        column.addStretch(1)

    # --- unsubscribe requests -----------------------------------------------------------------
    def _unsubscribe_card(self) -> Card:
        """Drivers write to MAIL_UNSUBSCRIBE_ADDRESS (the program reads no mailbox): the
        manager pastes or imports those requests here."""
        card = Card("Unsubscribe requests", self)
        address = self.app.settings.mail_unsubscribe_address
        if address:
            note = self._note("Unsubscribe address", "hint")
            note.setText(f"Reminders and monthly reports tell drivers to write to {address} "
                         "to stop them. Paste or import those requests here: every driver "
                         "whose address appears gets no more reminders or reports.")
        else:
            note = self._note("Unsubscribe address missing", "fieldError")
            note.setText("MAIL_UNSUBSCRIBE_ADDRESS is not set: reminders and monthly reports "
                         "still go out, but without an address to unsubscribe (mailbox "
                         "providers may reject them). Ask whoever installed the program to "
                         "set it.")
        note.show()
        self.unsubscribe_note = note
        card.content.addWidget(note)
        self.requests = QPlainTextEdit(self)
        self.requests.setAccessibleName("Unsubscribe requests")
        self.requests.setPlaceholderText("Paste the requests (the mails, or one address a line)")
        self.requests.setMaximumHeight(110)
        card.content.addWidget(self.requests)
        row = QHBoxLayout()
        self.import_button = tool_button("Import from file…", "mail", self)
        self.import_button.clicked.connect(self.import_requests)
        self.apply_button = tool_button("Unsubscribe them", "check", self)
        self.apply_button.clicked.connect(self.apply_requests)
        row.addWidget(self.import_button)
        row.addStretch(1)
        row.addWidget(self.apply_button)
        card.content.addLayout(row)
        self.unsubscribe_result = self._note("Unsubscribe result", "hint")
        card.content.addWidget(self.unsubscribe_result)
        return card

    def import_requests(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import unsubscribe requests", "",
                                              "Text and mail files (*.txt *.eml *.csv *.mbox);;"
                                              "All files (*)")
        if name:
            self._apply(lambda: _read_text(name), [self.import_button, self.apply_button])

    def apply_requests(self) -> None:
        text = self.requests.toPlainText()
        if not text.strip():
            self.unsubscribe_result.setText("Paste the requests first.")
            self.unsubscribe_result.show()
            self.requests.setFocus()
            return
        self._apply(lambda: text, [self.apply_button, self.import_button])

    def _apply(self, source: Any, disable: list[QWidget]) -> None:
        prefs, actor = self.app.mail_preferences, self.actor

        def work() -> UnsubscribeResult:
            return prefs.apply_unsubscribe_requests(actor, source())

        def done(result: UnsubscribeResult) -> None:
            self.unsubscribe_result.setText(result.text())
            self.unsubscribe_result.show()
            self.requests.clear()

        def refused(message: str) -> None:
            self.unsubscribe_result.setText(message)
            self.unsubscribe_result.show()

        self.call(work, on_success=done, on_error=refused, disable=disable)

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setAccessibleName(name)
        edit.setPlaceholderText(placeholder)
        return edit

    def _note(self, name: str, kind: str) -> QLabel:
        label = QLabel("", self)
        label.setObjectName(kind)
        label.setWordWrap(True)
        label.setAccessibleName(name)
        label.hide()
        return label

    def _update_warning(self) -> None:
        plaintext = (self.security.currentData() == "none"
                     and bool(self.username.text().strip()))
        self.plaintext_warning.setText(PLAINTEXT_WARNING if plaintext else "")
        self.plaintext_warning.setVisible(plaintext)

    def _check_sender(self) -> None:
        problem = mail_sender_problem(self.sender_edit.text().strip())
        self.show_field_problems({**self._problems(), "MAIL_DEFAULT_SENDER": problem or ""})

    def _problems(self) -> dict[str, str]:
        return {name: label.text() for name, (label, _edit) in self._notes().items()}

    def _notes(self) -> dict[str, tuple[QLabel, QWidget]]:
        return {"MAIL_SERVER": (self.server_error, self.server),
                "MAIL_DEFAULT_SENDER": (self.sender_error, self.sender_edit),
                "MAIL_CA_FILE": (self.ca_error, self.ca_file),
                "GOOGLE_CHAT_WEBHOOK_URL": (self.webhook_error, self.webhook)}

    def local_problems(self, values: dict[str, str]) -> dict[str, str]:
        """What can be told without the disk or the network (the GUI thread checks these)."""
        problems: dict[str, str] = {}
        server = values["MAIL_SERVER"].strip()
        if any(c.isspace() for c in server) or "/" in server or "@" in server:
            problems["MAIL_SERVER"] = ("The mail server is a host name such as "
                                       "smtp.example.com (no spaces, no https://, no @).")
        url = values["GOOGLE_CHAT_WEBHOOK_URL"].strip()
        if url and not url.startswith("https://"):
            problems["GOOGLE_CHAT_WEBHOOK_URL"] = (
                "The Google Chat address must start with https:// (copy it from the space's "
                "Apps & integrations → Webhooks).")
        return problems

    def show_field_problems(self, problems: dict[str, str]) -> None:
        """Each message next to its field, the field marked; an empty message clears both."""
        for name, (label, editor) in self._notes().items():
            text = plain_words(problems.get(name, ""))
            label.setText(text)
            label.setVisible(bool(text))
            editor.setProperty("invalid", bool(text))
            editor.setAccessibleDescription(text)
            editor.style().unpolish(editor)
            editor.style().polish(editor)

    # --- unsaved changes --------------------------------------------------------------------
    def has_unsaved_changes(self) -> bool:
        return self._saved_values is not None and self.values() != self._saved_values

    def can_leave(self) -> bool:
        if not self.has_unsaved_changes():
            return True
        leave = dialogs.confirm(
            self, "Unsaved mail settings",
            "Your changes to the mail settings are not saved. Leave without saving them?",
            "Leave without saving", destructive=True)
        if leave:
            self._show(self.view) if self.view is not None else None  # back to what is saved
        return leave

    # --- loading ----------------------------------------------------------------------------
    def refresh(self) -> None:
        super().refresh()
        self.call(self.app.email.mail_settings, self.actor, on_success=self._show)

    def _show(self, view: MailSettingsView) -> None:
        self.view = view
        self.show_field_problems({})
        values = view.values
        self.server.setText(values["MAIL_SERVER"])
        self.port.setValue(int(values["MAIL_PORT"]))
        key = "ssl" if values["MAIL_USE_SSL"] == "true" else (
            "tls" if values["MAIL_USE_TLS"] == "true" else "none")
        self.security.setCurrentIndex(self.security.findData(key))
        self.username.setText(values["MAIL_USERNAME"])
        self.sender_edit.setText(values["MAIL_DEFAULT_SENDER"])
        self.ca_file.setText(values["MAIL_CA_FILE"])
        self._update_warning()
        self.webhook.setText(values["GOOGLE_CHAT_WEBHOOK_URL"])
        self.password.clear()
        self.password_state.setText(PASSWORD_TEXT.get(view.password, view.password))
        secure = view.keyring.secure
        self.password.setEnabled(secure)
        self.store_button.setEnabled(secure)
        self.keyring_note.setText(keyring_words(secure, view.keyring.backend))
        self.keyring_note.setToolTip(view.keyring.message)  # the details, for whoever installs
        if view.notes:
            self.banner.show_info(plain_words(" ".join(view.notes)))
        self._saved_values = self.values()
        self.loaded()

    # --- actions ----------------------------------------------------------------------------
    def values(self) -> dict[str, str]:
        security = self.security.currentData()
        return {
            "MAIL_SERVER": self.server.text(), "MAIL_PORT": str(self.port.value()),
            "MAIL_USE_TLS": "true" if security == "tls" else "false",
            "MAIL_USE_SSL": "true" if security == "ssl" else "false",
            "MAIL_USERNAME": self.username.text(), "MAIL_DEFAULT_SENDER": self.sender_edit.text(),
            "MAIL_CA_FILE": self.ca_file.text(),
            "GOOGLE_CHAT_WEBHOOK_URL": self.webhook.text(),
        }

    def save(self) -> None:
        self.banner.clear()
        email, actor, values = self.app.email, self.actor, self.values()
        local = self.local_problems(values)

        def saved(result: MailSettingsView | dict[str, str]) -> None:
            if isinstance(result, dict):
                self.show_field_problems(result)
                count = len(result)
                self.show_error(f"Not saved: {count} field{'s' if count != 1 else ''} "
                                "need attention (marked below).")
                first = self._notes()[next(iter(result))][1] if result else None
                if first is not None:
                    first.setFocus()
                return
            self.show_field_problems({})
            self._show(result)
            self.show_success("Mail settings saved.")

        # The CA file check reads the disk: off the GUI thread, like the save. Every problem
        # is collected before answering, so all are shown at once.
        self.call(email.save_mail_settings_checked, actor, values, local, on_success=saved)

    def store_password(self) -> None:
        secret = self.password.text()
        if not secret:
            self.show_error("Type the password first.")
            return
        self.password.clear()  # the widget never keeps it
        email, actor, values = self.app.email, self.actor, self.values()

        def stored(view: MailSettingsView) -> None:
            self._show(view)
            self.show_success("The password is stored in the keyring.")

        self.call(email.save_and_store_password, actor, values, secret, on_success=stored)

    def send_test(self) -> None:
        to = self.test_to.text().strip()
        if not to:
            self.show_error("Type the address to send the test e-mail to.")
            return
        self.banner.clear()
        self._set_result("Sending…", ok=None)
        email, actor, values = self.app.email, self.actor, self.values()

        local = self.local_problems(values)

        def done(result: TestMailResult | dict[str, str]) -> None:
            if isinstance(result, dict):
                self.show_field_problems(result)
                self._set_result("Not sent: fix the fields marked above.", ok=False)
                return
            self.show_field_problems({})
            self._saved_values = values  # the test saved what is on screen
            self._set_result(result.message, ok=result.ok)

        self.call(email.save_and_send_test, actor, values, to, local, on_success=done,
                  on_error=lambda message: self._set_result(message, ok=False))

    def send_test_chat(self) -> None:
        self.banner.clear()
        self._set_result("Sending…", ok=None)
        email, actor, url = self.app.email, self.actor, self.webhook.text()

        def done(result: Any) -> None:
            if self._saved_values is not None:
                self._saved_values = {**self._saved_values, "GOOGLE_CHAT_WEBHOOK_URL": url}
            text = "Google Chat took the test message." if result.ok else result.message
            self._set_result(text, ok=bool(result.ok))

        self.call(email.save_and_send_test_chat, actor, url, on_success=done,
                  on_error=lambda message: self._set_result(message, ok=False))

    def _set_result(self, text: str, *, ok: bool | None) -> None:
        self.last_result = text
        self.result.setText(text)
        self.result.setProperty("kind", "" if ok is None else ("success" if ok else "error"))
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)
