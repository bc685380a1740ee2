"""`cache info [--json]`, `cache clear` and `stats --timings` on a real data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parking_desktop.cli.main import run
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM
from tests.integration.cache_support import build


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, str]:
    data = tmp_path / "data"
    return data, f"sqlite:///{data / 'parking.db'}"


def cli(capsys: pytest.CaptureFixture[str], folder: tuple[Path, str], *argv: str) -> str:
    data, url = folder
    code = run(["--data-dir", str(data), "--db", url, *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def use_the_app(folder: tuple[Path, str], clock: FixedClock) -> None:
    """Another program on this machine (the desktop, say) reads through the cache."""
    app = build(folder[0], folder[1], clock)
    try:
        app.lots.create(SYSTEM, name="Central", address="1 Main St", pin_code="CEN01",
                        price_per_hour="2.50", number_of_spots=4)
        for _ in range(3):
            app.lots.search()
        app.stats.dashboard(SYSTEM)
    finally:
        app.close()


def test_cache_info_json_shows_the_machines_figures(
    capsys: pytest.CaptureFixture[str], folder: tuple[Path, str], clock: FixedClock
) -> None:
    empty = json.loads(cli(capsys, folder, "cache", "info", "--json"))
    assert (empty["entries"], empty["hits"], empty["misses"]) == (0, 0, 0)
    assert empty["ok"] is True
    assert empty["ttl_seconds"]["lots"] == 300
    assert empty["ttl_seconds"]["user_reservations"] == 120

    use_the_app(folder, clock)
    info = json.loads(cli(capsys, folder, "cache", "info", "--json"))
    # The dashboard misses twice: itself and its closed-hours charts (cached apart).
    assert (info["entries"], info["hits"], info["misses"]) == (3, 2, 3)
    assert info["hit_ratio"] == 0.4
    assert info["size_bytes"] > 0


def test_cache_info_table_and_clear(
    capsys: pytest.CaptureFixture[str], folder: tuple[Path, str], clock: FixedClock
) -> None:
    use_the_app(folder, clock)
    table = cli(capsys, folder, "cache", "info")
    assert "Entries" in table and "Hit ratio" in table and "40.0 %" in table
    assert cli(capsys, folder, "cache", "clear").strip() == "Cache cleared: 3 entries removed."
    after = json.loads(cli(capsys, folder, "cache", "info", "--json"))
    assert after["entries"] == 0
    assert after["hits"] == 2  # counters describe the past; clearing keeps them


def test_a_damaged_cache_is_reported_and_cleared(
    capsys: pytest.CaptureFixture[str], folder: tuple[Path, str], clock: FixedClock
) -> None:
    use_the_app(folder, clock)
    (folder[0] / "cache" / "data" / "cache.db").write_bytes(b"garbage" * 100)
    info = json.loads(cli(capsys, folder, "cache", "info", "--json"))
    assert info["ok"] is False and "damaged" in info["status"]
    assert "Cache cleared" in cli(capsys, folder, "cache", "clear")
    assert json.loads(cli(capsys, folder, "cache", "info", "--json"))["ok"] is True


def test_cache_without_an_action_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], folder: tuple[Path, str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(["--data-dir", str(folder[0]), "cache"])
    assert exit_info.value.code == 2
    assert "required" in capsys.readouterr().err


def test_stats_timings_lists_operations_of_every_process_on_the_machine(
    capsys: pytest.CaptureFixture[str], folder: tuple[Path, str], clock: FixedClock
) -> None:
    use_the_app(folder, clock)
    rows = json.loads(cli(capsys, folder, "stats", "--timings", "--json"))
    by_name = {row["name"]: row for row in rows}
    assert by_name["lots.search"]["count"] == 3
    assert by_name["lots.search:uncached"]["count"] == 1
    assert by_name["stats.dashboard"]["count"] == 1
    assert by_name["lots.create"]["errors"] == 0
    assert by_name["lots.search"]["max_ms"] >= by_name["lots.search"]["median_ms"] > 0
    table = cli(capsys, folder, "stats", "--timings")
    assert "Operation" in table and "95% ms" in table and "lots.search" in table
