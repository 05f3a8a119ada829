"""Child process for test_quit.py: the real app (finder.app.create_application and
launch, as `finder` runs it) driven into one state, then closed the way Ctrl+Q closes it.

    python -m tests.e2e.quit_child STATE FOLDER

Prints one JSON line per event on stdout; "closing" is printed just before the window
closes, so the parent can time how long the process lingers after it.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from finder import app as finder_app
from finder.core.types import IndexProgress
from finder.ui.controller import Controller, ModelPhase
from finder.ui.views.main_window import MainWindow


def say(event: str, **extra: object) -> None:
    print(json.dumps({"event": event, "t": time.monotonic(), **extra}), flush=True)


def quit_with_ctrl_q(window: MainWindow) -> None:
    say("closing")
    window.activateWindow()  # shortcuts reach an active window only
    QTest.keySequence(window, QKeySequence(QKeySequence.StandardKey.Quit))
    if window.isVisible():
        say("ctrl_q_ignored")
        window.close()


def later(ms: int, fn: Callable[[], None]) -> None:
    QTimer.singleShot(ms, fn)


def drive(state: str, folder: str, window: MainWindow, controller: Controller) -> None:
    def when_ready(fn: Callable[[], None]) -> None:
        def on_phase(phase: ModelPhase, _message: str) -> None:
            if phase is ModelPhase.READY:
                fn()

        controller.model_phase_changed.connect(on_phase)

    def on_progress(phase: str, fn: Callable[[], None]) -> None:
        fired = []

        def seen(p: IndexProgress) -> None:
            if p.phase == phase and not fired:
                fired.append(p)
                fn()

        controller.progress.connect(seen)

    quit_now = lambda: quit_with_ctrl_q(window)  # noqa: E731
    if state == "loading":
        later(0, quit_now)  # the model is loading in the pool
    elif state == "idle":
        when_ready(lambda: later(300, quit_now))
    elif state == "export":
        when_ready(quit_now)  # the ONNX export has just started in the pool
    elif state == "search":

        def search() -> None:
            controller.results_changed.connect(lambda *_: later(50, quit_now))
            window.query_bar.set_text("red circle")
            controller.search_text("red circle")

        when_ready(lambda: later(200, search))
    elif state == "paste":

        def paste() -> None:
            image = QImage(64, 48, QImage.Format.Format_RGB32)
            image.fill(0xFF3366)
            QApplication.clipboard().setImage(image)
            window.paste_image()
            later(30, quit_now)  # while its text is being read

        when_ready(lambda: later(200, paste))
    elif state == "indexing":
        when_ready(lambda: controller.add_folder(folder))
        on_progress("embedding", quit_now)
    elif state == "ocr":
        when_ready(lambda: controller.add_folder(folder))
        on_progress("reading text", quit_now)
    elif state == "compare":

        def compare() -> None:
            controller.search_text("red circle")
            window.show_compare()
            later(100, quit_now)

        when_ready(lambda: later(200, compare))
    else:
        raise SystemExit(f"unknown state {state}")


def main() -> int:
    state, folder = sys.argv[1], sys.argv[2]
    app = finder_app.create_application(sys.argv[:1])
    launched = finder_app.launch()
    if launched is None:
        return 1
    window, controller = launched
    drive(state, folder, window, controller)
    later(150_000, lambda: (say("timeout"), app.quit()))
    status = app.exec()
    say("exec_returned", status=status)
    # What finder.app.main does once its event loop has returned.
    window.close()
    say("exit", stopped=controller.stopped, pool=QThreadPool.globalInstance().activeThreadCount())
    finder_app.exit_at_once(status)
    return status


if __name__ == "__main__":
    sys.exit(main())
