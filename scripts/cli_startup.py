#!/usr/bin/env python3
"""CLI start-up: `main.py --help` and `main.py lots --json` as whole processes against
`python -c pass` (the interpreter's own start) in the same run, then `python -X importtime`
of both (the quickest of three traced runs): the time spent importing and the packages that
take it.

    .venv/bin/python scripts/cli_startup.py [--repeat 10] [--data-dir DIR | --db URL]

Without --data-dir/--db a small demo database is made in a temporary folder (start-up does
not depend on the data's size; `lots --json` reads only the lots). One unmeasured run of each
command comes first (compiled bytecode, the page cache); then the commands take turns, so a
busy moment on the machine weighs on all of them. `lots --json` is measured twice: as it
runs again and again (its list served by the cache, which it opens before any database code)
and right after `main.py cache clear` (not timed; the list read from the database, over the
plain DB-API when the schema is current: services/parking/lot_list.py). Aims: `lots --json`
<= 0.35 s and `--help` <= 0.15 s. Figures only: it never fails on time."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from benchlib import (
    Results,
    add_common_arguments,
    app_env,
    checked,
    duration,
    main_command,
    run_process,
)

AIMS = {"--help": 0.15, "lots --json": 0.35}


def import_times(stderr: str) -> tuple[float, list[tuple[str, float]]]:
    """Total import seconds (the outermost imports' cumulative times) and each top-level
    package's own share (the sum of its modules' self times, wherever they were imported
    from), from ``-X importtime`` (``import time: self [us] | cumulative | name``)."""
    total = 0.0
    per_package: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line.split(":", 1)[1].split("|")
        per_package[name.strip().split(".")[0]] += int(own) / 1e6
        if not name.startswith("  "):  # nested ones are inside their parent's cumulative
            total += int(cumulative) / 1e6
    top = sorted(per_package.items(), key=lambda item: -item[1])
    return total, top


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="data folder (default: a small demo)")
    parser.add_argument("--db", help="database URL")
    add_common_arguments(parser, repeat=10)
    args = parser.parse_args()
    results = Results("cli_startup", args.results)
    results.header()

    with tempfile.TemporaryDirectory(prefix="pd-bench-cli-") as tmp:
        data_dir = args.data_dir or Path(tmp)
        where = ["--data-dir", str(data_dir)] + (["--db", args.db] if args.db else [])
        env = app_env()
        if args.data_dir is None and args.db is None:
            checked(run_process(main_command(*where, "demo", "--drivers", "50", "--days", "3"),
                                env={**env, "PARKING_PASSWORD": "bench-password-1"}),
                    "main.py demo")
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "--help": main_command("--help"),
            "lots --json": main_command(*where, "lots", "--json"),
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        memory: dict[str, float] = {}
        for name, command in commands.items():  # warm-up, unmeasured
            checked(run_process(command, env=env), name)
        # The same command after `cache clear` (not timed): the lot list read from the
        # database (plain DB-API, services/parking/lot_list.py) - what a first run after any
        # write costs. A cached run opens only the cache (services/cache/peek.py).
        uncached = "lots --json, cache cleared"
        clear = main_command(*where, "cache", "clear")
        samples[uncached] = []
        for _ in range(args.repeat):
            for name, command in commands.items():
                done = checked(run_process(command, env=env), name)
                samples[name].append(done.seconds)
                memory[name] = max(memory.get(name, 0.0), done.peak_rss_mb)
            checked(run_process(clear, env=env), "main.py cache clear")
            done = checked(run_process(commands["lots --json"], env=env), uncached)
            samples[uncached].append(done.seconds)
            memory[uncached] = max(memory.get(uncached, 0.0), done.peak_rss_mb)

        reference = samples["python -c pass"]
        for name in ("--help", "lots --json", uncached):
            results.compare(f"main.py {name}, whole process", samples[name],
                            "python -c pass", reference)
            median = sorted(samples[name])[len(samples[name]) // 2]
            aim = AIMS.get(name, AIMS["lots --json"])
            results.note(f"main.py {name}: peak RSS {memory[name]:.0f} MB; aim <= "
                         f"{aim} s ({'met' if median <= aim else 'NOT met'} by the median)")
        results.note(f"python -c pass: peak RSS {memory['python -c pass']:.0f} MB")

        for name in ("--help", "lots --json", uncached):
            command = commands.get(name, commands["lots --json"])

            def trace(name: str = name, command: list[str] = command) -> str:
                if name == uncached:  # every traced run of it reads the database
                    checked(run_process(clear, env=env), "main.py cache clear")
                return checked(run_process([command[0], "-X", "importtime", *command[1:]],
                                           env=env), f"importtime {name}").stderr

            # The quickest of a few traced runs: tracing is noisy on a busy machine.
            traced = [import_times(trace()) for _ in range(min(3, args.repeat))]
            total, top = min(traced, key=lambda t: t[0])
            base_total = min(import_times(checked(run_process(
                [sys.executable, "-X", "importtime", "-c", "pass"], env=env),
                "importtime pass").stderr)[0] for _ in range(min(3, args.repeat)))
            results.add(f"imports (-X importtime), main.py {name}", duration(total),
                        "imports of python -c pass", duration(base_total),
                        f"{total / base_total:.0f}x" if base_total else "—")
            biggest = ", ".join(f"{pkg} {duration(s)}" for pkg, s in top[:8])
            results.note(f"main.py {name} imports, own import time by package: {biggest}")
    results.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
