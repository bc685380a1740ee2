"""The one way to run work off the GUI thread: ``Op[T]``.

    Op(lambda work: app.stats.dashboard(actor),
       on_success=self.show_stats,            # called with the T the callable returned
       on_failure=lambda f: self.show_error(f.message),
       disable=[self.refresh_button], owner=self).start()

The callable runs on a worker pool and gets a ``Work``: ``work.progress(done, total, text)``
reports progress (from any thread: a service's own thread too), ``work.cancelled`` /
``work.check()`` see a cooperative ``op.cancel()``. Every answer (success, failure, progress,
cancelled, finished) arrives on the GUI thread.

- ``disable``: these widgets stay disabled until the work answers, so a second tap cannot start
  the same work twice; they are enabled again afterwards (unless a screen said otherwise with
  ``holds.set_enabled`` meanwhile, or another op still holds them).
- ``discard()``: nobody wants the answer any more (the screen was left, a newer query began):
  no callback runs and the widgets are given back at once. An op whose ``owner`` widget was
  deleted is discarded by itself, so nothing calls into a deleted widget.
- ``long_running=True``: work that may take minutes (an export) runs on its own pool, so the
  quick calls of every screen never queue behind it."""

from __future__ import annotations

import contextlib
import logging
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, Generic, Protocol, TypeVar, cast

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

from parking_desktop.domain.errors import DomainError
from parking_desktop.ui.common.holds import hold, release

log = logging.getLogger(__name__)

T = TypeVar("T")

UNEXPECTED = "Something went wrong; the details were written to the log."
LONG_POOL_THREADS = 4


def user_message(exc: BaseException) -> str:
    """The sentence to show a user for an exception raised by a service call."""
    if isinstance(exc, DomainError):
        return str(exc)
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        return "The database cannot be reached right now; try again in a moment."
    return UNEXPECTED


class Cancelled(Exception):
    """Raised by ``Work.check()`` once the op was cancelled; the op then answers cancelled."""


@dataclass(frozen=True)
class Failure:
    message: str  # a sentence for the user (DomainError text, or a generic one)
    error: BaseException


class Work:
    """Handed to the callable: progress reports and the cancel flag. Safe from any thread."""

    def __init__(self, report: Callable[[int, int, str], None]) -> None:
        self._report = report
        self._cancel = threading.Event()
        self._ended = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def cancel_event(self) -> threading.Event:
        """For services that take a ``threading.Event`` to stop on."""
        return self._cancel

    def check(self) -> None:
        """Stop here (raise ``Cancelled``) if the op was cancelled."""
        if self._cancel.is_set():
            raise Cancelled

    def progress(self, done: int, total: int, text: str = "") -> None:
        """``total`` 0 means not known yet. Reports after the callable returned are dropped."""
        if not self._ended.is_set():
            self._report(done, total, text)


class _Relay(QObject):
    """Lives on the GUI thread: signals emitted on a worker thread are queued to its slots,
    which hand them to the op there."""

    succeeded = Signal(object)
    failed = Signal(object)  # Failure
    progressed = Signal(int, int, str)
    was_cancelled = Signal()
    done = Signal()  # always last

    def __init__(self, op: _Answers) -> None:
        super().__init__()
        self._op = op
        self.succeeded.connect(self._succeeded)
        self.failed.connect(self._failed)
        self.progressed.connect(self._progressed)
        self.was_cancelled.connect(self._cancelled)
        self.done.connect(self._done)

    @Slot(object)
    def _succeeded(self, result: object) -> None:
        self._op.answer_success(result)

    @Slot(object)
    def _failed(self, failure: Failure) -> None:
        self._op.answer_failure(failure)

    @Slot(int, int, str)
    def _progressed(self, done: int, total: int, text: str) -> None:
        self._op.answer_progress(done, total, text)

    @Slot()
    def _cancelled(self) -> None:
        self._op.answer_cancelled()

    @Slot()
    def _done(self) -> None:
        self._op.answer_done()


class _Answers(Protocol):
    def answer_success(self, result: object) -> None: ...
    def answer_failure(self, failure: Failure) -> None: ...
    def answer_progress(self, done: int, total: int, text: str) -> None: ...
    def answer_cancelled(self) -> None: ...
    def answer_done(self) -> None: ...


class _Task(QRunnable):
    def __init__(self, body: Callable[[], None]) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._body = body

    def run(self) -> None:  # worker thread
        self._body()


_long_pool: QThreadPool | None = None


def long_pool() -> QThreadPool:
    global _long_pool
    if _long_pool is None:
        _long_pool = QThreadPool()
        _long_pool.setMaxThreadCount(LONG_POOL_THREADS)
    return _long_pool


def wait_for_workers(timeout_ms: int = 30_000) -> bool:
    """Wait until no op runs on either pool (closing the program, tests)."""
    quick = QThreadPool.globalInstance().waitForDone(timeout_ms)
    return quick and (_long_pool is None or _long_pool.waitForDone(timeout_ms))


class OpHandle:
    """What bookkeeping needs of any op, whatever its result type."""

    def cancel(self) -> None:
        raise NotImplementedError

    def discard(self) -> None:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        raise NotImplementedError


class Op(OpHandle, Generic[T]):
    """One piece of work off the GUI thread. Build it on the GUI thread, then ``start()``."""

    _live: ClassVar[set[_Task]] = set()  # keeps tasks (and their relays) alive until done

    def __init__(
        self,
        work: Callable[[Work], T],
        *,
        on_success: Callable[[T], None] | None = None,
        on_failure: Callable[[Failure], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        on_finished: Callable[[], None] | None = None,
        owner: QObject | None = None,
        disable: Iterable[QWidget] = (),
        long_running: bool = False,
    ) -> None:
        self._fn = work
        self._on_success = on_success
        self._on_failure = on_failure
        self._on_progress = on_progress
        self._on_cancelled = on_cancelled
        self._finished: list[Callable[[], None]] = [on_finished] if on_finished else []
        self._owner = owner
        self._held = [w for w in disable if w is not None]
        self._long = long_running
        self._relay = _Relay(self)
        self.work = Work(self._emit_progress)
        self._task = _Task(self._run)
        self._started = False
        self._running = False
        self._answered = False
        self._discarded = False

    # --- GUI thread -----------------------------------------------------------------------
    def start(self) -> Op[T]:
        if self._started:
            raise RuntimeError("an Op runs once; make a new one")
        self._started = self._running = True
        for widget in self._held:
            hold(widget)
        Op._live.add(self._task)
        (long_pool() if self._long else QThreadPool.globalInstance()).start(self._task)
        return self

    def add_finished(self, callback: Callable[[], None]) -> None:
        """Another ``on_finished`` (bookkeeping of the screen that started the op)."""
        self._finished.append(callback)

    @property
    def running(self) -> bool:
        """Started and not answered yet (a discarded op may still be running)."""
        return self._running and not self._answered

    @property
    def discarded(self) -> bool:
        return self._discarded

    def cancel(self) -> None:
        """Ask the work to stop (it checks ``work.cancelled``); it answers cancelled, or with
        its result if it ended anyway."""
        self.work.cancel_event.set()

    def discard(self) -> None:
        """Drop every later callback and give the widgets back now; the work itself goes on
        (use ``cancel`` as well to stop it)."""
        if self._discarded:
            return
        self._discarded = True
        self._give_back()

    # --- worker thread --------------------------------------------------------------------
    def _run(self) -> None:
        relay = self._relay
        try:
            if self.work.cancelled:
                raise Cancelled
            result = self._fn(self.work)
        except Cancelled:
            self._emit(relay.was_cancelled.emit)
        except BaseException as exc:  # every failure becomes an answer
            if not isinstance(exc, DomainError):
                name = getattr(self._fn, "__qualname__", repr(self._fn))
                log.error("Work %s failed:\n%s", name, "".join(traceback.format_exception(exc)))
            failure = Failure(user_message(exc), exc)
            self._emit(lambda: relay.failed.emit(failure))
        else:
            self._emit(lambda: relay.succeeded.emit(result))
        finally:
            self.work._ended.set()
            self._emit(relay.done.emit)

    def _emit_progress(self, done: int, total: int, text: str) -> None:  # any thread
        if not self._discarded:
            self._emit(lambda: self._relay.progressed.emit(done, total, text))

    @staticmethod
    def _emit(send: Callable[[], None]) -> None:
        with contextlib.suppress(RuntimeError):  # the relay is gone: the program is closing
            send()

    # --- answers, on the GUI thread -------------------------------------------------------
    def _wanted(self) -> bool:
        """Deliver callbacks? Not once discarded, nor into a deleted owner."""
        if self._discarded:
            return False
        if self._owner is not None and not isValid(self._owner):
            self.discard()
            return False
        return True

    # Each answer gives the widgets back before its callback: a follow-up op started there
    # holds them again before the event loop turns, so no tap can slip in between.
    def answer_success(self, result: object) -> None:
        self._answer()
        if self._wanted() and self._on_success is not None:
            self._on_success(cast(T, result))  # the value self._fn returned

    def answer_failure(self, failure: Failure) -> None:
        self._answer()
        if self._wanted() and self._on_failure is not None:
            self._on_failure(failure)

    def answer_progress(self, done: int, total: int, text: str) -> None:
        if self._wanted() and not self._answered and self._on_progress is not None:
            self._on_progress(done, total, text)

    def answer_cancelled(self) -> None:
        self._answer()
        if self._wanted() and self._on_cancelled is not None:
            self._on_cancelled()

    def answer_done(self) -> None:
        self._running = False
        Op._live.discard(self._task)
        self._give_back()  # already done by the answer, unless the relay lost it
        if self._wanted():
            for finished in self._finished:
                finished()

    def _answer(self) -> None:
        self._answered = True
        self._give_back()

    def _give_back(self) -> None:
        held, self._held = self._held, []
        for widget in held:
            release(widget)


def live_ops() -> int:
    """How many ops have not answered yet (tests check that none outlives them)."""
    return len(Op._live)
