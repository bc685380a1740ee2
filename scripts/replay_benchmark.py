"""What working offline costs a kiosk, and how fast its journal is sent back.

For each database (SQLite file, scratch PostgreSQL database) and each round, on a fresh
database with one lot: N cars are checked in and out again

* **online** (the reference): ``ParkingService.check_in`` / ``check_out``, as a kiosk does
  when the database is there;
* **offline**: the same operations through the journal (``OfflineDesk``: the picture and the
  SQLite journal file, no server), then the replay (``KioskSync.sync_now``: each operation
  applied once with its ``applied_operations`` row, then a new picture).

Shown per operation: journaling vs the online call (what the attendant waits for), and the
replay vs the online call (what catching up costs the server). Figures only, never a
pass/fail: python scripts/replay_benchmark.py [--cars N] [--repeat N] [--db sqlite|postgresql]"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import Results, add_common_arguments, scratch_pg  # noqa: E402

from parking_desktop.adapters.db import migrate  # noqa: E402
from parking_desktop.adapters.db.engine import make_engine  # noqa: E402
from parking_desktop.bootstrap import App, build_app  # noqa: E402
from parking_desktop.config import load_settings  # noqa: E402
from parking_desktop.domain.roles import SYSTEM, Actor, Role  # noqa: E402
from parking_desktop.services.kiosks.journal import OfflineDesk  # noqa: E402
from parking_desktop.services.kiosks.picture import take_picture  # noqa: E402
from parking_desktop.services.kiosks.replay import ReplayService  # noqa: E402
from parking_desktop.services.kiosks.syncing import KioskSync  # noqa: E402

PASSWORD = "bench-password-1"


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'replay.db'}"
        return
    with scratch_pg("replay") as url:
        yield url


def site(url: str, folder: Path, cars: int) -> tuple[App, Actor, int]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    app = build_app(
        load_settings(
            data_dir=folder / "data",
            database_url=url,
            environ={"APP_TIMEZONE": "UTC", "SCHEDULER_ENABLED": "false"},
            dotenv_path=folder / "no.env",
        )
    )
    boss = app.users.create(SYSTEM, username="boss", password=PASSWORD, role=Role.MANAGER)
    gate = app.users.create(SYSTEM, username="gate", password=PASSWORD, role=Role.ATTENDANT)
    manager = Actor(user_id=boss.id, username="boss", role=Role.MANAGER)
    lot = app.lots.create(
        manager,
        name="Central",
        address="1 Main Street",
        pin_code="CEN01",
        price_per_hour=Decimal("2.50"),
        number_of_spots=cars + 10,
    )
    return app, Actor(user_id=gate.id, username="gate", role=Role.ATTENDANT), lot.id


def one_round(kind: str, cars: int, folder: Path) -> dict[str, float]:
    with database(kind, folder) as url:
        app, gate, lot = site(url, folder, cars)
        try:
            started = time.perf_counter()
            for n in range(cars):
                app.parking.check_in(gate, lot, f"ON{n:05d}")
            for n in range(cars):
                app.parking.check_out(gate, f"ON{n:05d}")
            online = (time.perf_counter() - started) / (2 * cars)

            desk = OfflineDesk(folder / "kiosk", "b" * 36, app.ctx.clock)
            sync = KioskSync(
                desk,
                ReplayService(app.ctx, app.parking.payments).apply,
                lambda: take_picture(app.ctx),
            )
            sync.sync_now()  # the picture
            started = time.perf_counter()
            for n in range(cars):
                desk.check_in(gate, lot, f"OFF{n:05d}")
            for n in range(cars):
                desk.check_out(gate, f"OFF{n:05d}")
            journal = (time.perf_counter() - started) / (2 * cars)
            started = time.perf_counter()
            report = sync.sync_now()
            replay = (time.perf_counter() - started) / (2 * cars)
            assert report.ok and report.applied == 2 * cars, report.line()
            desk.close()
        finally:
            app.close()
    return {"online": online, "journal": journal, "replay": replay}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, repeat=3)
    parser.add_argument("--cars", type=int, default=200, help="cars per round (default 200)")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    results = Results("replay_benchmark", args.results)
    results.header()
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        rounds = []
        for number in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="replay-bench-") as folder:
                figures = one_round(kind, args.cars, Path(folder))
            rounds.append(figures)
            print(
                f"{kind} round {number + 1}: "
                + ", ".join(f"{k} {v * 1000:.2f} ms/op" for k, v in figures.items())
            )
        online = [r["online"] for r in rounds]
        results.compare(
            f"{kind}: an operation done offline (journal)",
            [r["journal"] for r in rounds],
            "the same operation online",
            online,
        )
        results.compare(
            f"{kind}: replaying one operation",
            [r["replay"] for r in rounds],
            "the same operation online",
            online,
        )
    results.note(
        f"{args.cars} check-ins then {args.cars} check-outs per round; the replay "
        "includes its one new picture at the end."
    )
    results.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
