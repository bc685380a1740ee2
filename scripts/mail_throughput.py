"""Mail throughput: N mails to a local aiosmtpd server over one reused SMTP connection against
a new connection per mail, in the same run, measured two ways:

1. transport: N ready-built messages through SmtpTransport (only SMTP and the connection);
2. outbox: N queued mails through the real dispatcher (claim, build the MIME message, send,
   mark each one sent in its own transaction) on a fresh database.

    .venv/bin/python scripts/mail_throughput.py            # 10,000 mails each way, SQLite
    .venv/bin/python scripts/mail_throughput.py --count 2000 --db postgresql://postgres@127.0.0.1/x

Figures only: it never fails on time. The load average is printed because the machine's other
work shows in the figures."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402

from parking_desktop.bootstrap import App, build_app  # noqa: E402
from parking_desktop.config import load_settings  # noqa: E402
from parking_desktop.services.outbox import OutboxService, OutgoingMail  # noqa: E402


class CountingHandler:
    def __init__(self) -> None:
        self.messages = 0
        self.connections = 0

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        return "250 OK"


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
    body = app.email.renderer.render("daily_reminder", site_name="Parking Desktop", subject="",
                                     name="Driver", parking_lots_count=4)
    mails = [OutgoingMail(recipient=f"driver{n}@example.com", subject="Free spots",
                          text=body.text, html=body.html, kind="benchmark",
                          idempotency_key=f"{tag}:{n}") for n in range(count)]
    started = time.perf_counter()
    for start in range(0, count, 1000):
        app.email.outbox.enqueue_many(mails[start:start + 1000])
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


def transport_run(port: int, handler: CountingHandler, count: int, reuse: bool) -> float:
    from datetime import UTC, datetime

    from parking_desktop.adapters.mail.message import build_message
    from parking_desktop.adapters.mail.transport import SmtpConfig, SmtpTransport

    config = SmtpConfig(host="127.0.0.1", port=port, sender="parking@example.com", timeout=30)
    messages = [build_message(sender="parking@example.com", recipient=f"d{n}@example.com",
                              subject="Free spots", text="Free spots are waiting.\n",
                              html="<p>Free spots are waiting.</p>",
                              message_id=f"<bench{n}@example.com>", date=datetime.now(UTC))
                for n in range(count)]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="mails per mode")
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = parser.parse_args()

    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    handler = CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    results: dict[str, float] = {}
    transport: dict[str, float] = {}
    print(f"load average before the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores")
    try:
        print(f"1. transport only, {args.count:,} ready-built messages per mode")
        for mode, reuse in (("reused connection", True), ("connection per mail", False)):
            elapsed = transport_run(port, handler, args.count, reuse)
            transport[mode] = args.count / elapsed
            print(f"  {mode:<20} {args.count / elapsed:>9,.0f} mails/s ({elapsed:6.1f} s)")
        print(f"  reused connection is "
              f"{transport['reused connection'] / transport['connection per mail']:.2f}x "
              "a connection per mail")
        with tempfile.TemporaryDirectory() as tmp:
            app = make_app(Path(tmp), args.db, port)
            try:
                print(f"2. outbox dispatcher, {args.count:,} mails per mode; database: "
                      f"{app.db.description}")
                for mode, reuse in (("reused connection", True), ("connection per mail", False)):
                    clear_outbox(app)
                    queued = queue(app, args.count, mode)
                    elapsed, delivered, connections = deliver(app, handler, reuse)
                    assert delivered == args.count, (delivered, args.count)
                    results[mode] = args.count / elapsed
                    print(f"  {mode:<20} queue {args.count / queued:>9,.0f} mails/s   "
                          f"deliver {args.count / elapsed:>7,.0f} mails/s "
                          f"({elapsed:6.1f} s, {connections:,} SMTP connections)")
            finally:
                app.close()
    finally:
        controller.stop()
    ratio = results["reused connection"] / results["connection per mail"]
    print(f"  reused connection is {ratio:.2f}x a connection per mail")
    print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
