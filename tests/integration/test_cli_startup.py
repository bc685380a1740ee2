"""A one-shot command loads only what it uses: `--help` and `lots --json` start without Qt,
Alembic, APScheduler, Jinja2, css-inline or the demo builder (each costs a noticeable part of a
second at every start). Checked in real processes, on what they imported by the time they
exited - behaviour, not timing. Alembic still runs when the schema needs an upgrade."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from parking_desktop.adapters.db import migrate, schema_version
from parking_desktop.adapters.db.engine import make_engine
from parking_desktop.bootstrap import build_app
from parking_desktop.config import load_settings
from parking_desktop.domain.roles import SYSTEM

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("PySide6", "alembic", "apscheduler", "jinja2", "css_inline",
         "parking_desktop.services.demo.demo", "parking_desktop.jobs.scheduler")

# Runs main.py as `python main.py ARGS` would, then prints the modules loaded at exit.
WRAPPER = """
import atexit, json, runpy, sys
atexit.register(lambda: sys.stderr.write("MODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
sys.argv = [sys.argv[1], *sys.argv[2:]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def loaded(*args: str, data_dir: Path) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    environ = {**os.environ, "PARKING_PASSWORD": "start-up-Pass-1"}
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(ROOT / "main.py"), "--data-dir", str(data_dir),
         *args], capture_output=True, text=True, env=environ, cwd=data_dir.parent,
        stdin=subprocess.DEVNULL, timeout=300)
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return done, set(json.loads(line.removeprefix("MODULES ")))


def heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in HEAVY
                  if any(m == name or m.startswith(name + ".") for m in modules))


def test_help_loads_none_of_the_heavy_packages(tmp_path: Path) -> None:
    done, modules = loaded("--help", data_dir=tmp_path / "data")
    assert done.returncode == 0 and "lots" in done.stdout
    assert heavy(modules) == []
    assert "sqlalchemy" not in modules  # the parser needs no database code at all


def test_lots_json_loads_none_of_the_heavy_packages(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # A new database: this first run creates the schema, so it does load Alembic ...
    first, modules = loaded("lots", "--json", data_dir=data)
    assert first.returncode == 0, first.stderr
    assert "alembic" in modules
    # ... and a later one, on a current schema, does not.
    done, modules = loaded("lots", "--json", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert heavy(modules) == []


def test_a_cached_lot_list_is_served_without_database_code(tmp_path: Path) -> None:
    data = tmp_path / "data"
    loaded("lots", "--json", data_dir=data)  # creates the schema and fills the cache
    done, modules = loaded("lots", "--json", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert "sqlalchemy" not in modules  # the cache alone answered
    assert "parking_desktop.adapters.db.plain" not in modules

    # A write drops the cached list: the next run reads the database and shows the new lot,
    # over the plain DB-API (services/parking/lot_list.py), still without SQLAlchemy.
    app = build_app(load_settings(data_dir=data))
    try:
        app.lots.create(SYSTEM, name="Harbour", address="1 Quay", pin_code="PIN01",
                        price_per_hour=Decimal("2.50"), number_of_spots=3)
    finally:
        app.close()
    done, modules = loaded("lots", "--json", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert [(lot["name"], lot["free"]) for lot in json.loads(done.stdout)] == [("Harbour", 3)]
    assert "sqlalchemy" not in modules and "parking_desktop.adapters.db.plain" in modules
    done, modules = loaded("lots", "--json", data_dir=data)  # cached again
    assert [lot["name"] for lot in json.loads(done.stdout)] == ["Harbour"]
    assert "sqlalchemy" not in modules


def test_a_schema_behind_head_is_upgraded_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'parking.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine, "0003")
    engine.dispose()
    done, modules = loaded("lots", "--json", data_dir=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    assert "alembic" in modules
    engine = make_engine(url)
    try:
        assert schema_version.stored_revisions(engine) == [schema_version.HEAD_REVISION]
    finally:
        engine.dispose()


@pytest.mark.parametrize("stored", [None, "0003"])
def test_is_current_only_at_head(tmp_path: Path, stored: str | None) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'parking.db'}")
    try:
        if stored is not None:
            migrate.upgrade(engine, stored)
        assert not schema_version.is_current(engine)
        migrate.upgrade(engine)
        assert schema_version.is_current(engine)
    finally:
        engine.dispose()
