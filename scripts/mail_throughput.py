"""Mail throughput: N mails through the outbox to a local aiosmtpd server, delivered over one
reused SMTP connection per batch against a new connection per mail, in the same run.

    .venv/bin/python scripts/mail_throughput.py            # 10,000 mails each way, SQLite
    .venv/bin/python scripts/mail_throughput.py --count 2000 --db postgresql://postgres@127.0.0.1/x

Both runs use the real dispatcher (claim, send, mark each mail sent) on a fresh database, so the
difference is the connection handling. Figures only: it never fails on time."""

from __future__ import annotations

import argparse
import asyncio
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
    results = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = make_app(Path(tmp), args.db, port)
            try:
                print(f"{args.count:,} mails per mode; database: {app.db.description}; "
                      f"server: aiosmtpd on 127.0.0.1:{port}")
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
    print(f"reused connection is {ratio:.2f}x the throughput of a connection per mail")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
