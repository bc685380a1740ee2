"""Op[T], the one way the GUI runs work off its thread: answers arrive on the GUI thread
(success, failure, progress, cancelled), a discarded op or one whose widget was deleted calls
nothing, and the widgets given to it stay disabled exactly until the work answers. Work is held
with threading.Event, never with sleeps or timings."""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QPushButton, QWidget
from pytestqt.qtbot import QtBot

from parking_desktop.domain.errors import ConflictError
from parking_desktop.ui.common.holds import is_held, set_enabled
from parking_desktop.ui.common.ops import (
    UNEXPECTED,
    Cancelled,
    Failure,
    Op,
    Work,
    live_ops,
    wait_for_workers,
)

HOLD_S = 30  # a held work gives up after this long (a failing test must not hang)


def _gui_thread() -> threading.Thread:
    return threading.main_thread()


def test_success_arrives_on_the_gui_thread_with_the_value(qtbot: QtBot) -> None:
    ran_on: list[threading.Thread] = []
    answers: list[tuple[int, threading.Thread]] = []
    finished: list[bool] = []

    def work(_work: Work) -> int:
        ran_on.append(threading.current_thread())
        return 42

    Op(work, on_success=lambda value: answers.append((value, threading.current_thread())),
       on_finished=lambda: finished.append(True)).start()
    qtbot.waitUntil(lambda: bool(finished))
    assert answers == [(42, _gui_thread())]
    assert ran_on and ran_on[0] is not _gui_thread()


def test_failure_carries_the_users_sentence_and_the_error(qtbot: QtBot) -> None:
    failures: list[Failure] = []
    successes: list[object] = []

    def refused(_work: Work) -> None:
        raise ConflictError("Vehicle AB123 already has an open booking.")

    def broken(_work: Work) -> None:
        raise KeyError("internal detail")

    Op(refused, on_success=successes.append, on_failure=failures.append).start()
    Op(broken, on_success=successes.append, on_failure=failures.append).start()
    qtbot.waitUntil(lambda: len(failures) == 2)
    messages = sorted(f.message for f in failures)
    assert messages == sorted(["Vehicle AB123 already has an open booking.", UNEXPECTED])
    assert {type(f.error) for f in failures} == {ConflictError, KeyError}
    assert successes == []


def test_progress_arrives_in_order_before_the_result_also_from_another_thread(
        qtbot: QtBot) -> None:
    seen: list[tuple[str, object]] = []

    def work(progress: Work) -> str:
        progress.progress(1, 3, "first")
        # A service reporting from its own thread (an export does).
        other = threading.Thread(target=progress.progress, args=(2, 3, "second"))
        other.start()
        other.join()
        progress.progress(3, 3, "third")
        return "done"

    Op(work, on_progress=lambda d, t, text: seen.append(("progress", (d, t, text))),
       on_success=lambda value: seen.append(("success", value))).start()
    qtbot.waitUntil(lambda: ("success", "done") in seen)
    assert seen == [("progress", (1, 3, "first")), ("progress", (2, 3, "second")),
                    ("progress", (3, 3, "third")), ("success", "done")]


def test_cancel_is_cooperative(qtbot: QtBot) -> None:
    started = threading.Event()
    outcome: list[str] = []

    def work(cancel: Work) -> str:
        started.set()
        cancel.cancel_event.wait(HOLD_S)  # until op.cancel()
        cancel.check()
        return "not cancelled"

    op = Op(work, on_success=outcome.append, on_cancelled=lambda: outcome.append("cancelled"))
    op.start()
    assert started.wait(HOLD_S)
    assert op.running
    op.cancel()
    qtbot.waitUntil(lambda: bool(outcome))
    assert outcome == ["cancelled"]
    assert not op.running


def test_work_that_ends_despite_a_cancel_answers_with_its_result(qtbot: QtBot) -> None:
    started, gate = threading.Event(), threading.Event()
    outcome: list[str] = []

    def work(_work: Work) -> str:
        started.set()
        gate.wait(HOLD_S)
        return "finished anyway"

    op = Op(work, on_success=outcome.append, on_cancelled=lambda: outcome.append("cancelled"))
    op.start()
    assert started.wait(HOLD_S)
    op.cancel()  # the work never looks at the flag
    gate.set()
    qtbot.waitUntil(lambda: bool(outcome))
    assert outcome == ["finished anyway"]


def test_a_cancelled_check_raises_cancelled() -> None:
    work = Work(lambda *_args: None)
    work.check()
    work.cancel_event.set()
    try:
        work.check()
    except Cancelled:
        pass
    else:
        raise AssertionError("check() must raise once cancelled")


def test_no_callback_into_a_deleted_widget(qtbot: QtBot) -> None:
    gate = threading.Event()
    touched: list[str] = []
    widget = QWidget()
    button = QPushButton("Go", widget)

    def work(progress: Work) -> str:
        gate.wait(HOLD_S)
        progress.progress(1, 1, "late")
        return "late result"

    def use(text: str) -> None:
        touched.append(text)
        button.setText(text)  # would raise: the widget is gone

    op = Op(work, owner=widget, disable=[button], on_success=use,
            on_progress=lambda *_a: use("progress"), on_finished=lambda: use("finished"))
    op.start()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gate.set()
    assert wait_for_workers(HOLD_S * 1000)
    qtbot.waitUntil(lambda: live_ops() == 0)
    QCoreApplication.processEvents()
    assert touched == []
    assert op.discarded


def test_a_discarded_op_calls_nothing_and_gives_its_widgets_back_at_once(
        qtbot: QtBot) -> None:
    gate = threading.Event()
    answers: list[object] = []
    button = QPushButton("Check in")
    qtbot.addWidget(button)
    op = Op(lambda _w: gate.wait(HOLD_S), disable=[button], on_success=answers.append,
            on_failure=answers.append, on_finished=lambda: answers.append("finished"))
    op.start()
    assert not button.isEnabled()
    op.discard()
    assert button.isEnabled()
    gate.set()
    qtbot.waitUntil(lambda: live_ops() == 0)
    QCoreApplication.processEvents()
    assert answers == []
    assert button.isEnabled()


def test_buttons_are_disabled_until_the_work_answers(qtbot: QtBot) -> None:
    gate = threading.Event()
    clicks: list[int] = []
    ops: list[Op[int]] = []
    button = QPushButton("E-mail me my history")
    qtbot.addWidget(button)
    button.show()

    def start() -> None:
        clicks.append(len(clicks))
        ops.append(Op(lambda _w: gate.wait(HOLD_S) and 1, disable=[button]).start())

    button.clicked.connect(start)
    button.click()
    button.click()  # a disabled button ignores these
    button.click()
    assert clicks == [0] and not button.isEnabled() and is_held(button)
    gate.set()
    qtbot.waitUntil(button.isEnabled)
    assert not is_held(button)
    button.click()
    assert clicks == [0, 1]
    qtbot.waitUntil(lambda: live_ops() == 0)


def test_a_held_widget_takes_the_state_the_screen_asked_for_when_released(
        qtbot: QtBot) -> None:
    first, second = threading.Event(), threading.Event()
    done: list[str] = []
    run = QPushButton("Run now")
    qtbot.addWidget(run)
    Op(lambda _w: first.wait(HOLD_S), disable=[run],
       on_finished=lambda: done.append("first")).start()
    Op(lambda _w: second.wait(HOLD_S), disable=[run],
       on_finished=lambda: done.append("second")).start()
    set_enabled(run, True)  # e.g. the selection changed: the job may run again...
    assert not run.isEnabled()  # ...but not while the work it started is running
    first.set()
    qtbot.waitUntil(lambda: done == ["first"])
    assert not run.isEnabled()  # still held by the second op
    set_enabled(run, False)  # the screen now says no
    second.set()
    qtbot.waitUntil(lambda: done == ["first", "second"])
    assert not run.isEnabled() and not is_held(run)
    set_enabled(run, True)
    assert run.isEnabled()
