"""`health`: can this machine run the program? Database reachable, schema current, its content
intact (SQLite) or its server fit (PostgreSQL), folders writable and private, cache usable,
mail login possible without a plaintext secret. Every check runs even when an earlier one
fails, and none of them changes anything (the database is not migrated, folders are not
created or chmod-ed, no cache entry is loaded). A check can pass with a warning: the program
works, but something should be looked at."""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from parking_desktop.adapters.cache import inspect_folder
from parking_desktop.adapters.db import migrate
from parking_desktop.adapters.db.engine import (
    describe_url,
    make_engine,
    normalise_url,
    storage_problem,
)
from parking_desktop.adapters.secrets import smtp_password_health
from parking_desktop.config import Settings

# Oldest PostgreSQL the program is tested with (docs/deployment.md): partial and expression
# indexes, SKIP LOCKED and advisory locks all work from here on.
MIN_POSTGRESQL = 120000
# Above this share of the usable connections, a new kiosk may soon be turned away.
CONNECTIONS_WARN = 0.8
RESTORE = "restore it from a backup (docs/deployment.md, section 7 \"Backups\")"
DAMAGED_HINTS = ("malformed", "not a database", "corrupt")


@dataclass(frozen=True)
class HealthCheck:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # ok, but something to look at (shown as WARN)


@dataclass(frozen=True)
class HealthReport:
    checks: list[HealthCheck]

    @property
    def healthy(self) -> bool:
        return all(check.ok for check in self.checks)


    @property
    def warnings(self) -> int:
        return sum(1 for check in self.checks if check.warning)


def check_health(settings: Settings, *, deep: bool = False) -> HealthReport:
    """``deep``: SQLite's full integrity_check (reads every index entry) instead of quick_check."""
    checks: list[HealthCheck] = []
    # The folders first, as they are: opening the database may create its file.
    folders = [_folder(name, folder) for name, folder in _folders(settings)]
    engine: Engine | None = None
    unreachable = "not checked: the database cannot be reached"
    try:
        missing = _missing_sqlite_file(settings.database_url)
        if missing is not None:
            # Opening it would create an empty database: health changes nothing.
            raise FileNotFoundError(f"{missing} does not exist yet: start the program once, "
                                    "or run `db upgrade`, to create it")
        engine = make_engine(settings.database_url)
        checks.append(_database(engine, settings.database_url))
        reachable = checks[-1].ok
        checks.append(_schema(engine) if reachable else HealthCheck("schema", False, unreachable))
        if engine.dialect.name == "sqlite":
            checks.append(_integrity(engine, deep) if reachable
                          else HealthCheck("integrity", False, unreachable))
        else:
            checks.append(_server(engine) if reachable
                          else HealthCheck("server", False, unreachable))
    except FileNotFoundError as exc:  # no database file yet
        checks.append(HealthCheck("database", False, str(exc)))
        checks.append(HealthCheck("schema", False, "no database yet: run `db upgrade`"))
    except Exception as exc:  # a URL we cannot even build an engine for
        checks.append(HealthCheck("database", False, _first_line(exc)))
        checks.append(HealthCheck("schema", False, unreachable))
    finally:
        if engine is not None:
            engine.dispose()
    checks.extend(folders)
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
        reason = _first_line(orig or exc)
        if _damaged(reason):
            return HealthCheck("database", False,
                               f"{describe_url(url)} is damaged ({reason}): {RESTORE}")
        if (problem := storage_problem(exc)) is not None:
            return HealthCheck("database", False, f"{describe_url(url)}: {problem}")
        return HealthCheck("database", False, f"{describe_url(url)} cannot be reached: {reason}")
    return HealthCheck("database", True, f"{describe_url(url)} reachable")


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite database file named by ``url`` when it does not exist (else None)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.query.get("uri"):
        return None
    path = Path(parsed.database).expanduser()
    return None if path.exists() else path


def _integrity(engine: Engine, deep: bool) -> HealthCheck:
    """SQLite: the file's pages and indexes are sound (a damaged page makes every later
    booking that touches it fail with "database disk image is malformed")."""
    pragma = "integrity_check" if deep else "quick_check"
    try:
        with engine.connect() as conn:
            problems = [str(row[0]) for row in conn.exec_driver_sql(f"PRAGMA {pragma}")]
    except Exception as exc:
        reason = _first_line(getattr(exc, "orig", None) or exc)
        if _damaged(reason):
            return HealthCheck("integrity", False, f"the database file is damaged ({pragma}: "
                                                   f"{reason}): {RESTORE}")
        return HealthCheck("integrity", False, f"{pragma} could not run: {reason}")
    if problems == ["ok"]:
        return HealthCheck("integrity", True, f"{pragma}: ok")
    more = f" and {len(problems) - 1} more" if len(problems) > 1 else ""
    return HealthCheck("integrity", False, f"the database file is damaged ({pragma}: "
                                           f"{_first_line(problems[0])}{more}): {RESTORE}")


def _server(engine: Engine) -> HealthCheck:
    """PostgreSQL: a version we support and a connection left for the next kiosk."""
    try:
        with engine.connect() as conn:
            version = _setting(conn, "server_version").split()[0]
            version_num = int(_setting(conn, "server_version_num"))
            limit = int(_setting(conn, "max_connections"))
            reserved = int(_setting(conn, "superuser_reserved_connections"))
            used = int(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )).scalar_one())
    except Exception as exc:
        return HealthCheck("server", False, f"cannot read the server's settings: "
                                            f"{_first_line(getattr(exc, 'orig', None) or exc)}")
    return server_verdict(version, version_num, used, limit - reserved)


def server_verdict(version: str, version_num: int, used: int, usable: int) -> HealthCheck:
    """``usable``: max_connections less the slots kept for superusers."""
    figures = f"PostgreSQL {version}, {used} of {usable} connections in use"
    if version_num < MIN_POSTGRESQL:
        return HealthCheck("server", False, f"{figures}: PostgreSQL {MIN_POSTGRESQL // 10000} "
                                            "or newer is needed")
    if used >= usable:
        return HealthCheck("server", False, f"{figures}: no connection is left for another "
                                            "kiosk; raise max_connections or close some")
    if used >= CONNECTIONS_WARN * usable:
        return HealthCheck("server", True, f"{figures}: close to max_connections; raise it "
                                           "before adding kiosks", warning=True)
    return HealthCheck("server", True, figures)


def _setting(conn: Connection, name: str) -> str:
    return str(conn.execute(text("SELECT current_setting(:name)"), {"name": name}).scalar_one())


def _schema(engine: Engine) -> HealthCheck:
    try:
        current, head = migrate.current_revision(engine), migrate.head_revision(engine)
    except Exception as exc:
        reason = _first_line(getattr(exc, "orig", None) or exc)
        if _damaged(reason):
            return HealthCheck("schema", False, f"the database file is damaged ({reason}): "
                                                f"{RESTORE}")
        return HealthCheck("schema", False, f"cannot read the schema version: {reason}")
    if current == head:
        return HealthCheck("schema", True, f"at the current revision {head}")
    found = f"at revision {current}" if current else "empty (no schema yet)"
    return HealthCheck("schema", False, f"{found}, {head} expected: run `db upgrade`")


def _folders(settings: Settings) -> list[tuple[str, Path]]:
    folders = [("data folder", settings.data_dir), ("cache folder", settings.cache_dir),
               ("upload folder", settings.upload_folder)]
    with contextlib.suppress(Exception):  # a bad URL is reported by the database check
        url = make_url(normalise_url(settings.database_url))
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            parent = Path(url.database).expanduser().parent
            if all(parent.resolve() != known.resolve() for _, known in folders):
                folders.append(("database folder", parent))
    return folders


def _folder(name: str, folder: Path) -> HealthCheck:
    """Writable, and private: whoever can read the data folder can read every booking, and
    whoever can write it can run the command line as a manager (docs/deployment.md). A folder
    open to others is reported, never chmod-ed: the program may not own it."""
    if not folder.is_dir():
        return HealthCheck(name, False, f"{folder} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".health-"):
            pass
    except OSError as exc:
        return HealthCheck(name, False, f"{folder} is not writable: {exc.strerror or exc}")
    try:
        mode = folder.stat().st_mode & 0o777
    except OSError as exc:
        return HealthCheck(name, False, f"{folder} cannot be read: {exc.strerror or exc}")
    if mode & 0o077:
        return HealthCheck(name, True, f"{folder} is open to other users (mode {mode:04o}); "
                                       f"make it private: chmod 700 {folder}", warning=True)
    return HealthCheck(name, True, f"{folder} writable")


def _damaged(reason: str) -> bool:
    return any(hint in reason.lower() for hint in DAMAGED_HINTS)


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
