"""Files and folders under hostile paths and failing disks, through real processes
(`python main.py …`), on SQLite and PostgreSQL where it applies:

* folders that already exist keep their mode; missing ones are created 0700;
* the database, and `export --out`, refuse anything that is not a regular file or a new one
  (a FIFO, a symbolic link, a folder), with one line and nothing changed;
* new database files (and their -wal/-shm) are 0600; an existing one keeps its mode;
* a full disk (a real file size limit, RLIMIT_FSIZE) gives one line, never a traceback, and
  leaves a failed job and no temporary file;
* a copy killed with kill -9 leaves nothing for good, and a running program recovers an export
  whose process was killed.

No test writes to a real device: a FIFO proves "not a regular file" just as well."""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from parking_desktop.adapters.db.engine import make_engine
from parking_desktop.adapters.db.models import ExportJob, ParkingSpot, Reservation
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.errors import ValidationError
from parking_desktop.domain.roles import SYSTEM, Actor, Role
from parking_desktop.services.exports.exports import INTERRUPTED
from parking_desktop.services.exports.scope import ExportScope
from tests.conftest import START
from tests.integration.export_support import finished

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
FOREIGN = ("DATABASE_URL", "PARKING_DATA_DIR", "CACHE_DIR", "UPLOAD_FOLDER", "PARKING_PASSWORD",
           "MAIL_USERNAME", "MAIL_PASSWORD")


@dataclass
class Run:
    code: int
    out: str
    err: str


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    # No .pyc is written by these runs: under a file size limit Python can leave a truncated
    # one behind in the source tree.
    env.update({"APP_TIMEZONE": "Europe/Paris", "SCHEDULER_ENABLED": "false",
                "PYTHONDONTWRITEBYTECODE": "1", **extra})
    return env


def main(data_dir: Path, db_url: str | None, *args: str, env: dict[str, str] | None = None,
         preexec: Callable[[], None] | None = None, cwd: Path | None = None,
         timeout: float = 300) -> Run:
    """``python main.py --data-dir DIR [--db URL] ARGS`` in a real process."""
    command = [sys.executable, str(MAIN), "--data-dir", str(data_dir)]
    if db_url:
        command += ["--db", db_url]
    done = subprocess.run([*command, *args], capture_output=True, text=True,
                          env=environment(**(env or {})),
                          cwd=cwd or next(p for p in data_dir.parents if p.is_dir()),
                          stdin=subprocess.DEVNULL, timeout=timeout, preexec_fn=preexec)
    assert "Traceback" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr)


def one_line(run: Run, code: int = 1) -> str:
    """Exit ``code`` with exactly one line on stderr; returns that line."""
    assert run.code == code, (run.code, run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    return lines[0]


def file_size_limit(limit: int) -> Callable[[], None]:
    """A real "disk full" for one process: no file may grow beyond ``limit`` bytes (EFBIG)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a fatal signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def export_jobs(db_url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return [(row.status, row.error_message) for row in conn.execute(
                select(ExportJob.status, ExportJob.error_message).order_by(ExportJob.id))]
    finally:
        engine.dispose()


def open_app(data_dir: Path, db_url: str) -> App:
    settings = load_settings(data_dir=data_dir, database_url=db_url,
                             environ={"APP_TIMEZONE": "Europe/Paris"},
                             dotenv_path=data_dir / "no.env")
    return build_app(settings, hasher=Argon2Hasher(fast=True))


def hidden_parts(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# --- 1. folders that exist are not ours to change ----------------------------------------------

def test_existing_folders_keep_their_mode_and_new_ones_are_private(tmp_path: Path,
                                                                   db_url: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    shared_exports = tmp_path / "team-exports"
    shared_exports.mkdir()
    shared_exports.chmod(0o2775)  # a group's folder
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o750)
    run = main(data, db_url, "lots", env={"UPLOAD_FOLDER": str(shared_exports),
                                          "CACHE_DIR": str(cache)})
    assert run.code == 0, run.err
    assert (mode(data), mode(shared_exports), mode(cache)) == (0o755, 0o2775, 0o750)

    fresh = tmp_path / "new" / "data"  # nothing exists yet: everything is created private
    assert main(fresh, db_url, "lots").code == 0
    for folder in (fresh.parent, fresh, fresh / "exports", fresh / "cache"):
        assert mode(folder) == 0o700, folder


def test_database_in_a_shared_folder_leaves_the_folder_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2775)
    db = shared / "parking.db"
    run = main(tmp_path / "data", f"sqlite:///{db}", "db", "upgrade")
    assert run.code == 0, run.err
    assert mode(shared) == 0o2775
    assert mode(db) == 0o600


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_database_path_that_is_not_a_file_is_refused(tmp_path: Path, kind: str) -> None:
    parent = tmp_path / "place"
    parent.mkdir()
    parent.chmod(0o755)
    target = parent / "parking.db"
    if kind == "folder":
        target.mkdir()
    else:
        os.mkfifo(target)
    before = sorted(p.name for p in parent.iterdir())
    line = one_line(main(tmp_path / "data", f"sqlite:///{target}", "lots", timeout=60))
    assert "not a regular file" in line and str(target) in line, line
    assert mode(parent) == 0o755
    assert sorted(p.name for p in parent.iterdir()) == before  # no -wal, -shm or journal
    assert stat.S_ISDIR(target.lstat().st_mode) if kind == "folder" else \
        stat.S_ISFIFO(target.lstat().st_mode)


# --- 2. export --out: a regular file or a new one, nothing else ----------------------------------

def seed(data: Path, db_url: str) -> None:
    app = open_app(data, db_url)
    try:
        lot = app.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                              price_per_hour="2.50", number_of_spots=3)
        app.parking.check_in(SYSTEM, lot.id, "AB123")
    finally:
        app.close()


@pytest.mark.parametrize("kind", ["fifo", "symlink", "folder"])
def test_export_out_refuses_what_is_not_a_regular_file(tmp_path: Path, db_url: str,
                                                        kind: str) -> None:
    data = tmp_path / "data"
    seed(data, db_url)
    folder = tmp_path / "out"
    folder.mkdir()
    victim = folder / "precious.txt"
    victim.write_text("keep me")
    out = folder / "report.csv"
    if kind == "fifo":
        os.mkfifo(out)
    elif kind == "symlink":
        out.symlink_to(victim)
    else:
        out.mkdir()
    line = one_line(main(data, db_url, "export", "--out", str(out), "--all"))
    assert "not a regular file" in line and str(out) in line, line
    assert {"fifo": stat.S_ISFIFO, "symlink": stat.S_ISLNK, "folder": stat.S_ISDIR}[kind](
        out.lstat().st_mode)
    assert victim.read_text() == "keep me"
    assert hidden_parts(folder) == []
    assert export_jobs(db_url) == []  # refused before any job was made


def test_export_out_replaces_a_regular_file_privately(tmp_path: Path, db_url: str) -> None:
    data = tmp_path / "data"
    seed(data, db_url)
    out = tmp_path / "report.csv"
    out.write_text("old content")
    out.chmod(0o644)
    run = main(data, db_url, "export", "--out", str(out), "--all")
    assert run.code == 0, run.err
    assert out.read_bytes().startswith(b"\xef\xbb\xbfReservation ID")
    assert mode(out) == 0o600
    assert hidden_parts(tmp_path) == []


def test_saving_from_a_screen_refuses_a_fifo(app: App, tmp_path: Path) -> None:
    lot = app.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                          price_per_hour="2.50", number_of_spots=3)
    app.parking.check_in(SYSTEM, lot.id, "AB123")
    job = finished(app, app.exports.request(SYSTEM, ExportScope.everything()))
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(ValidationError, match="is a FIFO"):
        app.exports.save(SYSTEM, job.job_id, fifo)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


# --- 9. database files private -------------------------------------------------------------------

def test_new_database_files_are_private(tmp_path: Path) -> None:
    db = tmp_path / "data" / "parking.db"
    app = open_app(tmp_path / "data", f"sqlite:///{db}")
    try:
        app.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                        price_per_hour="2.50", number_of_spots=3)
        files = [db, db.with_name("parking.db-wal"), db.with_name("parking.db-shm")]
        cache_files = list((tmp_path / "data" / "cache").rglob("cache.db*"))
        assert all(f.exists() for f in files) and cache_files
        assert {f.name: mode(f) for f in files + cache_files} == {
            f.name: 0o600 for f in files + cache_files}
    finally:
        app.close()


def test_an_existing_database_keeps_its_mode(tmp_path: Path, sqlite_template: Path) -> None:
    db = tmp_path / "theirs.db"
    db.write_bytes(sqlite_template.read_bytes())
    db.chmod(0o640)
    run = main(tmp_path / "data", f"sqlite:///{db}", "lots")
    assert run.code == 0, run.err
    assert mode(db) == 0o640


# --- 10. no space left for the export ------------------------------------------------------------

def wide_history(data: Path, db_url: str, count: int) -> App:
    """``count`` finished reservations in a lot with a 100-character name and a 500-character
    address: the CSV is several times the size of what the database stores."""
    app = open_app(data, db_url)
    lot = app.lots.create(SYSTEM, name="Long " + "n" * 95, address="1 Street " + "a" * 491,
                          pin_code="LONG1", price_per_hour="2.50", number_of_spots=1)
    with app.db.write() as session:
        spot = session.scalars(select(ParkingSpot).where(ParkingSpot.lot_id == lot.id)).one()
        session.add_all(Reservation(
            spot_id=spot.id, user_id=None, vehicle_number=f"AB{i:06d}", status="completed",
            reserved_at=START + timedelta(minutes=2 * i),
            parked_at=START + timedelta(minutes=2 * i),
            left_at=START + timedelta(minutes=2 * i + 1), price_per_hour=Decimal("2.50"),
            cost=Decimal("2.50"), created_by=None) for i in range(count))
    return app


@pytest.mark.parametrize("existing", [False, True], ids=["new-file", "existing-file"])
def test_export_on_a_full_disk_fails_in_one_line(tmp_path: Path, db_url: str,
                                                 existing: bool) -> None:
    data = tmp_path / "data"
    app = wide_history(data, db_url, 3000)
    try:
        csv_size = len(Path(finished(app, app.exports.request(
            SYSTEM, ExportScope.everything())).file_path or "").read_bytes())
    finally:
        app.close()  # SQLite: the last connection folds the WAL into the file
    db_file = data.parent / "parking.db"  # the SQLite fixture's file (absent on PostgreSQL)
    limit = (db_file.stat().st_size if db_url.startswith("sqlite") else 0) + 512 * 1024
    assert csv_size > limit + 64 * 1024, "the export must not fit under the limit"
    before = export_jobs(db_url)
    out = tmp_path / "report.csv"
    if existing:  # --out is written while the export runs: a failure must leave it as it was
        out.write_bytes(b"last month's report")

    run = main(data, db_url, "export", "--out", str(out), "--all",
               preexec=file_size_limit(limit))
    line = one_line(run)
    assert line.startswith("error: The export failed: no space left on the export folder "
                           f"{data / 'exports'}"), line
    jobs = export_jobs(db_url)
    assert len(jobs) == len(before) + 1
    status, message = jobs[-1]
    assert status == "failed" and message and "no space left" in message
    assert [p.name for p in (data / "exports").iterdir() if p.name.endswith(".part")] == []
    if existing:
        assert out.read_bytes() == b"last month's report"
    else:
        assert not out.exists()
    assert hidden_parts(tmp_path) == []


# --- 15. leftovers of a killed process -----------------------------------------------------------

HOLD_A_COPY = """
import sys, time
from pathlib import Path
from parking_desktop.files import atomic_write
with atomic_write(Path(sys.argv[1])) as out:
    out.write(b"half a file")
    out.flush()
    print("writing", flush=True)
    time.sleep(600)
"""


def start_copy(target: Path) -> subprocess.Popen[str]:
    """A real process in the middle of writing ``target`` (through the export's own copy)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD_A_COPY, str(target)], cwd=ROOT,
                               env=environment(PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "writing", process.stderr.read() if process.stderr else ""
    return process


def test_a_copy_killed_midway_leaves_nothing_after_the_next_export(tmp_path: Path,
                                                                   db_url: str) -> None:
    data = tmp_path / "data"
    seed(data, db_url)
    folder = tmp_path / "out"
    folder.mkdir()
    running = start_copy(folder / "other.csv")  # a copy still in progress: not to be deleted
    try:
        killed = start_copy(folder / "report.csv")
        stop(killed)  # SIGKILL: no clean-up of its own
        leftovers = hidden_parts(folder)
        assert len(leftovers) == 2, leftovers
        assert not (folder / "report.csv").exists()

        run = main(data, db_url, "export", "--out", str(folder / "report.csv"), "--all")
        assert run.code == 0, run.err
        remaining = hidden_parts(folder)
        assert len(remaining) == 1 and remaining[0].startswith(".other.csv."), remaining
        assert (folder / "report.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    finally:
        stop(running)


def stop(process: subprocess.Popen[str]) -> None:
    process.kill()
    process.communicate(timeout=60)


HOLD_AN_EXPORT = """
import sys, time
from pathlib import Path
from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.roles import Actor, Role
from parking_desktop.services.exports.scope import ExportScope
data, url, user_id = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
settings = load_settings(data_dir=data, database_url=url, environ={"APP_TIMEZONE": "UTC"},
                         dotenv_path=data / "no.env")
app = build_app(settings, hasher=Argon2Hasher(fast=True))
driver = Actor(user_id=user_id, username="kim", role=Role.DRIVER)
print(app.exports.request(driver, ExportScope.driver(user_id), start=False), flush=True)
time.sleep(600)
"""


def test_a_running_program_recovers_an_export_whose_process_was_killed(
    app: App, tmp_path: Path
) -> None:
    view = app.users.create(SYSTEM, username="kim", password="correct-horse-1",
                            role=Role.DRIVER, email="kim@example.com")
    kim = Actor(user_id=view.id, username="kim", role=Role.DRIVER)
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_AN_EXPORT, str(app.settings.data_dir),
         app.settings.database_url, str(view.id)],
        cwd=ROOT, env=environment(PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None
        job_id = other.stdout.readline().strip()
        assert job_id, other.stderr.read() if other.stderr else ""
        # Alive elsewhere: still in progress here, and kim cannot ask for a second one.
        assert app.exports.status(kim, job_id).status == "pending"
        with pytest.raises(Exception, match="already have an export in progress"):
            app.exports.request(kim, ExportScope.driver(view.id))
    finally:
        stop(other)

    def recovered() -> bool:
        return app.exports.status(kim, job_id).status == "failed"

    wait_for(recovered)  # PostgreSQL drops the killed session's lock when it notices
    assert app.exports.status(kim, job_id).error_message == INTERRUPTED
    assert [j.status for j in app.exports.history(kim)] == ["failed"]
    again = finished(app, app.exports.request(kim, ExportScope.driver(view.id)))
    assert again.status == "completed"


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never became true"
        time.sleep(0.05)


# --- 12. empty values are not "no filter" --------------------------------------------------------

@pytest.mark.parametrize("option", ["--from", "--to"])
def test_an_empty_date_is_a_usage_error(tmp_path: Path, option: str) -> None:
    out = tmp_path / "x.csv"
    run = main(tmp_path / "data", None, "export", "--out", str(out), "--all", option, "")
    assert run.code == 2, (run.out, run.err)
    assert f"{option}: must not be empty" in run.err
    assert not out.exists()


# --- 17. messages that say what is wrong ---------------------------------------------------------

def test_a_full_disk_is_not_reported_as_an_unreachable_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert main(data, None, "db", "upgrade").code == 0
    line = one_line(main(data, None, "lots", preexec=file_size_limit(8192)))
    assert "could not be written" in line and "cannot be reached" not in line, line


@pytest.mark.parametrize("name", ["settings.json", ".env"])
def test_a_binary_settings_file_names_the_file(tmp_path: Path, name: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    path = (data if name == "settings.json" else work) / name
    path.write_bytes(b"\xff\xfe\x00MAIL_PORT=\x9c\x00\x01")
    line = one_line(main(data, None, "lots", cwd=work))
    assert str(path) in line and "not UTF-8 text" in line and "codec" not in line, line

