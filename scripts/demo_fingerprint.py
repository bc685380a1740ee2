#!/usr/bin/env python3
"""A fingerprint of the demo data set: one SHA-256 per table over every row (in id order), for a
few fixed seeds and sizes, on SQLite and (with ``--db postgresql``) a scratch PostgreSQL
database. Run it before and after changing the demo generator: a refactoring that must not
change the data prints the same lines.

Password hashes are left out (argon2 salts are random); everything else is hashed as read back
from the database. The clock is fixed, so the output is the same on every run.

    .venv/bin/python scripts/demo_fingerprint.py                 # SQLite
    .venv/bin/python scripts/demo_fingerprint.py --db postgresql # and a scratch PostgreSQL db
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import scratch_pg  # noqa: E402
from sqlalchemy import select  # noqa: E402

from parking_desktop.adapters.db.copy import load_all_models  # noqa: E402
from parking_desktop.adapters.passwords import Argon2Hasher  # noqa: E402
from parking_desktop.bootstrap import App, build_app  # noqa: E402
from parking_desktop.config import load_settings  # noqa: E402
from parking_desktop.domain.clock import FixedClock  # noqa: E402
from parking_desktop.services.demo.demo import DemoLoader, DemoOptions  # noqa: E402

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "demo-password-1"
CASES = (
    DemoOptions(drivers=1, lots=1, days=1, seed=9),
    DemoOptions(drivers=60, lots=3, days=20, seed=3),
    DemoOptions(drivers=300, lots=4, days=30, seed=7),
    DemoOptions(drivers=800, lots=7, days=120, seed=11),
)


@contextmanager
def _app(db: str, folder: Path) -> Iterator[App]:
    def build(url: str) -> App:
        settings = load_settings(data_dir=folder, database_url=url,
                                 environ={"APP_TIMEZONE": "Europe/Paris"},
                                 dotenv_path=folder / "none")
        return build_app(settings, clock=FixedClock(NOW), hasher=Argon2Hasher(fast=True))

    if db == "sqlite":
        app = build(f"sqlite:///{folder / 'demo.db'}")
        try:
            yield app
        finally:
            app.close()
        return
    with scratch_pg("demo_fingerprint") as url:
        app = build(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            yield app
        finally:
            app.close()


def fingerprint(app: App) -> dict[str, str]:
    out = {}
    with app.db.engine.connect() as conn:
        for table in load_all_models().sorted_tables:
            columns = [c for c in table.columns if c.name != "password_hash"]
            digest = hashlib.sha256()
            for row in conn.execute(select(*columns).order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
                digest.update(b"\n")
            out[table.name] = digest.hexdigest()[:16]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    for options in CASES:
        with tempfile.TemporaryDirectory() as tmp, _app(args.db, Path(tmp)) as app:
            result = DemoLoader(app.ctx, app.users.hasher).load(options, PASSWORD)
            summary = {k: v for k, v in dataclasses.asdict(result).items() if k != "seconds"}
            print(f"{args.db} {options}")
            print(f"  result {hashlib.sha256(repr(summary).encode()).hexdigest()[:16]}"
                  f" ({result.reservations} reservations, {result.activity_rows} activity rows)")
            for table, digest in fingerprint(app).items():
                print(f"  {table:<16} {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
