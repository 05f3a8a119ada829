"""SIGTERM (a session logging out, `kill`, a test harness) and Ctrl+C in the terminal that
started finder close the main window, so the app quits the way Ctrl+Q quits it: settings
saved, workers stopped. Without this, SIGTERM ends the process on the spot and Ctrl+C
waits until Qt next runs Python code.

Python runs a signal handler only between bytecodes, and the Qt event loop runs none while
idle: the signal's byte, written to a socket by `signal.set_wakeup_fd`, wakes it through a
QSocketNotifier.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

CLOSE_ON = (signal.SIGTERM, signal.SIGINT)


class QuitOnSignal(QObject):
    """While installed, each of `signals` calls `close` from the event loop."""

    def __init__(
        self,
        close: Callable[[], object],
        signals: tuple[signal.Signals, ...] = CLOSE_ON,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._close = close
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {signum: signal.signal(signum, self._on_signal) for signum in signals}

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        QTimer.singleShot(0, self._close)  # from the event loop, not inside the handler

    def _drain(self) -> None:
        # Python has run the handler by now (this slot is Python code); empty the socket.
        try:
            while self._reader.recv(64):
                pass
        except BlockingIOError:
            pass

    def uninstall(self) -> None:
        """Give the signals and the wakeup fd back to what they were."""
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()
