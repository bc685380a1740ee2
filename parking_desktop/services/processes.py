"""Worker processes for long work that is Python on one core: the what-if repricing, the
monthly report. Each worker is started with 'spawn' (never 'fork': the program has threads,
and a forked copy of a thread-holding process can deadlock), gets its share of the work, and
reports through one queue; it stops between steps once the stop event is set.

    with spawned(work, [(share1,), (share2,)], name="monthly-report") as pool:
        for kind, value in pool.messages(poll_s=0.2, idle=heartbeat,
                                         lost="A monthly report process ended early."):
            ...

Every worker is called as ``target(*its_args, out, stop)`` and puts ``(kind, value)`` tuples
on ``out``. Leaving the block (done, an error, a cancel) sets ``stop`` and waits for the
workers; one stuck in a database call past ``join_s`` is ended (its open transaction is rolled
back by the database)."""

from __future__ import annotations

import logging
import multiprocessing
import queue
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from parking_desktop.domain.errors import DomainError

log = logging.getLogger(__name__)


class WorkerPool:
    def __init__(self, procs: list[Any], out: Any) -> None:
        self.procs = procs
        self._out = out

    def messages(self, *, poll_s: float, idle: Callable[[], None],
                 lost: str) -> Iterator[tuple[str, Any]]:
        """The workers' messages as they come; ``idle()`` before each wait of at most
        ``poll_s`` (a heartbeat, a cancel check: it may raise to end the work). Raises
        DomainError(``lost``) when every worker has ended and nothing more is queued."""
        while True:
            idle()
            try:
                yield self._out.get(timeout=poll_s)
            except queue.Empty:
                if not any(p.is_alive() for p in self.procs) and self._out.empty():
                    raise DomainError(lost) from None


@contextmanager
def spawned(target: Callable[..., None], shares: Sequence[tuple[Any, ...]], *, name: str,
            join_s: float = 5.0) -> Iterator[WorkerPool]:
    """One worker process per share, running ``target(*share, out, stop)``."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    stop = context.Event()
    procs = [context.Process(target=target, args=(*share, out, stop), name=f"{name}-{i + 1}",
                             daemon=True)
             for i, share in enumerate(shares)]
    for proc in procs:
        proc.start()
    try:
        yield WorkerPool(procs, out)
    finally:
        stop.set()
        for proc in procs:
            proc.join(timeout=join_s)
            if proc.is_alive():  # stuck in a database call: it has no work worth waiting for
                log.warning("Ending worker process %s, which did not stop", proc.name)
                proc.terminate()
                proc.join()
        out.close()
        out.join_thread()
