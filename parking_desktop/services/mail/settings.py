"""The mail settings: those in force (changed without a restart), and the Settings → Mail
screen's reads and writes. Values are checked and saved through the settings registry
(``config.REGISTRY``); the SMTP password goes to the keyring, never to a file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from parking_desktop.adapters.mail.transport import SmtpConfig
from parking_desktop.adapters.secrets import KeyringStatus, SecretStore, SecretStoreError
from parking_desktop.config import (
    ConfigError,
    Settings,
    clean_values,
    names_for,
    parse_setting,
    refreshed,
    save_settings,
    settings_as_env,
)
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.roles import Actor
from parking_desktop.services.context import ServiceContext
from parking_desktop.services.guards import require_manager
from parking_desktop.services.parking.activity import record

# The settings the Mail screen edits, under their environment names.
MAIL_FIELDS = names_for("mail")
# The fields whose problem the screen shows next to the field (checked before a save).
NOTED_FIELDS = ("MAIL_DEFAULT_SENDER", "MAIL_CA_FILE")
SECRET_URL = "GOOGLE_CHAT_WEBHOOK_URL"  # carries its token: the audit says only "changed"


class MailSettingsBox:
    """The mail settings in force. The Mail screen changes them without a restart; the
    transport factory and sender read them at send time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def smtp_config(self) -> SmtpConfig:
        return SmtpConfig.from_settings(self.settings)

    @property
    def sender(self) -> str:
        return self.settings.mail_default_sender


@dataclass(frozen=True)
class MailSettingsView:
    values: dict[str, str]  # MAIL_* and GOOGLE_CHAT_WEBHOOK_URL as shown/edited
    from_environment: tuple[str, ...]  # names whose environment value wins over the file
    password: str  # 'keyring', 'environment' or 'none' — never the password itself
    keyring: KeyringStatus
    settings_file: str
    notes: tuple[str, ...] = field(default=())


class MailSettings:
    """Settings → Mail: manager only; every change is recorded in the activity log."""

    def __init__(self, ctx: ServiceContext, box: MailSettingsBox, secrets: SecretStore,
                 environ: Mapping[str, str] | None = None) -> None:
        self.ctx = ctx
        self.box = box
        self.secrets = secrets
        self._environ = environ

    def view(self, actor: Actor) -> MailSettingsView:
        require_manager(actor, "see the mail settings")
        return self._view()

    def save(self, actor: Actor, values: Mapping[str, str]) -> MailSettingsView:
        """Validate and save the server fields to the settings file (never a password)."""
        require_manager(actor, "change the mail settings")
        unknown = set(values) - set(MAIL_FIELDS)
        if unknown:
            raise ValidationError(f"Unknown mail setting: {', '.join(sorted(unknown))}.")
        try:
            clean = clean_values(values)
        except ConfigError as exc:
            raise ValidationError(str(exc)) from None
        settings = self.box.settings
        before = self._current_values()
        if {**before, **clean}["MAIL_USE_TLS"] == "true" == {**before, **clean}["MAIL_USE_SSL"]:
            raise ValidationError("Choose STARTTLS or SSL, not both.")
        save_settings(settings.settings_file, clean)
        # The environment still wins over the file.
        self.box.settings = refreshed(settings, clean, self._env())
        changed = {k: {"before": before[k], "after": v} for k, v in clean.items()
                   if before.get(k) != v and k != SECRET_URL}
        hook = clean.get(SECRET_URL)
        if hook is not None and hook != before[SECRET_URL]:
            changed[SECRET_URL] = {"before": "(hidden)", "after": "(changed)"}
        if changed:
            with self.ctx.write("activity", "settings") as session:
                record(session, actor.user_id, "settings_changed",
                       {"section": "mail", "changes": changed}, self.ctx.clock.now())
        return self._view()

    def set_smtp_password(self, actor: Actor, password: str) -> MailSettingsView:
        """Store the SMTP password in the keyring; the screen only ever shows "stored"."""
        require_manager(actor, "change the mail password")
        try:
            self.secrets.set_smtp_password(self.box.settings.mail_username, password)
        except SecretStoreError as exc:
            raise ValidationError(str(exc)) from None
        with self.ctx.write("activity") as session:
            record(session, actor.user_id, "settings_changed",
                   {"section": "mail", "changes": {"MAIL_PASSWORD": "stored in the keyring"}},
                   self.ctx.clock.now())
        return self._view()

    def field_problems(self, values: Mapping[str, str]) -> dict[str, str]:
        """What is wrong with each noted field (empty: nothing), for showing next to the
        fields; reads the file system, so call it off the GUI thread."""
        problems = {}
        for name in NOTED_FIELDS:
            if name in values:
                try:
                    parse_setting(name, str(values[name]))
                except ConfigError as exc:
                    problems[name] = str(exc)
        return problems

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def _current_values(self) -> dict[str, str]:
        return settings_as_env(self.box.settings, MAIL_FIELDS)

    def _view(self) -> MailSettingsView:
        env = self._env()
        username = self.box.settings.mail_username
        status = self.secrets.status()
        notes = []
        from_env = tuple(name for name in MAIL_FIELDS if env.get(name))
        if from_env:
            notes.append("Set in the environment, which wins over this screen: "
                         + ", ".join(from_env) + ".")
        if not status.secure:
            notes.append(status.message)
        return MailSettingsView(
            values=self._current_values(), from_environment=from_env,
            password=self.secrets.password_source(username) if username else "none",
            keyring=status, settings_file=str(self.box.settings.settings_file),
            notes=tuple(notes),
        )
