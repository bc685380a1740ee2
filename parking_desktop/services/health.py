"""`health`: can this machine run the program? Database reachable, schema current, folders
writable, cache usable, mail login possible without a plaintext secret. Every check runs even
when an earlier one fails, and none of them changes anything (the database is not migrated,
folders are not created, no cache entry is loaded)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from parking_desktop.adapters.cache import inspect_folder
from parking_desktop.adapters.db import migrate
from parking_desktop.adapters.db.engine import describe_url, make_engine
from parking_desktop.adapters.secrets import smtp_password_health
from parking_desktop.config import Settings


@dataclass(frozen=True)
class HealthCheck:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class HealthReport:
    checks: list[HealthCheck]

    @property
    def healthy(self) -> bool:
        return all(check.ok for check in self.checks)


def check_health(settings: Settings) -> HealthReport:
    checks: list[HealthCheck] = []
    engine: Engine | None = None
    try:
        engine = make_engine(settings.database_url)
        checks.append(_database(engine, settings.database_url))
        checks.append(_schema(engine) if checks[-1].ok else HealthCheck(
            "schema", False, "not checked: the database cannot be reached"))
    except Exception as exc:  # a URL we cannot even build an engine for
        checks.append(HealthCheck("database", False, _first_line(exc)))
        checks.append(HealthCheck("schema", False, "not checked: the database cannot be reached"))
    finally:
        if engine is not None:
            engine.dispose()
    for name, folder in (("data folder", settings.data_dir), ("cache folder", settings.cache_dir),
                         ("upload folder", settings.upload_folder)):
        checks.append(_writable(name, folder))
    checks.append(_cache(settings.cache_dir))
    checks.append(_mail_password(settings))
    checks.append(_mail_login_encrypted(settings))
    return HealthReport(checks)


def _mail_password(settings: Settings) -> HealthCheck:
    try:
        ok, detail = smtp_password_health(settings.mail_username)
    except Exception as exc:  # a keyring backend that fails in its own way
        return HealthCheck("mail password", False,
                           f"the keyring cannot be read: {_first_line(exc)}")
    return HealthCheck("mail password", ok, detail)


def _mail_login_encrypted(settings: Settings) -> HealthCheck:
    """The SMTP password would never cross an unencrypted connection (docs/mail.md)."""
    from parking_desktop.adapters.mail.transport import SmtpConfig, plaintext_login_problem

    config = SmtpConfig.from_settings(settings)
    problem = plaintext_login_problem(config)
    if problem is not None:
        return HealthCheck("mail login", False, problem)
    how = ("no login" if not config.username else "SSL" if config.use_ssl else
           "STARTTLS" if config.use_tls else "unencrypted, allowed to this machine only")
    return HealthCheck("mail login", True, f"{config.describe()}: {how}")


def _cache(folder: Path) -> HealthCheck:
    problem = inspect_folder(folder)
    if problem is not None:
        return HealthCheck("cache", False, problem + " The program works without it meanwhile.")
    return HealthCheck("cache", True, f"{folder} usable")


def _database(engine: Engine, url: str) -> HealthCheck:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        orig = getattr(exc, "orig", None)
        return HealthCheck("database", False,
                           f"{describe_url(url)} cannot be reached: {_first_line(orig or exc)}")
    return HealthCheck("database", True, f"{describe_url(url)} reachable")


def _schema(engine: Engine) -> HealthCheck:
    try:
        current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    except Exception as exc:
        return HealthCheck("schema", False, f"cannot read the schema version: {_first_line(exc)}")
    if current == head:
        return HealthCheck("schema", True, f"at the current revision {head}")
    found = f"at revision {current}" if current else "empty (no schema yet)"
    return HealthCheck("schema", False, f"{found}, {head} expected: run `db upgrade`")


def _writable(name: str, folder: Path) -> HealthCheck:
    if not folder.is_dir():
        return HealthCheck(name, False, f"{folder} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".health-"):
            pass
    except OSError as exc:
        return HealthCheck(name, False, f"{folder} is not writable: {exc.strerror or exc}")
    return HealthCheck(name, True, f"{folder} writable")


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
