"""Run service calls off the GUI thread; results come back through signals (on the GUI thread).

    op = run_in_thread(app.stats.dashboard, actor, on_success=self.show_stats,
                       on_error=self.show_error)

``on_error`` receives a user-readable message (DomainError text, or a generic sentence for an
unexpected exception, which is logged with its traceback). Keep the returned ``Operation`` if you
want to cancel interest in its result (``op.discard()``): late results are then dropped."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from parking_desktop.domain.errors import DomainError

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong; the details were written to the log."


def user_message(exc: BaseException) -> str:
    """The sentence to show a user for an exception raised by a service call."""
    if isinstance(exc, DomainError):
        return str(exc)
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, OperationalError):
        return "The database cannot be reached right now; try again in a moment."
    return UNEXPECTED


class _Signals(QObject):
    succeeded = Signal(object)
    failed = Signal(str, object)  # message, exception
    finished = Signal()  # not emitted once discarded (its receiver may be gone)
    done = Signal()  # always emitted last: bookkeeping only


class Operation(QRunnable):
    """One call on the thread pool. Created and connected on the GUI thread."""

    _live: set[Operation] = set()  # keeps Python wrappers alive until finished

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self.signals = _Signals()
        self.discarded = False

    def run(self) -> None:  # worker thread
        try:
            result = self._fn(*self._args, **self._kwargs)
        except BaseException as exc:
            if not isinstance(exc, DomainError):
                name = getattr(self._fn, "__qualname__", repr(self._fn))
                log.error("Service call %s failed:\n%s", name,
                          "".join(traceback.format_exception(exc)))
            if not self.discarded:
                self.signals.failed.emit(user_message(exc), exc)
        else:
            if not self.discarded:
                self.signals.succeeded.emit(result)
        finally:
            if not self.discarded:
                self.signals.finished.emit()
            self.signals.done.emit()

    def discard(self) -> None:
        """Ignore this operation's result (e.g. the screen was closed or a newer query began)."""
        self.discarded = True


def run_in_thread(
    fn: Callable[..., Any],
    *args: Any,
    on_success: Callable[[Any], None] | None = None,
    on_error: Callable[[str], None] | None = None,
    on_finished: Callable[[], None] | None = None,
    pool: QThreadPool | None = None,
    **kwargs: Any,
) -> Operation:
    op = Operation(fn, *args, **kwargs)
    # Results are queued to the GUI thread; check ``discarded`` again on arrival, because
    # discard() may have been called after the worker emitted but before delivery.
    if on_success is not None:
        op.signals.succeeded.connect(lambda result: None if op.discarded else on_success(result))
    if on_error is not None:
        op.signals.failed.connect(
            lambda message, _exc: None if op.discarded else on_error(message))
    if on_finished is not None:
        op.signals.finished.connect(lambda: None if op.discarded else on_finished())
    Operation._live.add(op)
    op.signals.done.connect(lambda: Operation._live.discard(op))
    (pool or QThreadPool.globalInstance()).start(op)
    return op
