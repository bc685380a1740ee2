"""Helpers for the cache tests: apps on chosen folders, other processes, planted pickles,
read-only folders."""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import App, build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.clock import Clock

ROOT = Path(__file__).resolve().parents[2]
TIMEZONE = "Europe/Paris"


def build(data_dir: Path, db_url: str, clock: Clock, **env: str) -> App:
    """An App like the ``app`` fixture's, on ``data_dir`` (its cache is data_dir/cache)."""
    settings = load_settings(data_dir=data_dir, database_url=db_url,
                             environ={"APP_TIMEZONE": TIMEZONE, **env},
                             dotenv_path=data_dir / "no.env")
    return build_app(settings, clock=clock, hasher=Argon2Hasher(fast=True))


def run_other_process(data_dir: Path, db_url: str, body: str, timeout: float = 120) -> str:
    """Run ``body`` in a separate Python process with ``app`` built on the same folder and
    database (the clock fixed at the tests' start). Returns its stdout."""
    script = textwrap.dedent("""
        import sys
        from pathlib import Path
        from parking_desktop.adapters.passwords import Argon2Hasher
        from parking_desktop.bootstrap import build_app
        from parking_desktop.config import load_settings
        from parking_desktop.domain.clock import FixedClock
        from parking_desktop.domain.roles import SYSTEM
        from tests.conftest import START
        data_dir, db_url = Path(sys.argv[1]), sys.argv[2]
        settings = load_settings(data_dir=data_dir, database_url=db_url,
                                 environ={"APP_TIMEZONE": %r}, dotenv_path=data_dir / "no.env")
        app = build_app(settings, clock=FixedClock(START), hasher=Argon2Hasher(fast=True))
        try:
    """) % TIMEZONE
    script += textwrap.indent(textwrap.dedent(body), "    ") + "\nfinally:\n    app.close()\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(data_dir), db_url], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done.stdout


class Detonator:
    """Unpickling this runs os.mkdir(marker): the proof that a pickle was executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def pickle_payload(marker: Path) -> bytes:
    return pickle.dumps(Detonator(marker))


def plant_row(db_file: Path, key: str | bytes, *, value: bytes | None, mode: int = 4,
              raw: int = 1, filename: str | None = None, tag: str | None = None) -> None:
    """Insert a row straight into a diskcache table, as an attacker with write access to the
    folder could (mode 4 = pickle)."""
    now = time.time()
    con = sqlite3.connect(db_file, isolation_level=None)
    try:
        con.execute("DELETE FROM Cache WHERE key = ?", (key,))
        con.execute(
            "INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count,"
            " tag, size, mode, filename, value) VALUES (?, ?, ?, NULL, ?, 0, ?, ?, ?, ?, ?)",
            (key, raw, now, now, tag, 0 if value is not None else 64, mode, filename, value),
        )
    finally:
        con.close()


def row_count(db_file: Path, key: str) -> int:
    con = sqlite3.connect(db_file)
    try:
        return int(con.execute("SELECT count(*) FROM Cache WHERE key = ?", (key,)).fetchone()[0])
    finally:
        con.close()


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make ``folder`` and everything in it unwritable for this process. As root, permission
    bits do not stop writes, so the immutable attribute is used instead."""
    paths = [folder, *folder.rglob("*")]
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in paths}
        for p in paths:
            p.chmod(stat.S_IMODE(modes[p]) & ~0o222)
        try:
            yield
        finally:
            for p in reversed(paths):
                p.chmod(stat.S_IMODE(modes[p]))
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root without chattr: cannot make a folder read-only here")
    done = subprocess.run([chattr, "+i", *map(str, paths)], capture_output=True, text=True)
    if done.returncode != 0:
        subprocess.run([chattr, "-i", *map(str, paths)], capture_output=True)
        pytest.skip(f"running as root and chattr +i is refused here: {done.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", *map(str, paths)], check=True)
