"""SIGTERM and Ctrl+C close the window from the event loop (finder.ui.quit_on_signal).
SIGUSR1 stands in for them here, so a handler that failed could not end the test run."""

from __future__ import annotations

import signal
import sys

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from finder.ui.quit_on_signal import QuitOnSignal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def test_a_signal_closes_the_window_from_the_event_loop(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    previous = signal.getsignal(signal.SIGUSR1)
    quitter = QuitOnSignal(window.close, signals=(signal.SIGUSR1,), parent=window)
    try:
        signal.raise_signal(signal.SIGUSR1)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)
    finally:
        quitter.uninstall()
    assert signal.getsignal(signal.SIGUSR1) == previous


def test_uninstall_gives_the_wakeup_fd_back(qtbot: QtBot) -> None:
    window = QWidget()
    qtbot.addWidget(window)
    before = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(before)
    QuitOnSignal(window.close, signals=(signal.SIGUSR1,)).uninstall()
    assert signal.set_wakeup_fd(before) == before
