"""Mail throughput: N mails to a local aiosmtpd server over one reused SMTP connection against
a new connection per mail, in the same run, measured two ways:

1. transport: N ready-built messages through SmtpTransport, only SMTP and the connection:
   the reference, the speed of the wire. Each is the rendered reminder of its own recipient,
   built beforehand (not timed) into the very bytes the outbox puts on the wire for it;

2. outbox: N queued mails through the real dispatcher (claim, build the message, send, mark
   sent in windows) on a fresh database, timed from the dispatcher's start to its end. The
   mails are queued the way the scheduled jobs do it: each one rendered from its template for
   its own recipient (``build_daily_reminder``), then stored with ``enqueue_many`` in batches
   of 1,000 (the mails carry no user id: the scratch database has no drivers).

The modes take turns over ``--repeat`` rounds; min and median per round are shown, with the
load average at the start and the end.

    .venv/bin/python scripts/mail_throughput.py            # 10,000 mails each way, SQLite
    .venv/bin/python scripts/mail_throughput.py --count 2000 --pg-scratch

``--pg-scratch`` uses a PostgreSQL database ``pd_bench_mail_<pid>``, dropped at the end.
Figures only: it never fails on time."""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from benchlib import Results, add_common_arguments, scratch_pg  # noqa: E402

from parking_desktop.bootstrap import App, build_app  # noqa: E402
from parking_desktop.config import load_settings  # noqa: E402
from parking_desktop.services.mail.batches import Recipient  # noqa: E402
from parking_desktop.services.mail.outbox import OutboxService  # noqa: E402


class CountingHandler:
    """Counts in shared memory: the server runs in its own process, like a real relay (in the
    same process it would compete with the client for the GIL and slow both down)."""

    def __init__(self, messages: Any, connections: Any) -> None:
        self._messages = messages
        self._connections = connections

    @property
    def messages(self) -> int:
        return int(self._messages.value)

    @property
    def connections(self) -> int:
        return int(self._connections.value)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        with self._connections.get_lock():
            self._connections.value += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._messages.get_lock():
            self._messages.value += 1
        return "250 OK"


def serve(port: int, messages: Any, connections: Any, ready: Any, stop: Any) -> None:
    controller = Controller(CountingHandler(messages, connections), hostname="127.0.0.1",
                            port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_app(folder: Path, db_url: str | None, port: int) -> App:
    environ = {"APP_TIMEZONE": "UTC", "SCHEDULER_ENABLED": "false", "MAIL_SERVER": "127.0.0.1",
               "MAIL_PORT": str(port), "MAIL_DEFAULT_SENDER": "parking@example.com"}
    settings = load_settings(data_dir=folder, database_url=db_url, environ=environ,
                             dotenv_path=folder / "none.env")
    return build_app(settings)


def clear_outbox(app: App) -> None:
    from sqlalchemy import delete

    from parking_desktop.adapters.db.models_mail import EmailOutbox

    with app.db.write() as session:
        session.execute(delete(EmailOutbox))


def queue(app: App, count: int, tag: str) -> float:
    """Render one mail per recipient and store them in batches, like the scheduled jobs."""
    started = time.perf_counter()
    for start in range(0, count, 1000):
        batch = [dataclasses.replace(app.email.build_daily_reminder(
                    Recipient(user_id=n + 1, username=f"driver{n}",
                              email=f"driver{n}@example.com", full_name=f"Driver {n}"),
                    4, key=f"{tag}:{n}"), user_id=None)
                 for n in range(start, min(count, start + 1000))]
        app.email.outbox.enqueue_many(batch)
    return time.perf_counter() - started


def deliver(app: App, handler: CountingHandler, reuse: bool) -> tuple[float, int, int]:
    base = app.email.outbox
    outbox = OutboxService(app.ctx, base._transport_factory, base._sender, batch_size=200,
                           reuse_connection=reuse)
    before_msgs, before_conns = handler.messages, handler.connections
    started = time.perf_counter()
    report = outbox.dispatch()
    elapsed = time.perf_counter() - started
    if report.failed or report.retrying:
        raise SystemExit(f"delivery failed: {report.errors}")
    return elapsed, handler.messages - before_msgs, handler.connections - before_conns


def transport_run(app: App, port: int, handler: CountingHandler, count: int,
                  reuse: bool) -> float:
    """Ready-built messages of the same content and size as the outbox sends (the rendered
    reminder), so the wire carries the same bytes; building them is not timed."""
    from datetime import UTC, datetime

    from parking_desktop.adapters.mail.message import build_raw, date_header, from_header
    from parking_desktop.adapters.mail.transport import SmtpConfig, SmtpTransport

    config = SmtpConfig(host="127.0.0.1", port=port, sender="parking@example.com", timeout=30)
    recipients = [Recipient(user_id=n + 1, username=f"driver{n}", email=f"d{n}@example.com",
                            full_name=f"Driver {n}") for n in range(count)]
    rendered = [app.email.build_daily_reminder(r, 4, key=f"t{n}")
                for n, r in enumerate(recipients)]
    sender, date = from_header("parking@example.com"), date_header(datetime.now(UTC))
    messages = [build_raw(sender_header=sender, recipient=m.recipient, subject=m.subject,
                          text=m.text, html=m.html or "", message_id=f"<bench{n}@example.com>",
                          date_header=date)
                for n, m in enumerate(rendered)]
    before = handler.messages
    started = time.perf_counter()
    transport = SmtpTransport(config, lambda: None)
    for message in messages:
        transport.send(message)
        if not reuse:
            transport.close()
    transport.close()
    elapsed = time.perf_counter() - started
    assert handler.messages - before == count
    return elapsed


MODES = (("reused connection", True), ("connection per mail", False))


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>7,.0f} mails/s ({seconds:6.1f} s)"


def per_thousand(samples: list[tuple[int, float]]) -> list[float]:
    """Seconds per 1,000 mails of each round."""
    return [seconds * 1000 / count for count, seconds in samples if count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="mails per mode")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    where.add_argument("--pg-scratch", action="store_true",
                       help="a PostgreSQL database pd_bench_mail_<pid>, dropped at the end")
    add_common_arguments(parser, repeat=10)  # rounds in which the modes take turns
    args = parser.parse_args()
    results = Results("mail_throughput", args.results)
    results.header()
    rounds = max(1, min(args.repeat, args.count))
    per_round = [args.count // rounds + (1 if r < args.count % rounds else 0)
                 for r in range(rounds)]

    context = multiprocessing.get_context("spawn")
    handler = CountingHandler(context.Value("l", 0), context.Value("l", 0))
    ready, stop = context.Event(), context.Event()
    port = free_port()
    server = context.Process(target=serve, daemon=True, args=(
        port, handler._messages, handler._connections, ready, stop))
    server.start()
    if not ready.wait(30):
        raise SystemExit("the SMTP server did not start")
    seconds = {("transport", mode): 0.0 for mode, _ in MODES}
    seconds.update({("outbox", mode): 0.0 for mode, _ in MODES})
    samples: dict[tuple[str, str], list[tuple[int, float]]] = {key: [] for key in seconds}
    queue_seconds = 0.0
    connections = dict.fromkeys((mode for mode, _ in MODES), 0)
    print(f"{args.count:,} mails per mode in {rounds} alternating rounds")
    try:
        with ExitStack() as stack:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="pd-bench-mail-"))
            url = stack.enter_context(scratch_pg("mail")) if args.pg_scratch else args.db
            app = make_app(Path(tmp), url, port)
            try:
                for number, count in enumerate(per_round):
                    order = MODES if number % 2 == 0 else MODES[::-1]
                    for mode, reuse in order:
                        took = transport_run(app, port, handler, count, reuse)
                        seconds[("transport", mode)] += took
                        samples[("transport", mode)].append((count, took))
                    for mode, reuse in order:
                        clear_outbox(app)
                        queue_seconds += queue(app, count, f"{mode}:{number}")
                        elapsed, delivered, opened = deliver(app, handler, reuse)
                        assert delivered == count, (delivered, count)
                        seconds[("outbox", mode)] += elapsed
                        samples[("outbox", mode)].append((count, elapsed))
                        connections[mode] += opened
                print(f"database: {app.db.description}")
            finally:
                app.close()
    finally:
        stop.set()
        server.join(30)
    for layer, title in (("transport", "1. transport only (ready-built messages)"),
                         ("outbox", "2. outbox dispatcher (claim, build, send, mark sent)")):
        print(title)
        for mode, _ in MODES:
            extra = (f", {connections[mode]:,} SMTP connections" if layer == "outbox" else "")
            print(f"  {mode:<20} {_rate(args.count, seconds[(layer, mode)])}{extra}")
        ratio = seconds[(layer, "connection per mail")] / seconds[(layer, "reused connection")]
        print(f"  reused connection: {ratio:.2f}x the throughput of a connection per mail")
    queue_rate = 2 * args.count / queue_seconds
    print(f"queueing (render per recipient, enqueue_many): {queue_rate:,.0f} mails/s")
    reused, per_mail = MODES[0][0], MODES[1][0]
    results.compare("outbox dispatch, reused connection (s per 1,000 mails)",
                    per_thousand(samples[("outbox", reused)]),
                    "bare transport, reused connection",
                    per_thousand(samples[("transport", reused)]))
    results.compare("outbox dispatch, connection per mail (s per 1,000 mails)",
                    per_thousand(samples[("outbox", per_mail)]),
                    "outbox dispatch, reused connection",
                    per_thousand(samples[("outbox", reused)]))
    outbox_rate = args.count / seconds[("outbox", reused)]
    wire_rate = args.count / seconds[("transport", reused)]
    results.note(f"outbox {outbox_rate:,.0f} mails/s = {outbox_rate / wire_rate:.2f} x the bare "
                 f"transport's {wire_rate:,.0f} mails/s (aim >= 0.75); queueing, rendered per "
                 f"recipient: {queue_rate:,.0f} mails/s; {args.count:,} mails per mode")
    results.finish()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
