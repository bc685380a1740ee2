"""Settings: environment variables > .env in the working directory > settings file > defaults.

Every variable is documented in env_example.txt; the names are those of the Flask back end this
program replaces, so its .env files keep working. The SMTP password is deliberately absent: it
lives in the OS keyring (adapters/secrets)."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field, replace
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs
from dotenv import dotenv_values

from parking_desktop.files import UnsafePathError, atomic_write, ensure_private_dir

APP_NAME = "ParkingDesktop"
SETTINGS_FILE_NAME = "settings.json"


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
    data_dir: Path
    database_url: str
    cache_dir: Path
    upload_folder: Path
    mail_server: str = "localhost"
    mail_port: int = 25
    mail_use_tls: bool = False
    mail_use_ssl: bool = False
    mail_username: str = ""
    mail_default_sender: str = "parking@localhost"
    mail_ca_file: str = ""
    mail_allow_plaintext_login: bool = False  # only ever to a server on the loopback interface
    daily_reminder_time: time = time(18, 0)
    monthly_report_time: time = time(9, 0)
    monthly_report_day: int = 1
    cleanup_time: time = time(2, 0)
    csv_export_expiry_hours: int = 24
    google_chat_webhook_url: str = ""
    app_timezone: str = "UTC"
    scheduler_enabled: bool = True
    kiosk_idle_seconds: int = 60
    kiosk_on_screen_keyboard: bool = True  # touch kiosks have no keyboard
    full_alert_percent: int = 90  # a lot filling past this tells the managers (0: never)
    job_stale_after_seconds: int = 60  # a running job silent this long is taken over
    settings_file: Path = field(default=Path(SETTINGS_FILE_NAME))

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


# Environment name -> (field name, parser)
def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not '{raw}'.")


def _parse_int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not '{raw}'.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {value}.")
    return value


def _parse_time(name: str, raw: str) -> time:
    try:
        hours, minutes = str(raw).strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise ConfigError(f"{name} must be a time like 18:00, not '{raw}'.") from None


def shown_value(raw: str, limit: int = 80) -> str:
    """A value as an error message may repeat it: control characters escaped, bounded."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in raw)
    return text if len(text) <= limit else text[:limit] + "…"


def mail_sender_problem(raw: str) -> str | None:
    """Why ``raw`` cannot be the From address (None: it can)."""
    local, at, domain = raw.rpartition("@")
    if (not at or not local or not domain.strip(".") or len(raw) > 254
            or any(c.isspace() or not c.isprintable() or c in "<>,;\"" for c in raw)):
        return (f"MAIL_DEFAULT_SENDER must be an e-mail address like parking@example.com, "
                f"not '{shown_value(raw)}'.")
    return None


def mail_ca_file_problem(raw: str) -> str | None:
    """Why MAIL_CA_FILE cannot be used (None: it is empty or an existing file)."""
    if raw and not Path(raw).expanduser().is_file():
        return f"MAIL_CA_FILE {shown_value(raw, 400)} does not exist or is not a file."
    return None


def _parse_timezone(name: str, raw: str) -> str:
    try:
        ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} '{raw}' is not a known time zone (e.g. Europe/Paris).") from None
    return raw.strip()


_TEXT = {
    "MAIL_SERVER": "mail_server",
    "MAIL_USERNAME": "mail_username",
    "MAIL_DEFAULT_SENDER": "mail_default_sender",
    "MAIL_CA_FILE": "mail_ca_file",
    "GOOGLE_CHAT_WEBHOOK_URL": "google_chat_webhook_url",
}
_BOOL = {
    "MAIL_USE_TLS": "mail_use_tls",
    "MAIL_USE_SSL": "mail_use_ssl",
    "MAIL_ALLOW_PLAINTEXT_LOGIN": "mail_allow_plaintext_login",
    "SCHEDULER_ENABLED": "scheduler_enabled",
    "KIOSK_ON_SCREEN_KEYBOARD": "kiosk_on_screen_keyboard",
}
_INT = {
    "MAIL_PORT": ("mail_port", 1, 65535),
    "MONTHLY_REPORT_DAY": ("monthly_report_day", 1, 28),
    "CSV_EXPORT_EXPIRY_HOURS": ("csv_export_expiry_hours", 1, 24 * 365),
    "KIOSK_IDLE_SECONDS": ("kiosk_idle_seconds", 10, 24 * 3600),
    "JOB_STALE_AFTER_SECONDS": ("job_stale_after_seconds", 2, 24 * 3600),
    "FULL_ALERT_PERCENT": ("full_alert_percent", 0, 100),
}
_TIME = {
    "DAILY_REMINDER_TIME": "daily_reminder_time",
    "MONTHLY_REPORT_TIME": "monthly_report_time",
    "CLEANUP_TIME": "cleanup_time",
}


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_dir() -> Path:
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


def load_settings(
    *,
    data_dir: Path | None = None,
    database_url: str | None = None,
    environ: dict[str, str] | None = None,
    dotenv_path: Path | None = None,
) -> Settings:
    """Build Settings. ``data_dir``/``database_url`` are command-line overrides (they win)."""
    env = dict(os.environ if environ is None else environ)
    dotenv_file = dotenv_path if dotenv_path is not None else Path.cwd() / ".env"
    dotenv = _read_dotenv(dotenv_file) if dotenv_file.is_file() else {}

    explicit_dir = data_dir or (Path(env["PARKING_DATA_DIR"]) if env.get("PARKING_DATA_DIR")
                                else None)
    base_dir = (explicit_dir or default_data_dir()).expanduser().resolve()
    # A portable --data-dir keeps its settings with its data; otherwise the platform config dir.
    settings_file = (base_dir if explicit_dir else default_config_dir()) / SETTINGS_FILE_NAME
    file_values = read_settings_file(settings_file)

    def lookup(name: str) -> str | None:
        for source in (env, dotenv, file_values):
            if source.get(name) not in (None, ""):
                return source[name]
        return None

    values: dict[str, Any] = {}
    for name, attr in _TEXT.items():
        if (raw := lookup(name)) is not None:
            values[attr] = raw.strip()
    for name, attr in _BOOL.items():
        if (raw := lookup(name)) is not None:
            values[attr] = _parse_bool(name, raw)
    for name, (attr, low, high) in _INT.items():
        if (raw := lookup(name)) is not None:
            values[attr] = _parse_int(name, raw, low, high)
    for name, attr in _TIME.items():
        if (raw := lookup(name)) is not None:
            values[attr] = _parse_time(name, raw)
    if (raw := lookup("APP_TIMEZONE")) is not None:
        values["app_timezone"] = _parse_timezone("APP_TIMEZONE", raw)
    if values.get("mail_use_tls") and values.get("mail_use_ssl"):
        raise ConfigError("MAIL_USE_TLS and MAIL_USE_SSL cannot both be on: choose one.")
    for problem in (mail_sender_problem(values.get("mail_default_sender", "parking@localhost")),
                    mail_ca_file_problem(values.get("mail_ca_file", ""))):
        if problem:
            raise ConfigError(problem)

    url = (database_url or lookup("DATABASE_URL") or sqlite_url(base_dir / "parking.db")).strip()
    if url.split(":", 1)[0].split("+", 1)[0] not in {"sqlite", "postgres", "postgresql"}:
        # The URL itself is not repeated: it may hold a password.
        raise ConfigError(
            "DATABASE_URL (or --db) must be sqlite:///FILE or postgresql://USER@HOST/DATABASE."
        )
    cache_dir = Path(lookup("CACHE_DIR") or base_dir / "cache").expanduser()
    upload = Path(lookup("UPLOAD_FOLDER") or base_dir / "exports").expanduser()
    return Settings(
        data_dir=base_dir,
        database_url=url,
        cache_dir=cache_dir,
        upload_folder=upload,
        settings_file=settings_file,
        **values,
    )


def settings_as_env(settings: Settings) -> dict[str, str]:
    """The editable settings under their environment names (for the Settings screen)."""
    out: dict[str, str] = {}
    for name, attr in {**_TEXT, **_BOOL, **{k: v[0] for k, v in _INT.items()}, **_TIME}.items():
        value = getattr(settings, attr)
        if isinstance(value, bool):
            out[name] = "true" if value else "false"
        elif isinstance(value, time):
            out[name] = value.strftime("%H:%M")
        else:
            out[name] = str(value)
    out["APP_TIMEZONE"] = settings.app_timezone
    return out



