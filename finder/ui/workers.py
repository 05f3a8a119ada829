"""Background work for the window: searching, indexing, model loading, thumbnails.

Long-lived workers are QObjects moved to their own QThread; they hand plain data (or
QImage) back through signals. Short tasks are QRunnables on an injectable pool. A
failure is reported as the exception itself, traceback included (napari's
`_qt/qthreading.py` does the same): the controller logs it and shows one line.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image
from PySide6.QtCore import (
    QDeadlineTimer,
    QObject,
    QRunnable,
    Qt,
    QThread,
    QThreadPool,
    Signal,
    Slot,
)
from PySide6.QtGui import QImage

from finder.core.indexing.priority import lower_thread_priority
from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.library import FolderError, Library
from finder.core.search.filters import NO_FILTERS, Filters
from finder.core.search.understanding import Understood
from finder.core.types import IndexProgress, IndexReport, SearchKind, SearchResult
from finder.ui.filter_chips import Dismissed, effective
from finder.ui.views.results_model import ResultsModel


@dataclass(frozen=True)
class SearchRequest:
    request_id: int
    kind: SearchKind
    k: int
    text: str = ""
    image: Image.Image | None = None  # a dropped or pasted picture
    keyword_only: bool = False  # no model: match file names and text
    filters: Filters = NO_FILTERS  # set by the person (a year clicked, the sort)
    dismissed: Dismissed = frozenset()  # chips understood from the words, then removed


@dataclass
class IndexJob:
    """Folder changes to make, then (when the model is there) an indexing run."""

    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    index: bool = True

    def merge(self, other: IndexJob) -> None:
        self.add += other.add
        self.remove += other.remove
        self.index = self.index or other.index


class SearchWorker(QObject):
    """Runs searches one at a time; a newer request makes older pending ones moot."""

    finished = Signal(int, list)  # request id, list[SearchResult]
    partial = Signal(int, list)  # a first answer to the same request; `finished` follows
    failed = Signal(int, object)  # request id, the exception (with its traceback)
    understood = Signal(int, object)  # request id, the Understood of its words

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library
        # The words as meaning and filters (tests put their own understanding here).
        self.understand: Callable[[str], Understood] = library.understand
        self._latest = 0
        self._lock = threading.Lock()

    def note_request(self, request_id: int) -> None:
        """Called from the GUI thread as a request is sent: older ones get skipped."""
        with self._lock:
            self._latest = max(self._latest, request_id)

    @Slot(object)
    def run(self, request: SearchRequest) -> None:
        with self._lock:
            if request.request_id < self._latest:
                return  # the user typed on; answer only the latest question
        try:
            if request.image is not None:
                results = self._image(request)
                if results is None:
                    return
            else:
                results = self._text(request)
        except Exception as exc:  # the controller logs it and shows it; never swallowed
            self.failed.emit(request.request_id, exc)
            return
        self.finished.emit(request.request_id, results)

    def _text(self, request: SearchRequest) -> list[SearchResult]:
        """The words split into meaning and filters (the window shows the filters as
        chips), then searched by meaning, or by keywords while the model is missing.
        No words, only filters chosen (a year clicked): everything they allow, by date."""
        if not request.text.strip():
            self.understood.emit(request.request_id, Understood(""))  # no words: no chips
            return self.library.browse(request.filters, request.kind, request.k)
        understood = self.understand(request.text)
        self.understood.emit(request.request_id, understood)
        filters = effective(request.filters, understood.filters, request.dismissed)
        # The meaning; the filter words themselves when nothing else was typed ("in Lisbon").
        kind, meaning = filters.kind or request.kind, understood.searched
        if request.keyword_only:
            return self.library.search_keyword(meaning, kind, request.k, filters=filters)
        return self.library.search_text(meaning, kind, request.k, filters=filters)

    def _image(self, request: SearchRequest) -> list[SearchResult] | None:
        """The picture's own matches at once; the final list once its text is read.
        None: a newer request came meanwhile."""
        stages = self.library.search_image_stages(
            request.image, request.kind, request.k, filters=request.filters
        )
        first = next(stages)
        self.partial.emit(request.request_id, first)
        refined = list(stages)  # reads the text in the picture
        with self._lock:
            if request.request_id < self._latest:
                return None
        return refined[-1] if refined else first


class IndexWorker(QObject):
    """Changes folders and runs the indexer; pausable (between batches) and cancellable."""

    progress = Signal(object)  # IndexProgress
    finished = Signal(object)  # IndexReport, or None when only folders changed
    failed = Signal(object)  # the exception (with its traceback)
    folders_changed = Signal()
    folder_error = Signal(str)

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library
        self._cancel = threading.Event()
        self._resume = threading.Event()
        self._resume.set()
        self._lowered = False

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._resume.set()

    @Slot(object)
    def run(self, job: IndexJob) -> None:
        if not self._lowered:
            # This thread only ever indexes: let the window and searches come first.
            self._lowered = lower_thread_priority()
        self._cancel.clear()
        try:
            forgotten = self._change_folders(job)
            if not job.index:
                self.finished.emit(IndexReport(removed=forgotten) if forgotten else None)
                return
            report = self.library.index(progress=self._on_progress, cancel=self._cancel)
            report.removed += forgotten  # a removed folder's files count as removed
            if not report.cancelled and self.library.writable:
                # Second, slower pass: text in screenshots and scans becomes searchable.
                ocr = self.library.read_text_in_images(
                    cancel=self._cancel, progress=self._on_progress
                )
                if ocr.unavailable:
                    self.folder_error.emit(f"Text in pictures is not read: {ocr.unavailable}")
        except Exception as exc:  # the model may be missing, the disk full...
            self.failed.emit(exc)
            return
        self.finished.emit(report)

    def _change_folders(self, job: IndexJob) -> int:
        """Remove, then add, the job's folders; returns how many files were forgotten."""
        changed, forgotten = False, 0
        for folder in job.remove:
            try:
                forgotten += self.library.remove_folder(folder)
                changed = True
            except FolderError as exc:
                self.folder_error.emit(str(exc))
        for folder in job.add:
            try:
                self.library.add_folder(folder)
                changed = True
            except FolderError as exc:
                self.folder_error.emit(str(exc))
        if changed:
            self.folders_changed.emit()
        return forgotten

    def _on_progress(self, progress: IndexProgress) -> None:
        self.progress.emit(progress)
        # Pausing holds the indexer between batches; cancelling releases it.
        while not self._resume.wait(0.2):
            if self._cancel.is_set():
                break


class WorkerThread:
    """A QObject worker living in its own QThread, stopped and joined by `stop()`."""

    def __init__(self, worker: QObject, name: str) -> None:
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        self.thread.start()

    def stop(self, deadline: QDeadlineTimer | None = None) -> bool:
        """Ask the thread to end after its current job; False if it is still running at
        `deadline` (default: 30 s from now)."""
        self.thread.quit()
        return self.thread.wait(deadline if deadline is not None else QDeadlineTimer(30_000))


# -- short tasks -----------------------------------------------------------------------


class TaskSignals(QObject):
    done = Signal(object)
    failed = Signal(object)  # the exception (with its traceback)


class Task(QRunnable):
    """Run `fn` on a pool thread and report through `signals` (a QRunnable is no QObject)."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.signals = TaskSignals()

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # reported to the caller, which logs and shows it
            self.signals.failed.emit(exc)
            return
        self.signals.done.emit(result)


def start_task(
    pool: QThreadPool | None,
    fn: Callable[[], Any],
    on_done: Callable[[Any], None] | None = None,
    on_failed: Callable[[Exception], None] | None = None,
) -> Task:
    """Run fn in the pool (or at once, synchronously, when pool is None: tests)."""
    task = Task(fn)
    if on_done is not None:
        task.signals.done.connect(on_done)
    if on_failed is not None:
        task.signals.failed.connect(on_failed)
    if pool is None:
        task.run()
    else:
        pool.start(task)
    return task


def one_line(exc: BaseException) -> str:
    """What a failure says, for the status bar or a dialog."""
    return str(exc) or type(exc).__name__


def with_traceback(message: str, exc: BaseException) -> str:
    """`message`, then the failure's traceback: for the Log window."""
    return message + "\n" + "".join(traceback.format_exception(exc)).rstrip()


class ThumbnailSignals(QObject):
    # key, image (QImage is safe off the GUI thread); the key as an object: a QString
    # would lose a path that is not UTF-8
    loaded = Signal(object, QImage)


class ThumbnailTask(QRunnable):
    def __init__(
        self,
        cache: ThumbnailCache,
        key: str,
        path: str,
        page: int | None,
        signals: ThumbnailSignals,
    ) -> None:
        super().__init__()
        self.cache, self.key, self.path, self.page = cache, key, path, page
        self.signals = signals

    def run(self) -> None:
        thumb = self.cache.get(self.path, self.page)
        image = QImage(str(thumb)) if thumb is not None else QImage()
        self.signals.loaded.emit(self.key, image)


class ThumbnailFeeder(QObject):
    """Loads the thumbnails a results model asks for (disk cache, on the pool; at once
    when the pool is None) and hands them back to it. Lives as long as the model."""

    def __init__(
        self, cache: ThumbnailCache, pool: QThreadPool | None, model: ResultsModel
    ) -> None:
        super().__init__(model)
        self.cache, self.pool = cache, pool
        # No parent: a pool thread may still emit on it after the model is gone.
        self.signals = ThumbnailSignals()
        self.signals.loaded.connect(model.set_thumbnail)
        # Queued: a thumbnail request may come from inside a paint.
        model.thumbnail_wanted.connect(self.load, Qt.ConnectionType.QueuedConnection)

    @Slot(object, object, object)
    def load(self, key: str, path: str, page: int | None) -> None:
        task = ThumbnailTask(self.cache, key, path, page, self.signals)
        if self.pool is None:
            task.run()
        else:
            self.pool.start(task)
