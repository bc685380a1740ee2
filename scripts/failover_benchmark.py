"""How long a kiosk and the worker take to notice a lost database and to carry on.

Each round builds a private primary and its streaming standby (tests/pg_clusters.py: initdb,
pg_basebackup -R, both on free ports of 127.0.0.1), then:

1. **failover** — a worker and a kiosk process (tests/integration/failover_support.py: the
   kiosk's App and connection monitor with the real heartbeat settings, checking cars in and out
   in a loop) run on the two-host URL; the primary is stopped with ``pg_ctl stop -m immediate``
   and the standby promoted. Measured from the crash: the kiosk noticing (its monitor says
   offline), the kiosk back online, its first booking on the new primary, and the worker's
   "database back" line. Reference: ``pg_ctl promote -w`` itself, the floor for any reconnection.
2. **cable** — a kiosk process through a TCP proxy to the new primary; the proxy stops
   forwarding without closing anything (a pulled cable: nothing fails, nothing answers), then
   forwards again. Measured: from the freeze to "offline" (the promise: within 3 s, the
   heartbeat interval plus its deadline), and from the thaw to "online".
3. **cut** — the same proxy closes every connection (a switch reboots, a server restarts):
   from the cut to "offline", and from the restore to "online".

Figures only, never a pass/fail: python scripts/failover_benchmark.py [--repeat N]."""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import Results, add_common_arguments  # noqa: E402

from parking_desktop.services.kiosks.heartbeats import HEARTBEAT_SECONDS  # noqa: E402
from parking_desktop.services.kiosks.monitor import DEADLINE_SECONDS  # noqa: E402
from tests.integration.failover_support import (  # noqa: E402
    FreezableProxy,
    KioskProcess,
    seed_site,
)
from tests.integration.hardening_support import Worker  # noqa: E402
from tests.pg_clusters import (  # noqa: E402
    create_database,
    primary_and_standby,
    server_bindir,
)

BEAT = (HEARTBEAT_SECONDS, DEADLINE_SECONDS)  # what a real kiosk uses
NAN = float("nan")


class Seen:
    """When each of some lines first appeared on a worker's stderr (polled every 20 ms)."""

    def __init__(self, worker: Worker, texts: list[str]) -> None:
        self.at: dict[str, float] = {}
        self._stop = threading.Event()

        def watch() -> None:
            while not self._stop.wait(0.02):
                for text in texts:
                    if text not in self.at and any(text in line for line in worker.lines):
                        self.at[text] = time.time()

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


def wait(condition: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


def since(event: dict[str, Any] | None, moment: float) -> float:
    return event["at"] - moment if event else NAN


def one_round(bindir: Path, folder: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    with primary_and_standby(bindir) as pair:
        create_database(pair, "parking")
        url = pair.url("parking")
        app = seed_site(url, folder / "seed")
        worker = Worker(folder / "worker", url, {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": "9"})
        kiosk = KioskProcess(url, folder / "kiosk", beat=BEAT)
        seen = Seen(worker, ["database unreachable since", "database back"])
        try:
            if not (
                worker.wait_for("Worker running", 120) and wait(lambda: kiosk.count("ok") >= 5, 120)
            ):
                raise RuntimeError(f"not started: {worker.stderr[-500:]} {kiosk.errors[-5:]}")
            pair.wait_replayed()
            crashed = time.time()
            pair.crash_primary()
            started = time.perf_counter()
            pair.promote_standby()
            figures["promote"] = time.perf_counter() - started
            wait(lambda: kiosk.count("ok", after=crashed) >= 3, 120)
            wait(lambda: "database back" in seen.at, 40)  # it may never have noticed
            figures["kiosk offline"] = since(kiosk.first("offline", crashed), crashed)
            figures["kiosk online"] = since(kiosk.first("online", crashed), crashed)
            figures["kiosk booking"] = since(kiosk.first("ok", crashed), crashed)
            figures["worker back"] = (
                seen.at["database back"] - crashed if "database back" in seen.at else NAN
            )
        finally:
            seen.stop()
            kiosk.stop()
            worker.terminate(60)
            worker.kill()
            app.close()

        proxy = FreezableProxy(pair.standby.port).start()  # the new primary
        proxied = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/parking"
        kiosk = KioskProcess(proxied, folder / "kiosk-proxied", beat=BEAT)
        try:
            wait(lambda: kiosk.count("ok") >= 5, 120)
            for name, lose, restore in (
                ("cable", proxy.freeze, proxy.thaw),
                ("cut", proxy.cut, proxy.restore),
            ):
                time.sleep(1.0)
                lost = time.time()
                lose()
                wait(lambda t=lost: kiosk.first("offline", t) is not None, 30)
                figures[f"{name} offline"] = since(kiosk.first("offline", lost), lost)
                time.sleep(1.0)
                back = time.time()
                restore()
                wait(lambda t=back: kiosk.first("online", t) is not None, 60)
                figures[f"{name} online"] = since(kiosk.first("online", back), back)
        finally:
            proxy.thaw()
            kiosk.stop()
            proxy.cut()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser, repeat=3)
    args = parser.parse_args()
    bindir = server_bindir()
    if bindir is None:
        print("the PostgreSQL server programs (initdb, pg_ctl, pg_basebackup) are not installed")
        return 1
    results = Results("failover_benchmark", args.results)
    results.header()
    rounds: list[dict[str, float]] = []
    for number in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="failover-bench-") as folder:
            figures = one_round(bindir, Path(folder))
        rounds.append(figures)
        print(f"round {number + 1}: " + ", ".join(f"{k} {v:.2f} s" for k, v in figures.items()))

    def column(name: str) -> list[float]:
        values = [r[name] for r in rounds if not math.isnan(r.get(name, NAN))]
        return values or [NAN]

    promote = column("promote")
    promise = [sum(BEAT)]
    results.compare(
        "failover: kiosk notices (from the crash)",
        column("kiosk offline"),
        "heartbeat interval + deadline",
        promise,
    )
    results.compare(
        "failover: kiosk back online", column("kiosk online"), "pg_ctl promote -w", promote
    )
    results.compare(
        "failover: kiosk's first booking on the new primary",
        column("kiosk booking"),
        "pg_ctl promote -w",
        promote,
    )
    results.compare(
        "failover: worker logs 'database back'", column("worker back"), "pg_ctl promote -w", promote
    )
    results.compare(
        "pulled cable: kiosk notices",
        column("cable offline"),
        "heartbeat interval + deadline",
        promise,
    )
    results.compare(
        "pulled cable: kiosk back online", column("cable online"), "heartbeat interval", [BEAT[0]]
    )
    results.compare(
        "cut connection: kiosk notices",
        column("cut offline"),
        "heartbeat interval + deadline",
        promise,
    )
    results.compare(
        "cut connection: kiosk back online", column("cut online"), "heartbeat interval", [BEAT[0]]
    )
    missed = sum(1 for r in rounds if math.isnan(r.get("worker back", NAN)))
    results.note(
        f"{len(rounds)} round(s); heartbeat every {BEAT[0]:g} s, missed after "
        f"{BEAT[1]:g} s more. The worker probes a healthy database every 5 s: in "
        f"{missed} round(s) the promotion came before its probe, so it never saw an "
        "outage (its next query simply went to the new primary)."
    )
    results.finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
