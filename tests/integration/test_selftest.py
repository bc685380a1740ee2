"""``main.py --self-test`` from the source tree: one line per check, exit 0 when all pass; a
broken installation (here: no templates folder) exits 1 and names what is wrong."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from parking_desktop.adapters.db.schema_version import HEAD_REVISION
from parking_desktop.selftest import CHECKS, run_self_test

ROOT = Path(__file__).resolve().parents[2]
NAMES = [name for name, _ in CHECKS]


def self_test(main: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "PARKING_"))}
    # The site's settings must not matter: an unreachable database changes nothing.
    env["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/nowhere"
    env.pop("QT_QPA_PLATFORM", None)  # the self-test chooses offscreen by itself
    return subprocess.run([sys.executable, str(main), "--self-test"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=240)


def lines_of(output: str) -> dict[str, str]:
    """check name -> its status word ('ok' or 'FAIL')."""
    found = {}
    for line in output.splitlines():
        status, _, rest = line.partition("  ")
        name = rest.strip().partition(":")[0]
        if status in ("ok", "FAIL") and name:
            found[name] = status
    return found


@pytest.mark.slow
def test_self_test_passes_and_reports_every_check(tmp_path: Path) -> None:
    result = self_test(ROOT / "main.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines_of(result.stdout) == {name: "ok" for name in NAMES}
    assert "Traceback" not in result.stdout + result.stderr
    out = result.stdout
    assert "7 mail templates rendered" in out
    assert "made with the DejaVu Sans font embedded" in out
    assert "a receipt printed to a PDF file" in out
    # The head revision (test_migrations checks it is Alembic's), not the highest file name:
    # revisions merged from parallel branches are chained, not renumbered.
    assert f"migrated to {HEAD_REVISION};" in out and "created a lot with 3 spots" in out
    assert "psycopg" in out and "binary layer" in out
    assert "keyring: backend " in out
    assert re.search(r"the main window with its \d+ screens and the kiosk \(1 lot\) opened", out)
    assert out.rstrip().endswith(f"Self-test passed: {len(NAMES)} checks.")


@pytest.mark.slow
def test_a_build_without_templates_fails_and_says_why(tmp_path: Path) -> None:
    """The mistake a packaging change makes: the program without its templates folder."""
    tree = tmp_path / "app"
    tree.mkdir()
    shutil.copytree(ROOT / "parking_desktop", tree / "parking_desktop",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "resources", tree / "resources")
    shutil.copy(ROOT / "main.py", tree / "main.py")

    result = self_test(tree / "main.py", cwd=tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAIL  mail templates: the templates folder {tree / 'templates'} is missing" in (
        result.stdout)
    assert lines_of(result.stdout) == {
        name: "FAIL" if name == "mail templates" else "ok" for name in NAMES}
    assert result.stdout.rstrip().endswith(
        f"Self-test FAILED: 1 of {len(NAMES)} checks (mail templates).")
    assert "Traceback" not in result.stdout + result.stderr


def run_in_process(templates: Path) -> tuple[int, str]:
    out = io.StringIO()
    code = run_self_test(out, templates_dir=templates, windows=False)
    return code, out.getvalue()


def test_missing_templates_are_named(tmp_path: Path) -> None:
    partial = tmp_path / "templates"
    partial.mkdir()
    for name in ("_layout.html", "_layout.txt", "daily_reminder.html", "daily_reminder.txt"):
        shutil.copy(ROOT / "templates" / name, partial / name)

    code, out = run_in_process(partial)

    assert code == 1
    assert (f"FAIL  mail templates: mail templates missing from {partial}: export_ready, "
            "monthly_report, no_show, receipt, system_alert, test_message") in out
    assert "ok    database:" in out  # the other checks still ran


def test_a_template_without_sample_values_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    (folder / "welcome.html").write_text("<!doctype html><p>Hi</p>", encoding="utf-8")
    (folder / "welcome.txt").write_text("Hi", encoding="utf-8")

    code, out = run_in_process(folder)

    assert code == 1
    assert "FAIL  mail templates: no sample values for the template(s) welcome" in out


def test_a_template_that_breaks_is_reported_with_its_error(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", folder)
    (folder / "daily_reminder.txt").write_text("Hello {{ nobody_passes_this }}", encoding="utf-8")

    code, out = run_in_process(folder)

    assert code == 1
    assert "FAIL  mail templates: UndefinedError: 'nobody_passes_this' is undefined" in out
