"""Settings: environment variables > .env in the working directory > settings file > defaults.

``REGISTRY`` is the one table of settings: environment name, Settings field, parser (with its
bounds), default, whether a Settings screen may save it, and what it is for. Loading, the
Settings screens' saves and the job-time reload all go through it; env_example.txt lists exactly
its names (a test compares them). The names are those of the Flask back end this program
replaces, so its .env files keep working. The SMTP password is deliberately absent: it lives in
the OS keyring (adapters/secrets)."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parking_desktop.files import UnsafePathError, atomic_write, ensure_private_dir

APP_NAME = "ParkingDesktop"
SETTINGS_FILE_NAME = "settings.json"

Parser = Callable[[str, str], Any]


class ConfigError(Exception):
    """A setting has a value we cannot use; the message names the setting."""


def make_private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents readable only by the current user (0700). A
    folder that already exists keeps its mode: it may be shared on purpose."""
    try:
        return ensure_private_dir(path)
    except UnsafePathError as exc:
        raise ConfigError(str(exc)) from None


@dataclass(frozen=True)
class Settings:
    """The settings in force. Every field but ``settings_file`` is a row of ``REGISTRY``
    (its environment name, parser, default and description are there)."""

    data_dir: Path
    database_url: str
    cache_dir: Path
    upload_folder: Path
    mail_server: str
    mail_port: int
    mail_use_tls: bool
    mail_use_ssl: bool
    mail_username: str
    mail_default_sender: str
    mail_ca_file: str
    mail_allow_plaintext_login: bool
    daily_reminder_time: time
    monthly_report_time: time
    monthly_report_day: int
    cleanup_time: time
    csv_export_expiry_hours: int
    google_chat_webhook_url: str
    app_timezone: str
    scheduler_enabled: bool
    kiosk_idle_seconds: int
    kiosk_on_screen_keyboard: bool
    kiosk_lot: str
    full_alert_percent: int
    reservation_hold_minutes: int
    overstay_hours: int
    job_stale_after_seconds: int
    twilio_account_sid: str
    twilio_auth_token: str = field(repr=False)  # a secret: never logged
    twilio_from_number: str
    currency: str
    vat_rate: Decimal
    locale: str
    shift_max_hours: int
    attendant_waiver_limit: Decimal
    exceptions_digest_time: time
    settings_file: Path
    # Retention (days; 0 = keep for ever, the behaviour before these settings existed).
    retain_plates_days: int = 0
    retain_activity_days: int = 0
    retain_mail_bodies_days: int = 0
    retain_export_records_days: int = 0
    # The mailto: address of unsubscribe requests ("" = none: the Mail screen warns).
    mail_unsubscribe_address: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.app_timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def ensure_folders(self) -> None:
        for folder in (self.data_dir, self.upload_folder):
            make_private_dir(folder)
        # The cache is optional: when its folder is unusable the program runs uncached and
        # the cache itself reports why (services/caching.py), so this must not stop a start.
        with contextlib.suppress(OSError, ConfigError):
            make_private_dir(self.cache_dir)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


# --- parsers: (environment name, raw text) -> value, or a ConfigError naming the variable ---
def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not '{shown_value(raw)}'.")


def _whole_number(low: int, high: int) -> Parser:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not '{shown_value(raw)}'.") \
                from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, not {value}.")
        return value

    return parse


def _parse_time(name: str, raw: str) -> time:
    try:
        hours, minutes = str(raw).strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"{name} must be a time like 18:00, not '{shown_value(raw)}'.") \
            from None


def _parse_text(name: str, raw: str) -> str:
    return raw.strip()


def _checked(problem: Callable[[str], str | None]) -> Parser:
    """A text setting whose value ``problem`` judges (None: usable)."""
    def parse(name: str, raw: str) -> str:
        value = raw.strip()
        if message := problem(value):
            raise ConfigError(message)
        return value

    return parse


def _parse_timezone(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} '{shown_value(raw)}' is not a known time zone "
                          "(e.g. Europe/Paris).") from None
    return raw.strip()


def _parse_path(name: str, raw: str) -> Path:
    return Path(raw.strip()).expanduser()


def _parse_database_url(name: str, raw: str) -> str:
    url = raw.strip()
    if "://" not in url and re.match(r"^[a-z_]+\s*=", url):
        return url  # libpq's "host=a,b port=… dbname=…": checked when the engine is made
    if url.split(":", 1)[0].split("+", 1)[0] not in {"sqlite", "postgres", "postgresql"}:
        # The URL itself is not repeated: it may hold a password.
        raise ConfigError(
            f"{name} (or --db) must be sqlite:///FILE, postgresql://USER@HOST/DATABASE or "
            "libpq's host=… dbname=… form."
        )
    return url


def shown_value(raw: str, limit: int = 80) -> str:
    """A value as an error message may repeat it: control characters escaped, bounded."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in raw)
    return text if len(text) <= limit else text[:limit] + "…"


def mail_server_problem(raw: str) -> str | None:
    """Why ``raw`` cannot be the SMTP server's name (None: it can)."""
    if not raw or any(c.isspace() or not c.isprintable() for c in raw) or len(raw) > 253:
        return (f"MAIL_SERVER must be a host name like smtp.example.com, "
                f"not '{shown_value(raw)}'.")
    return None


def mail_username_problem(raw: str) -> str | None:
    if any(c in raw for c in "\r\n"):
        return "MAIL_USERNAME (the SMTP user name) cannot contain line breaks."
    return None


def mail_sender_problem(raw: str) -> str | None:
    """Why ``raw`` cannot be the From address (None: it can)."""
    local, at, domain = raw.rpartition("@")
    if (not at or not local or not domain.strip(".") or len(raw) > 254
            or any(c.isspace() or not c.isprintable() or c in "<>,;\"" for c in raw)):
        return (f"MAIL_DEFAULT_SENDER must be an e-mail address like parking@example.com, "
                f"not '{shown_value(raw)}'.")
    return None


def unsubscribe_address_problem(raw: str) -> str | None:
    """Why ``raw`` cannot be the unsubscribe address (None: it can, or it is empty)."""
    if raw and mail_sender_problem(raw) is not None:
        return (f"MAIL_UNSUBSCRIBE_ADDRESS must be an e-mail address like "
                f"unsubscribe@example.com, not '{shown_value(raw)}'.")
    return None


def mail_ca_file_problem(raw: str) -> str | None:
    """Why MAIL_CA_FILE cannot be used (None: it is empty or an existing file)."""
    if raw and not Path(raw).expanduser().is_file():
        return f"MAIL_CA_FILE {shown_value(raw, 400)} does not exist or is not a file."
    return None


def kiosk_lot_problem(raw: str) -> str | None:
    if len(raw) > 120 or not raw.isprintable():
        return f"KIOSK_LOT must be a lot's name of up to 120 characters, not '{shown_value(raw)}'."
    return None


def webhook_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the Google Chat webhook (None: it can, or it is empty). https
    only, except to this machine (tests, local relays): the URL carries its own token."""
    if not url.strip():
        return None
    parts = urlsplit(url.strip())
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in {"localhost", "127.0.0.1", "::1"}:
        return None
    return "GOOGLE_CHAT_WEBHOOK_URL must start with https:// (as Google Chat gives it)."


def _parse_currency(name: str, raw: str) -> str:
    """An ISO 4217 code Babel knows (its list is the maintained one, not ours)."""
    from babel.numbers import list_currencies  # loaded only when the setting is read

    code = raw.strip().upper()
    if code not in list_currencies():
        raise ConfigError(f"{name} must be an ISO 4217 currency code like EUR, GBP or INR, "
                          f"not '{shown_value(raw)}'.")
    return code


def _parse_locale(name: str, raw: str) -> str:
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(raw.strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ConfigError(f"{name} must be a locale like en_US, fr_FR or hi_IN, "
                          f"not '{shown_value(raw)}'.") from None


def _decimal(low: Decimal, high: Decimal) -> Parser:
    def parse(name: str, raw: str) -> Decimal:
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise ConfigError(f"{name} must be a number like 10 or 7.5, "
                              f"not '{shown_value(raw)}'.") from None
        if not value.is_finite() or not low <= value <= high:
            raise ConfigError(f"{name} must be between {low} and {high}, not {value}.")
        return value

    return parse


# --- the registry ------------------------------------------------------------------------
@dataclass(frozen=True)
class Setting:
    """One setting: read from the environment, .env, then the settings file."""

    name: str  # environment name (those of the Flask back end this program replaces)
    attr: str  # Settings field
    parse: Parser  # raw text -> value, or ConfigError naming the variable
    default: Any  # None: worked out from the data folder at start
    description: str
    saved: bool = True  # a Settings screen may write it to the settings file
    in_file: bool = True  # read from the settings file (never a secret, never the file's own place)
    screen: str = ""  # the Settings screen that edits it ("mail", "jobs")

    def text(self, value: Any) -> str:
        """``value`` as the environment and the settings file write it."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, time):
            return value.strftime("%H:%M")
        return str(value)


_DAY = 24 * 3600
REGISTRY: tuple[Setting, ...] = (
    Setting("PARKING_DATA_DIR", "data_dir", _parse_path, None,
            "Data folder: database, cache, exports (default: the platform's user data folder).",
            saved=False, in_file=False),
    Setting("DATABASE_URL", "database_url", _parse_database_url, None,
            "sqlite:///FILE (default: parking.db in the data folder) or postgresql://... "
            "(several servers: ?host=a:5432,b:5432&target_session_attrs=read-write).",
            saved=False),
    Setting("CACHE_DIR", "cache_dir", _parse_path, None,
            "Disk cache folder (default: cache/ in the data folder).", saved=False),
    Setting("UPLOAD_FOLDER", "upload_folder", _parse_path, None,
            "Export files folder (default: exports/ in the data folder).", saved=False),
    Setting("MAIL_SERVER", "mail_server", _checked(mail_server_problem), "localhost",
            "SMTP server host name.", screen="mail"),
    Setting("MAIL_PORT", "mail_port", _whole_number(1, 65535), 25,
            "SMTP server port, 1-65535.", screen="mail"),
    Setting("MAIL_USE_TLS", "mail_use_tls", _parse_bool, False,
            "STARTTLS (usually port 587); not together with MAIL_USE_SSL.", screen="mail"),
    Setting("MAIL_USE_SSL", "mail_use_ssl", _parse_bool, False,
            "SSL from the start (usually port 465); not together with MAIL_USE_TLS.",
            screen="mail"),
    Setting("MAIL_USERNAME", "mail_username", _checked(mail_username_problem), "",
            "SMTP login (the password is in the OS keyring); empty: no login.", screen="mail"),
    Setting("MAIL_ALLOW_PLAINTEXT_LOGIN", "mail_allow_plaintext_login", _parse_bool, False,
            "Allow the login without TLS, only ever to a server on the loopback interface."),
    Setting("MAIL_DEFAULT_SENDER", "mail_default_sender", _checked(mail_sender_problem),
            "parking@localhost", "The From address.", screen="mail"),
    Setting("MAIL_CA_FILE", "mail_ca_file", _checked(mail_ca_file_problem), "",
            "CA bundle (PEM) of a relay with its own certificate authority; must exist.",
            screen="mail"),
    Setting("DAILY_REMINDER_TIME", "daily_reminder_time", _parse_time, time(18, 0),
            "Daily reminder mails, HH:MM site time.", screen="jobs"),
    Setting("MONTHLY_REPORT_TIME", "monthly_report_time", _parse_time, time(9, 0),
            "Monthly report mails, HH:MM site time.", screen="jobs"),
    Setting("MONTHLY_REPORT_DAY", "monthly_report_day", _whole_number(1, 28), 1,
            "Day of the month for the monthly reports, 1-28.", screen="jobs"),
    Setting("CLEANUP_TIME", "cleanup_time", _parse_time, time(2, 0),
            "Daily clean-up of expired exports and old history, HH:MM site time.", screen="jobs"),
    Setting("SCHEDULER_ENABLED", "scheduler_enabled", _parse_bool, True,
            "Run the scheduled jobs in this process (false on a kiosk beside a worker)."),
    Setting("JOB_STALE_AFTER_SECONDS", "job_stale_after_seconds", _whole_number(2, _DAY), 60,
            "A running job silent this long (seconds) belongs to a dead process: taken over."),
    Setting("CSV_EXPORT_EXPIRY_HOURS", "csv_export_expiry_hours", _whole_number(1, 365 * 24),
            24, "Exports expire this many hours after completion."),
    Setting("GOOGLE_CHAT_WEBHOOK_URL", "google_chat_webhook_url",
            _checked(webhook_url_problem), "",
            "Google Chat space for manager notices (https); empty: none.", screen="mail"),
    Setting("APP_TIMEZONE", "app_timezone", _parse_timezone, "UTC",
            "The site's time zone (times are stored in UTC)."),
    Setting("KIOSK_IDLE_SECONDS", "kiosk_idle_seconds", _whole_number(10, _DAY), 60,
            "Kiosk: seconds without input before it signs out and returns home."),
    Setting("KIOSK_ON_SCREEN_KEYBOARD", "kiosk_on_screen_keyboard", _parse_bool, True,
            "Kiosk: an on-screen keyboard under text fields (false where it has a real one)."),
    Setting("KIOSK_LOT", "kiosk_lot", _checked(kiosk_lot_problem), "",
            "Kiosk: the lot it stands at, as the desktop's Kiosks screen names it (a label)."),
    Setting("FULL_ALERT_PERCENT", "full_alert_percent", _whole_number(0, 100), 90,
            "A lot filling past this percentage tells the managers, once per crossing "
            "(0: never)."),
    Setting("RESERVATION_HOLD_MINUTES", "reservation_hold_minutes",
            _whole_number(1, _DAY // 60), 30,
            "A booking whose car has not parked this many minutes after it was made is "
            "cancelled (the spot freed, the driver e-mailed)."),
    Setting("OVERSTAY_HOURS", "overstay_hours", _whole_number(1, 24 * 365), 24,
            "Cars parked longer than this many hours are flagged on the desktop."),
    Setting("RETAIN_PLATES_DAYS", "retain_plates_days", _whole_number(0, 100 * 365), 0,
            "Vehicle numbers of closed stays are masked this many days after the stay "
            "(0: kept for ever)."),
    Setting("RETAIN_ACTIVITY_DAYS", "retain_activity_days", _whole_number(0, 100 * 365), 0,
            "Activity log entries are deleted this many days after they happened (0: kept)."),
    Setting("RETAIN_MAIL_BODIES_DAYS", "retain_mail_bodies_days",
            _whole_number(0, 100 * 365), 0,
            "Sent and given-up mails are deleted from the outbox after this many days (0: kept)."),
    Setting("RETAIN_EXPORT_RECORDS_DAYS", "retain_export_records_days",
            _whole_number(0, 100 * 365), 0,
            "Finished export records are deleted this many days after they ended (0: kept)."),
    Setting("MAIL_UNSUBSCRIBE_ADDRESS", "mail_unsubscribe_address",
            _checked(unsubscribe_address_problem), "",
            "Where drivers send unsubscribe requests (mailto: in reminders and reports)."),
    Setting("TWILIO_ACCOUNT_SID", "twilio_account_sid", _parse_text, "",
            "SMS: Twilio account; SMS stays off until all three TWILIO_* are set.",
            saved=False, in_file=False),
    Setting("TWILIO_AUTH_TOKEN", "twilio_auth_token", _parse_text, "",
            "SMS: Twilio auth token (a secret: environment only).", saved=False, in_file=False),
    Setting("TWILIO_FROM_NUMBER", "twilio_from_number", _parse_text, "",
            "SMS: the sending number, +E.164.", saved=False, in_file=False),
    Setting("CURRENCY", "currency", _parse_currency, "EUR",
            "The site's currency, ISO 4217 (EUR, GBP, INR ...); every amount carries it."),
    Setting("VAT_RATE", "vat_rate", _decimal(Decimal(0), Decimal(100)), Decimal(0),
            "VAT included in the fees, percent (0: none; receipts then show no VAT lines)."),
    Setting("LOCALE", "locale", _parse_locale, "en_US",
            "How amounts and dates are written (en_US, fr_FR, hi_IN ...)."),
    Setting("SHIFT_MAX_HOURS", "shift_max_hours", _whole_number(1, 72), 12,
            "A shift open longer than this many hours is flagged for the managers."),
    Setting("ATTENDANT_WAIVER_LIMIT", "attendant_waiver_limit",
            _decimal(Decimal(0), Decimal(1_000_000)), Decimal(10),
            "An attendant may waive or discount up to this amount; above it a manager signs in."),
    Setting("EXCEPTIONS_DIGEST_TIME", "exceptions_digest_time", _parse_time, time(7, 0),
            "Daily digest of the day before's exceptions to managers, HH:MM site time.",
            screen="jobs"),
)
SETTINGS = {setting.name: setting for setting in REGISTRY}


def names_for(screen: str) -> tuple[str, ...]:
    """The settings a Settings screen edits, in the registry's order."""
    return tuple(s.name for s in REGISTRY if s.screen == screen)


def parse_setting(name: str, raw: str) -> Any:
    """The value of setting ``name`` for ``raw``; ConfigError for an unknown name or a bad
    value."""
    setting = SETTINGS.get(name)
    if setting is None:
        raise ConfigError(f"Unknown setting: {shown_value(name)}.")
    return setting.parse(name, str(raw))


def clean_values(changes: Mapping[str, str]) -> dict[str, str]:
    """``changes`` validated through the registry, in their canonical text ("7:05" becomes
    "07:05"); only settings that may be saved. ConfigError names the first bad one."""
    clean = {}
    for name, raw in changes.items():
        value = parse_setting(name, raw)
        if not SETTINGS[name].saved:
            raise ConfigError(f"{name} cannot be saved in the settings file: set it in the "
                              "environment.")
        clean[name] = SETTINGS[name].text(value)
    return clean


# platformdirs and dotenv are loaded when used: `--help` needs neither, `--data-dir` no
# platformdirs, a folder without .env no dotenv (together a tenth of a start's imports).
def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def read_settings_file(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    if not path.is_file():  # a FIFO would block the start for ever
        raise ConfigError(f"The settings file {path} is not a regular file.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"The settings file {path} is not UTF-8 text; fix or delete it.") \
            from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"The settings file {path} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"The settings file {path} must hold a JSON object.")
    return {str(k): str(v) for k, v in data.items() if v is not None}


def _read_dotenv(path: Path) -> dict[str, str]:
    from dotenv import dotenv_values

    try:
        return {k: v for k, v in dotenv_values(path).items() if v is not None}
    except UnicodeDecodeError:
        raise ConfigError(f"The .env file {path} is not UTF-8 text; fix or delete it.") from None
    except OSError as exc:
        raise ConfigError(f"The .env file {path} cannot be read: {exc.strerror or exc}.") \
            from None


def write_settings_file(path: Path, values: dict[str, str]) -> None:
    """Save settings (never secrets) privately: written to a temp file of its own in the same
    folder, then renamed over a regular file only (never through a link or onto a device)."""
    make_private_dir(path.parent)
    text = json.dumps(values, indent=2, sort_keys=True).encode("utf-8")
    try:
        with atomic_write(path) as handle:
            handle.write(text)
    except UnsafePathError as exc:
        raise ConfigError(f"The settings file cannot be written: {exc}") from None


def save_settings(path: Path, changes: Mapping[str, str]) -> dict[str, str]:
    """Validate ``changes`` through the registry, merge them with what the settings file holds
    and write it (atomically, privately). Returns what was saved, in canonical text."""
    clean = clean_values(changes)
    stored = read_settings_file(path)
    stored.update(clean)
    write_settings_file(path, stored)
    return clean


def load_settings(
    *,
    data_dir: Path | None = None,
    database_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path | None = None,
) -> Settings:
    """Build Settings. ``data_dir``/``database_url`` are command-line overrides (they win)."""
    env = dict(os.environ if environ is None else environ)
    dotenv_file = dotenv_path if dotenv_path is not None else Path.cwd() / ".env"
    dotenv = _read_dotenv(dotenv_file) if dotenv_file.is_file() else {}

    def lookup(setting: Setting, file_values: Mapping[str, str]) -> Any:
        sources = (env, dotenv, file_values) if setting.in_file else (env, dotenv)
        for source in sources:
            if source.get(setting.name) not in (None, ""):
                return setting.parse(setting.name, source[setting.name])
        return setting.default

    explicit_dir = data_dir or lookup(SETTINGS["PARKING_DATA_DIR"], {})
    base_dir = (explicit_dir or default_data_dir()).expanduser().resolve()
    # A portable --data-dir keeps its settings with its data; otherwise the platform config dir.
    settings_file = (base_dir if explicit_dir else default_config_dir()) / SETTINGS_FILE_NAME
    file_values = read_settings_file(settings_file)

    values = {s.attr: lookup(s, file_values) for s in REGISTRY if s.attr != "data_dir"}
    if database_url:
        values["database_url"] = _parse_database_url("DATABASE_URL", database_url)
    derived = {"database_url": sqlite_url(base_dir / "parking.db"),
               "cache_dir": base_dir / "cache", "upload_folder": base_dir / "exports"}
    for attr, default in derived.items():
        if values[attr] is None:
            values[attr] = default
    if values["mail_use_tls"] and values["mail_use_ssl"]:
        raise ConfigError("MAIL_USE_TLS and MAIL_USE_SSL cannot both be on: choose one.")
    return Settings(data_dir=base_dir, settings_file=settings_file, **values)


def settings_as_env(settings: Settings, names: Iterable[str] | None = None) -> dict[str, str]:
    """The settings that may be saved (or ``names``) under their environment names, as text."""
    chosen = [SETTINGS[n] for n in names] if names is not None else \
        [s for s in REGISTRY if s.saved]
    return {s.name: s.text(getattr(settings, s.attr)) for s in chosen}


def refreshed(settings: Settings, names: Iterable[str],
              environ: Mapping[str, str] | None = None) -> Settings:
    """``settings`` with ``names`` read again from the environment, else the settings file
    (what a Settings screen changes while the program runs)."""
    env = os.environ if environ is None else environ
    stored = read_settings_file(settings.settings_file)
    changes = {}
    for name in names:
        setting = SETTINGS[name]
        raw = env.get(name) or (stored.get(name) if setting.in_file else None)
        if raw:
            changes[setting.attr] = setting.parse(name, raw)
    return replace(settings, **changes)
