"""The command line through real subprocesses (`python main.py …`), on SQLite and PostgreSQL:
exit codes (0 done, 1 refused with one line on stderr and no traceback, 2 bad usage), JSON
shapes other tools rely on, passwords, demo, db upgrade, health."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from parking_desktop.adapters.passwords import Argon2Hasher
from parking_desktop.bootstrap import build_app
from parking_desktop.cli.main import run as run_cli
from parking_desktop.config import load_settings
from parking_desktop.domain.roles import SYSTEM, Role

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "main.py"
PASSWORD = "cli-password-1"
# Variables that would make a run depend on this machine rather than on the test.
FOREIGN = ("DATABASE_URL", "PARKING_DATA_DIR", "CACHE_DIR", "UPLOAD_FOLDER", "PARKING_PASSWORD",
           "MAIL_USERNAME", "MAIL_PASSWORD")


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    def __init__(self, data_dir: Path, db_url: str | None) -> None:
        self.data_dir = data_dir
        self.db_url = db_url

    def __call__(self, *args: str, password: str | None = None, db: str | None = None,
                 env: dict[str, str] | None = None) -> Run:
        """Run ``main.py --data-dir DIR [--db URL] ARGS``; ``db`` overrides the fixture's URL."""
        environ = {k: v for k, v in os.environ.items() if k not in FOREIGN}
        environ.update({"APP_TIMEZONE": "Europe/Paris", "SCHEDULER_ENABLED": "false",
                        **(env or {})})
        if password is not None:
            environ["PARKING_PASSWORD"] = password
        base = [sys.executable, str(MAIN), "--data-dir", str(self.data_dir)]
        if db or self.db_url:
            base += ["--db", db or self.db_url or ""]
        done = subprocess.run([*base, *args], capture_output=True, text=True, env=environ,
                              cwd=self.data_dir.parent, stdin=subprocess.DEVNULL, timeout=300)
        assert "Traceback" not in done.stderr, done.stderr
        return Run(done.returncode, done.stdout, done.stderr)


def refused(run: Run, *words: str) -> None:
    """Exit 1 with one plain line on stderr that says what was wrong."""
    assert run.code == 1, (run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.err
    for word in words:
        assert word in lines[0], lines[0]


def make_lot(data_dir: Path, db_url: str, name: str, spots: int, price: str) -> None:
    """Lots are made in the desktop (no lot command): here through the same services."""
    settings = load_settings(data_dir=data_dir, database_url=db_url, environ={},
                             dotenv_path=data_dir / "none")
    app = build_app(settings, hasher=Argon2Hasher(fast=True))
    try:
        app.lots.create(SYSTEM, name=name, address="1 Main St", pin_code="CC001",
                        price_per_hour=price, number_of_spots=spots)
        app.users.create(SYSTEM, username="dana", password=PASSWORD, role=Role.DRIVER,
                         email="dana@example.com")
    finally:
        app.close()


@pytest.fixture
def cli(tmp_path: Path, db_url: str) -> Cli:
    return Cli(tmp_path / "data", db_url)


def test_check_in_and_out(cli: Cli, db_url: str) -> None:
    assert cli("user", "add", "--username", "boss", "--role", "manager", "--email",
               "Boss@Example.com", password=PASSWORD).out.startswith(
        "Created manager 'boss' <boss@example.com>")
    make_lot(cli.data_dir, db_url, "City Center", 2, "2.40")

    lots = cli("lots", "--json").json()
    tariff = lots[0].pop("tariff")  # the tariff summary (docs/tariffs.md): today's flat rule
    assert (tariff["base_rate"], tariff["flat"], tariff["minimum_minutes"]) == ("2.40", True, 60)
    assert lots == [{"id": lots[0]["id"], "name": "City Center", "address": "1 Main St",
                     "pin_code": "CC001", "price_per_hour": "2.40", "free": 2, "total": 2,
                     "reserved": 0, "occupied": 0}]

    park = cli("park", "--lot", "city center", "--vehicle", "ab-12 cd", "--user", "dana",
               "--json").json()
    assert {k: park[k] for k in ("lot", "spot", "vehicle", "user")} == {
        "lot": "City Center", "spot": "P001", "vehicle": "AB12CD", "user": "dana"}
    assert isinstance(park["reservation_id"], int)
    second = cli("park", "--lot", "CC001", "--vehicle", "XY 987")  # by pin code, human output
    assert second.code == 0 and "XY987" in second.out and "spot P002" in second.out
    refused(cli("park", "--lot", "City Center", "--vehicle", "QQ11"), "full")

    stats = cli("stats", "--json").json()
    for key in ("lots", "spots", "available", "reserved", "occupied", "occupancy_pct", "drivers",
                "reservations_total", "reservations_active", "revenue_total"):
        assert key in stats
    assert (stats["spots"], stats["occupied"], stats["occupancy_pct"]) == (2, 2, 100.0)
    assert stats["revenue_total"] == "0.00"

    release = cli("release", "--vehicle", "AB-12-CD", "--json").json()
    assert release["reservation_id"] == park["reservation_id"]
    assert (release["spot"], release["hours"], release["cost"]) == ("P001", "1.0000", "2.40")
    human = cli("release", "--vehicle", "xy987")
    assert human.code == 0 and "fee €2.40 (account, receipt 000002" in human.out

    after = cli("stats", "--json").json()
    assert (after["available"], after["reservations_total"], after["revenue_total"]) == (
        2, 2, "4.80")
    dana = cli("stats", "--user", "dana", "--json").json()
    assert (dana["bookings"], dana["total_spent"]) == (1, "2.40")


def test_refused_check_ins_and_outs(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'data' / 'parking.db'}"
    make_lot(tmp_path / "data", db_url, "City Center", 1, "2.40")
    cli = Cli(tmp_path / "data", None)
    assert cli("park", "--lot", "City Center", "--vehicle", "AB12CD").code == 0
    refused(cli("park", "--lot", "City Center", "--vehicle", "!!"), "not valid")
    refused(cli("park", "--lot", "Nowhere", "--vehicle", "QQ11"), "Nowhere")
    refused(cli("park", "--lot", "City Center", "--vehicle", "AB12CD"), "AB12CD")
    refused(cli("release", "--vehicle", "NOTHERE1"), "NOTHERE1")


def test_bad_usage_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cli = Cli(tmp_path / "data", None)
    for args in (["fly"], ["lots", "--colour"]):  # through a real process...
        run = cli(*args)
        assert run.code == 2 and "usage:" in run.err, (args, run.err)
    for args in (["park", "--lot", "X"], ["user"], ["db"], ["release"],  # ...and in-process
                 ["user", "add", "--username", "x", "--role", "pilot"],
                 ["demo", "--drivers", "many"], ["activity"]):
        with pytest.raises(SystemExit) as exit_info:
            run_cli(["--data-dir", str(tmp_path / "data"), *args])
        assert exit_info.value.code == 2, args
        assert "usage:" in capsys.readouterr().err


def test_passwords_come_from_the_environment_or_a_terminal(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", None)
    refused(cli("user", "add", "--username", "nopass", "--role", "driver"), "PARKING_PASSWORD")
    refused(cli("user", "add", "--username", "shorty", "--role", "driver", password="short"),
            "at least 8")
    made = cli("user", "add", "--username", "ann", "--role", "attendant", password=PASSWORD)
    assert made.code == 0
    refused(cli("user", "add", "--username", "ann", "--role", "driver", password=PASSWORD),
            "already taken")
    settings = load_settings(data_dir=tmp_path / "data", environ={}, dotenv_path=tmp_path / "x")
    app = build_app(settings, hasher=Argon2Hasher(fast=True))
    try:
        actor, user = app.users.authenticate("ann", PASSWORD)
        assert user.role is Role.ATTENDANT and actor.username == "ann"
    finally:
        app.close()
    assert [a["activity_type"] for a in cli("activity", "--user", "ann", "--json").json()[
        "items"]] == ["login"]


def test_user_add_prompts_without_echo_in_a_terminal(tmp_path: Path) -> None:
    """In a real terminal (a pty), the password is typed twice and never shown."""
    environ = {k: v for k, v in os.environ.items() if k not in FOREIGN}
    args = [sys.executable, str(MAIN), "--data-dir", str(tmp_path / "data"), "user", "add",
            "--username", "typed", "--role", "driver"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and the controlling terminal are the pty
        os.execve(sys.executable, args, environ)
    output = b""
    try:
        for _ in range(2):
            output += _read_until(fd, b"assword: ")
            os.write(fd, PASSWORD.encode() + b"\n")
        output += _read_until(fd, b"")
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, output
    assert b"Created driver 'typed'" in output
    assert PASSWORD.encode() not in output, "the password was echoed"


def _read_until(fd: int, marker: bytes, timeout: float = 120) -> bytes:
    """Read the pty until ``marker`` shows (or, for b"", until the child closes it)."""
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # EIO: the child has exited
            return data
        if not chunk:
            return data
        data += chunk
        if marker and marker in data:
            return data
    raise AssertionError(f"no {marker!r} from the child: {data!r}")


def test_demo_then_reports_on_it(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", None)
    demo = cli("demo", "--drivers", "300", "--lots", "3", "--days", "30", "--seed", "5",
               password=PASSWORD)
    assert demo.code == 0, demo.err
    assert f"password: {PASSWORD}" in demo.out
    for name in ("manager", "attendant1", "attendant2"):
        assert f"\n{name} " in demo.out
    assert "payments with their receipts" in demo.out
    # The demo's money: attendant1's shift is open, the earlier ones closed and counted.
    open_shifts = cli("shift", "list", "--state", "open", "--json").json()
    assert [s["attendant"] for s in open_shifts] == ["attendant1"]
    assert len(cli("shift", "list", "--state", "approved", "--json").json()) > 20
    refused(cli("demo", "--drivers", "10", password=PASSWORD), "already has data", "--reset")

    stats = cli("stats", "--json").json()
    assert stats["lots"] == 3 and stats["drivers"] > 200
    # The demo's history ends now, so how many stays it makes moves with the hour it runs:
    # the dashboard must count exactly the reservations and revenue the demo reported.
    made = re.search(r"drivers, ([\d,]+) reservations .*revenue ([\d,.]+)\.", demo.out)
    assert made is not None
    assert stats["reservations_total"] == int(made[1].replace(",", "")) > 1000
    assert Decimal(stats["revenue_total"]) == Decimal(made[2].replace(",", "")) > 0
    assert stats["reserved"] + stats["occupied"] == stats["reservations_active"] > 0
    text = cli("stats").out
    assert "Occupancy" in text and "Revenue" in text

    lot_events = cli("activity", "--user", "manager", "--type", "lot_created", "--json").json()
    assert lot_events["total"] == 3
    assert {e["activity_data"]["after"]["name"] for e in lot_events["items"]} == {
        lot["name"] for lot in cli("lots", "--json").json()}
    table = cli("activity", "--user", "manager")
    assert table.code == 0 and "lot_created" in table.out
    refused(cli("activity", "--user", "manager", "--type", "teleported"), "teleported")
    refused(cli("activity", "--user", "nobody"), "nobody")

    again = cli("demo", "--drivers", "20", "--lots", "2", "--days", "5", "--reset",
                password=PASSWORD)
    assert again.code == 0 and "20 drivers" in again.out
    assert cli("stats", "--json").json()["lots"] == 2


def test_out_of_range_demo_options_are_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["--data-dir", str(tmp_path / "data"), "demo", "--drivers", "0"]) == 1
    assert capsys.readouterr().err == "error: --drivers must be between 1 and 100000, not 0.\n"
    assert not (tmp_path / "data").exists(), "refused before anything was created"


def test_db_upgrade_and_health(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data", None)
    fresh = cli("health", "--json")
    assert fresh.code == 1
    report = fresh.json()
    assert report["healthy"] is False
    assert {c["name"] for c in report["checks"]} >= {
        "database", "schema", "data folder", "cache folder", "upload folder"}
    schema = next(c for c in report["checks"] if c["name"] == "schema")
    assert schema["ok"] is False and "db upgrade" in schema["detail"]
    assert all(set(c) == {"name", "ok", "detail", "warning"} for c in report["checks"])

    upgrade = cli("db", "upgrade")
    assert upgrade.code == 0 and "created" in upgrade.out
    assert "already current" in cli("db", "upgrade").out
    healthy = cli("health")
    assert healthy.code == 0 and healthy.out.strip().endswith("Healthy.")

    # --db wins over DATABASE_URL; an unreachable database is reported, not a traceback.
    away = "postgresql://postgres@127.0.0.1:1/nowhere"
    assert cli("health", env={"DATABASE_URL": away}).code == 1
    assert cli("health", db=f"sqlite:///{tmp_path / 'data' / 'parking.db'}",
               env={"DATABASE_URL": away}).code == 0
    down = cli("health", "--json", db=away).json()
    checks = {c["name"]: c for c in down["checks"]}
    assert not checks["database"]["ok"] and "cannot be reached" in checks["database"]["detail"]
    refused(cli("lots", db=away), "cannot be reached")
