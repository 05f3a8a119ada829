"""Downloading a catalogue model's weights: the size first, then a progress bar;
Cancel keeps what was downloaded, so the next try resumes."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QProgressBar, QVBoxLayout, QWidget

from finder.core.model_shelf import plan_weights_download
from finder.core.models.catalogue import CatalogModel
from finder.core.models.weights import DownloadError, Hub
from finder.ui.dialogs.model_rows import size
from finder.ui.workers import one_line, start_task

log = logging.getLogger(__name__)


class _DownloadSignals(QObject):
    progress = Signal(int, int)  # bytes done, bytes in all (emitted from a pool thread)


class DownloadDialog(QDialog):
    """Size first, then the download with a progress bar; Cancel keeps the partial file,
    so a later download resumes where this one stopped."""

    def __init__(
        self,
        entry: CatalogModel,
        pool: QThreadPool | None,
        parent: QWidget | None = None,
        *,
        hub: Hub | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Download {entry.name} {entry.pretrained}")
        self.entry = entry
        self.pool = pool
        self.hub = hub or Hub()
        self.cancel = threading.Event()
        self.result_text = ""
        self.label = QLabel(f"Asking the Hugging Face hub for {entry.name}\u2026", self)
        self.label.setWordWrap(True)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.rejected.connect(self._cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.buttons)
        self.resize(460, 130)
        self._signals = _DownloadSignals(self)
        self._signals.progress.connect(self._on_progress)
        QTimer.singleShot(0, self._start)

    def _start(self) -> None:
        start_task(self.pool, self._fetch, self._done, self._failed)

    def _fetch(self) -> str:
        """On a pool thread: locate the files (sizes), then fetch them."""
        plan = plan_weights_download(self.entry, self.hub)
        self._signals.progress.emit(0, plan.total_bytes)
        path = plan.run(
            cancel=self.cancel,
            progress=lambda p: self._signals.progress.emit(p.overall_done, p.overall_total),
        )
        return str(path)

    def _on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(1000 * done / total) if total else 0)
        self.label.setText(
            f"{self.entry.name} {self.entry.pretrained}: {size(done)} of {size(total)}"
        )

    def _done(self, path: object) -> None:
        self.result_text = f"Downloaded to {path}"
        self.accept()

    def _failed(self, exc: Exception) -> None:
        message = one_line(exc)
        self.result_text = message
        if self.cancel.is_set():
            self.reject()
            return
        what = f"downloading {self.entry.name} {self.entry.pretrained} failed"
        if isinstance(exc, DownloadError):  # offline, no such repo: the message says it all
            log.warning("%s: %s", what, message)
        else:
            log.error("%s", what, exc_info=exc)
        # Say why in the dialog itself, and let the person close it.
        self.label.setText(f"The download did not finish: {message}")
        self.bar.setVisible(False)
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)

    def _cancel(self) -> None:
        self.cancel.set()  # the task stops at its next block and reports DownloadCancelled
        self.label.setText("Stopping\u2026 (what was downloaded is kept for next time)")
        if self.pool is None:
            self.reject()
