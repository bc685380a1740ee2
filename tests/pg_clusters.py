"""Private PostgreSQL clusters for the failover test and benchmark: a primary and a streaming
standby made with ``pg_basebackup -R``, each on a free port of 127.0.0.1, in one temporary
folder, stopped and removed at the end.

As scripts/_postgres.sh does: the server programs are found on PATH or in the versioned folders
of Debian/Ubuntu, PGDG and Homebrew (PARKING_TEST_PG_BINDIR overrides); as root (initdb refuses
root) the clusters run as "nobody", who then owns only the temporary folder."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from tests.mail_support import free_port


def server_bindir() -> Path | None:
    """The folder with initdb, pg_ctl and pg_basebackup, or None."""
    names = ("initdb", "pg_ctl", "pg_basebackup")
    chosen = os.environ.get("PARKING_TEST_PG_BINDIR")
    candidates = [chosen] if chosen else []
    if not chosen:
        found = shutil.which("initdb")
        if found:
            candidates.append(str(Path(found).parent))
        patterns = (
            "/usr/lib/postgresql/*/bin",
            "/usr/pgsql-*/bin",
            "/opt/homebrew/opt/postgresql@*/bin",
            "/usr/local/opt/postgresql@*/bin",
        )
        versioned = [d for p in patterns for d in glob.glob(p)]
        candidates += sorted(versioned, key=_version, reverse=True)
    for folder in candidates:
        if all((Path(folder) / n).exists() for n in names):
            return Path(folder)
    return None


def _version(folder: str) -> tuple[int, ...]:
    digits = "".join(c if c.isdigit() else " " for c in folder).split()
    return tuple(int(d) for d in digits)


class ClusterError(RuntimeError):
    pass


@dataclass
class Cluster:
    name: str
    data: Path
    port: int
    log: Path

    @property
    def admin_dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"


@dataclass
class Pair:
    """A primary and its standby; ``run`` runs a server program as the clusters' owner."""

    bindir: Path
    folder: Path
    runas: list[str]
    primary: Cluster
    standby: Cluster
    timings: dict[str, float] = field(default_factory=dict)

    def run(self, program: str, *args: str, timeout: float = 120) -> None:
        command = [*self.runas, str(self.bindir / program), *args]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.folder,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            raise ClusterError(f"{program} failed: {(done.stderr or done.stdout).strip()[-600:]}")

    def url(self, database: str) -> str:
        """The program's multi-host URL: libpq tries the primary, then the standby, and keeps
        the one that accepts writes."""
        return (
            f"postgresql+psycopg://postgres@/{database}?host=127.0.0.1:{self.primary.port},"
            f"127.0.0.1:{self.standby.port}&target_session_attrs=read-write"
        )

    def start(self, cluster: Cluster) -> None:
        options = (
            f"-p {cluster.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.folder} -c fsync=off "
            "-c full_page_writes=off -c wal_level=replica -c max_wal_senders=5 "
            "-c hot_standby=on"
        )
        self.run(
            "pg_ctl",
            "start",
            "-D",
            str(cluster.data),
            "-l",
            str(cluster.log),
            "-w",
            "-t",
            "120",
            "-s",
            "-o",
            options,
        )

    def stop(self, cluster: Cluster, mode: str = "fast") -> None:
        if (cluster.data / "postmaster.pid").exists():
            self.run("pg_ctl", "stop", "-D", str(cluster.data), "-m", mode, "-w", "-s")

    def crash_primary(self) -> None:
        """The primary dies: stopped at once, as a power cut would (no clean shutdown)."""
        self.stop(self.primary, "immediate")

    def promote_standby(self) -> None:
        self.run("pg_ctl", "promote", "-D", str(self.standby.data), "-w", "-t", "60", "-s")

    def wait_replayed(self, timeout: float = 60) -> None:
        """Until the standby has replayed everything the primary wrote so far."""
        with psycopg.connect(self.primary.admin_dsn, autocommit=True) as primary:
            row = primary.execute("SELECT pg_current_wal_lsn()::text").fetchone()
            assert row is not None
            target = row[0]
        end = time.monotonic() + timeout
        with psycopg.connect(self.standby.admin_dsn, autocommit=True) as standby:
            while time.monotonic() < end:
                done = standby.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)
                ).fetchone()
                if done and done[0]:
                    return
                time.sleep(0.1)
        raise ClusterError("the standby did not catch up with the primary")


@contextmanager
def primary_and_standby(bindir: Path) -> Iterator[Pair]:
    folder = Path(tempfile.mkdtemp(prefix="parking-failover-", dir="/tmp"))
    runas: list[str] = []
    if os.name == "posix" and os.geteuid() == 0:
        shutil.chown(folder, "nobody")  # the folder made just above, for the clusters alone
        runas = ["runuser", "-u", "nobody", "--"]
    primary = Cluster("primary", folder / "primary", free_port(), folder / "primary.log")
    standby = Cluster("standby", folder / "standby", free_port(), folder / "standby.log")
    pair = Pair(bindir, folder, runas, primary, standby)
    try:
        pair.run(
            "initdb",
            "-D",
            str(primary.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
        )
        pair.start(primary)
        began = time.monotonic()
        pair.run(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(standby.data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        )
        pair.timings["basebackup"] = time.monotonic() - began
        pair.start(standby)
        yield pair
    finally:
        for cluster in (standby, primary):
            with suppress(ClusterError, subprocess.TimeoutExpired):
                pair.stop(cluster, "immediate")
        shutil.rmtree(folder, ignore_errors=True)


def create_database(pair: Pair, name: str) -> None:
    with psycopg.connect(pair.primary.admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
