"""``main.py export`` on SQLite and PostgreSQL: the same file as the service, refusals in one
line with exit code 1, and the progress bar on a terminal."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from parking_desktop.bootstrap import App
from parking_desktop.cli.main import run
from parking_desktop.domain.clock import FixedClock
from parking_desktop.domain.roles import SYSTEM, Actor
from tests.integration.export_support import LOT_A, build_history, cells


@pytest.fixture
def cli(app: App, manager: Actor, attendant: Actor, clock: FixedClock):  # type: ignore[no-untyped-def]
    build_history(app, manager, attendant, clock)
    base = ["--db", app.settings.database_url, "--data-dir", str(app.settings.data_dir)]

    def invoke(*args: str) -> int:
        return run([*base, *args])

    return invoke


def test_export_all_lot_and_user(cli, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "all.csv"
    assert cli("export", "--out", str(out), "--all") == 0
    assert "Exported 5 rows (All reservations)" in capsys.readouterr().out
    rows = cells(out.read_bytes())
    assert rows[0][-1] == "Driver" and len(rows) == 6
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")

    lot = tmp_path / "lot.csv"
    assert cli("export", "--out", str(lot), "--lot", LOT_A, "--anonymize") == 0
    assert [r[4] for r in cells(lot.read_bytes())[1:]] == ["****CD", "**55"]

    mine = tmp_path / "mine.csv"
    assert cli("export", "--out", str(mine), "--user", "sumdriver", "--from", "2026-03-29",
               "--to", "2026-03-29") == 0
    assert [r[0] for r in cells(mine.read_bytes())[1:]] == ["5"]


def test_the_file_is_the_historys_copy_private_and_its_saving_recorded(  # type: ignore[no-untyped-def]
        cli, app: App, tmp_path: Path) -> None:
    # --out is written as the export is made, not copied from the finished one afterwards:
    # the result is the same two files, and the same history.
    out = tmp_path / "all.csv"
    out.write_bytes(b"an older export")
    out.chmod(0o600)
    assert cli("export", "--out", str(out), "--all") == 0
    job = app.exports.history(SYSTEM)[0]
    assert job.status == "completed" and job.row_count == 5 and job.file_path
    kept = Path(job.file_path)
    assert out.read_bytes() == kept.read_bytes() and len(cells(out.read_bytes())) == 6
    for path in (out, kept):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    saved = [a for a in app.activity.history(SYSTEM, limit=50).items
             if a.activity_type == "csv_export_downloaded"]
    assert len(saved) == 1 and saved[0].activity_data["to"] == str(out)


@pytest.mark.parametrize(("args", "message"), [
    (["--lot", "Nowhere"], "no active parking lot named 'Nowhere'"),
    (["--user", "nobody"], "nobody"),
    (["--all", "--from", "2026-02-30"], "is not a date"),
    (["--all", "--from", "2026-03-05", "--to", "2026-03-01"], "start date must be on or before"),
])
def test_refusals_are_one_line(cli, tmp_path: Path, capsys, args: list[str],  # type: ignore[no-untyped-def]
                               message: str) -> None:
    out = tmp_path / "x.csv"
    assert cli("export", "--out", str(out), *args) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_missing_folder_and_missing_scope(cli, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli("export", "--out", str(tmp_path / "no" / "x.csv"), "--all") == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli("export", "--out", str(tmp_path / "x.csv"))
    assert exit_info.value.code == 2


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert cli("export", "--out", str(tmp_path / "x.csv"), "--all") == 0
    shown = terminal.getvalue()
    assert "\rExporting [" in shown and "100%  5 of 5 rows" in shown and shown.endswith("\n")
