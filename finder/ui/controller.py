"""What the window does, testable without the window: searches, indexing, folders.

The controller owns the background workers and talks to the core only through the
Library service. The window connects its widgets to these slots and signals.
"""

from __future__ import annotations

import enum
import html
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication

from finder.config import Environment, Settings
from finder.core.indexing.ocr_pass import OcrReport
from finder.core.indexing.watcher import WatchBatch, Watcher
from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.library import FolderStatus, Library
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.types import IndexProgress, IndexReport, SearchKind, SearchResult
from finder.ui.drop_zone import DroppedImage
from finder.ui.views.results_model import ResultsModel
from finder.ui.workers import (
    IndexJob,
    IndexWorker,
    SearchRequest,
    SearchWorker,
    ThumbnailFeeder,
    WorkerThread,
    start_task,
)

log = logging.getLogger(__name__)

RESULT_LIMIT = 300


class ModelState(enum.Enum):
    LOADING = "loading"
    READY = "ready"
    MISSING = "missing"


class Controller(QObject):
    results_changed = Signal(int, str)  # how many; what to say when there are none
    status = Signal(str)
    log = Signal(str)
    progress = Signal(object)  # IndexProgress
    indexing_finished = Signal()
    model_state_changed = Signal(object, str)  # ModelState, message
    folders_changed = Signal()
    image_query_set = Signal(str)  # label of the query image
    switch_finished = Signal()  # a background model switch ended (done, stopped or failed)

    _search_requested = Signal(object)
    _index_requested = Signal(object)
    # Emitted from the watcher's thread; queued to this (the GUI) thread.
    _watched_batch = Signal(object)
    _watched_text = Signal(object)  # OcrReport: text read in new pictures
    _watch_error = Signal(str)

    def __init__(
        self,
        library: Library,
        settings: Settings,
        thumbnails: ThumbnailCache,
        *,
        pool: QThreadPool | None = None,
        opener: Callable[[QUrl], object] = QDesktopServices.openUrl,
        library_factory: Callable[[ModelSpec], Library] | None = None,
        watch: bool = True,
        environment: Environment | None = None,
    ) -> None:
        super().__init__()
        # FINDER_PRECISION, FINDER_BACKEND and the Hugging Face hub (finder.config).
        self.environment = environment or Environment()
        self.watch = watch  # follow the folders live once the first scan is done
        self.watcher: Watcher | None = None
        self.library = library
        self.settings = settings
        self.thumbnails = thumbnails
        self.pool = pool  # None: run short tasks synchronously (tests)
        self.opener = opener
        self.library_factory = library_factory
        self.model = ResultsModel(self)
        self.model_state = ModelState.LOADING
        self.kind = (
            SearchKind(settings.search_kind)
            if settings.search_kind in {k.value for k in SearchKind}
            else SearchKind.ALL
        )
        self.query_text = ""
        self.query_image: object | None = None  # PIL image of an image query
        self.indexing = False
        self._pending_index: IndexJob | None = None
        self._request_id = 0
        self._sent_at = 0.0
        self._shut_down = False
        self._switch_cancel = threading.Event()
        self._switch_spec: ModelSpec | None = None
        self._thumbnail_feeder = self.feed_thumbnails(self.model)
        self._watched_batch.connect(self._on_watched_batch)
        self._watched_text.connect(self._on_watched_text)
        self._watch_error.connect(lambda message: self._say(f"Watching: {message}"))
        self._attach(library)

    # -- wiring ---------------------------------------------------------------------------

    def _attach(self, library: Library) -> None:
        self.library = library
        self._searcher = WorkerThread(SearchWorker(library), "finder-search")
        self._indexer = WorkerThread(IndexWorker(library), "finder-index")
        search_worker: SearchWorker = self._searcher.worker  # type: ignore[assignment]
        index_worker: IndexWorker = self._indexer.worker  # type: ignore[assignment]
        self._search_requested.connect(search_worker.run)
        search_worker.finished.connect(self._on_results)
        search_worker.partial.connect(self._on_first_results)
        search_worker.failed.connect(self._on_search_failed)
        self._index_requested.connect(index_worker.run)
        index_worker.progress.connect(self._on_progress)
        index_worker.finished.connect(self._on_index_finished)
        index_worker.failed.connect(self._on_index_failed)
        index_worker.folders_changed.connect(self.folders_changed)
        index_worker.folder_error.connect(self._say)

    @property
    def search_worker(self) -> SearchWorker:
        return self._searcher.worker  # type: ignore[return-value]

    @property
    def index_worker(self) -> IndexWorker:
        return self._indexer.worker  # type: ignore[return-value]

    def start(self) -> None:
        """Load the model in the background; the window is already up."""
        self.model_state = ModelState.LOADING
        self.status.emit(f"Loading {self.library.embedder.description}\u2026")
        start_task(
            self.pool, self.library.embedder.load, self._on_model_loaded, self._on_model_failed
        )

    def shutdown(self, geometry: str = "", history: list[str] | None = None) -> None:
        """Stop the workers (cancelling indexing at the next batch) and save settings."""
        if self._shut_down:
            return
        self._shut_down = True
        self.index_worker.cancel()
        self._switch_cancel.set()  # a model switch stops after its batch; it resumes later
        self.settings.window_geometry = geometry or self.settings.window_geometry
        self.settings.last_query = self.query_text
        self.settings.search_kind = self.kind.value
        if history is not None:
            self.settings.query_history = history[-50:]
        self.settings.save()
        self._stop_workers()
        if self.pool is not None:
            self.pool.waitForDone(30_000)
        self.library.close()

    def _stop_workers(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        self._searcher.stop()
        if not self._indexer.stop():
            log.warning("indexing thread did not stop in time")

    # -- model ----------------------------------------------------------------------------

    def _on_model_loaded(self, _: object) -> None:
        self.model_state = ModelState.READY
        self.model_state_changed.emit(ModelState.READY, "")
        self.status.emit(f"Ready \u2014 {self.library.embedder.description}")
        if self.has_folders():
            self.reindex()
        self._search()
        self._continue_switch()
        self._prepare_faster_runtime()

    def _prepare_faster_runtime(self) -> None:
        """Export a torch model for ONNX Runtime in the background (once per model):
        faster from then on, and later starts do without torch (less memory)."""
        from finder.core.models.runtime import optimise, should_export

        library = self.library
        backend = self.environment.backend
        if not library.writable or not should_export(library.embedder, library.data_dir, backend):
            return
        embedder = library.embedder
        start_task(
            self.pool,
            lambda: optimise(embedder, library.data_dir, backend),
            self._on_faster_runtime,
            self.log.emit,
        )

    def _on_faster_runtime(self, embedder: object) -> None:
        library = self.library
        if embedder is library.embedder or getattr(embedder, "key", None) != library.embedder.key:
            return  # not exported, or the model was switched meanwhile
        library.use_runtime(embedder)  # type: ignore[arg-type]
        self.log.emit(f"{library.embedder.description} now runs on ONNX Runtime")

    def _on_model_failed(self, message: str) -> None:
        self.model_state = ModelState.MISSING
        self.model_state_changed.emit(ModelState.MISSING, _model_missing_text(message))
        self.status.emit("The CLIP model is not available: searching file names and text only")
        self.log.emit(message)
        self._search()

    def can_download(self) -> bool:
        spec = getattr(self.library.embedder, "spec", None)
        return bool(spec and spec.pretrained and spec.checkpoint_file is None)

    def download_model(self) -> None:
        embedder = self.library.embedder
        self.status.emit(f"Downloading {embedder.description}\u2026 (this can take minutes)")
        # Bound methods, not lambdas: Qt then delivers the result on this object's thread.
        start_task(
            self.pool,
            embedder.download,  # type: ignore[attr-defined]
            self._on_downloaded,
            self._on_model_failed,
        )

    def _on_downloaded(self, path: object) -> None:
        self.log.emit(f"Downloaded the model to {path}")
        self.start()

    def use_checkpoint(self, path: str) -> None:
        """Switch to a local checkpoint (with a config JSON beside it, or the current model)."""
        if self.library_factory is None:
            return
        from finder.core.models.spec import resolve_model_spec

        config = Path(path).with_suffix(".json")
        current = getattr(self.library.embedder, "spec", None)
        try:
            spec = resolve_model_spec(
                str(config)
                if config.is_file()
                else (current.name if current else self.environment.model),
                path,
            )
        except ModelUnavailableError as exc:
            self._say(str(exc))
            return
        self._use_library(spec)

    # -- choosing the model (finder.core.models.switching) ---------------------------------------

    def choose_model(self, spec: ModelSpec) -> None:
        """Switch to another model: at once if its index is complete, else its vectors are
        embedded in the background while searches keep the current model, which it
        replaces when done (switch_finished). Resumes on the next start if interrupted."""
        from finder.core.models.switching import ModelChoice, begin_switch

        current = getattr(self.library.embedder, "spec", None)
        if current is None or self.library_factory is None:
            return
        state = begin_switch(
            self.library.data_dir,
            self.library.catalog,
            ModelChoice.of(current),
            ModelChoice.of(spec),
        )
        if state.target is None:
            self._use_library(spec)
            return
        self._start_switch(spec)

    def _continue_switch(self) -> None:
        """A switch an earlier session left unfinished goes on where it stopped."""
        from finder.core.models.switching import load_state

        target = load_state(self.library.data_dir).target
        if (
            target is None
            or target.key == self.library.embedder.key
            or self._switch_spec is not None
            or not self.library.writable
            or self.library_factory is None
        ):
            return
        try:
            spec = target.spec()
        except ModelUnavailableError as exc:
            self._say(f"Switching to {target.label} is on hold: {exc}")
            return
        self._start_switch(spec)

    def _start_switch(self, spec: ModelSpec) -> None:
        from finder.core.models.torch_runtime import ClipEmbedder

        self._switch_cancel = threading.Event()
        self._switch_spec = spec
        self.status.emit(f"Preparing {spec.describe()} in the background…")
        embedder = ClipEmbedder(
            spec, precision=self.environment.precision, hub=self.environment.hub
        )
        cancel = self._switch_cancel
        # Beside the watcher and index runs: each file keeps the current model's vectors.
        start_task(
            self.pool,
            lambda: self.library.embed_until_taken_over(embedder, cancel=cancel),
            self._on_switch_done,
            self._on_switch_failed,
        )

    def switch_progress(self) -> tuple[str, int, int] | None:
        """(model, files embedded, files total) of a switch in progress, else None."""
        status = self.library.status(check_index=False)
        if status.switching_to is None:
            return None
        return status.switching_to, status.switch_embedded, status.switch_total

    def cancel_model_switch(self) -> None:
        from finder.core.models.switching import cancel_switch

        self._switch_cancel.set()
        cancel_switch(self.library.data_dir)

    def _on_switch_done(self, report: object) -> None:
        from finder.core.models.switching import load_state

        active = load_state(self.library.data_dir).active
        spec, self._switch_spec = self._switch_spec, None
        if (
            spec is not None
            and active is not None
            and active.key == spec.key
            and not self._shut_down
        ):
            self._use_library(spec)
        self.switch_finished.emit()

    def _on_switch_failed(self, message: str) -> None:
        self._switch_spec = None
        self._say(message)
        self.switch_finished.emit()

    def _use_library(self, spec: ModelSpec) -> None:
        assert self.library_factory is not None
        self.index_worker.cancel()
        self._stop_workers()
        self.library.close()
        self._attach(self.library_factory(spec))
        self.settings.model = str(spec.config_path) if spec.config_path else spec.name
        self.settings.pretrained = spec.pretrained or "none"
        self.start()

    # -- searching --------------------------------------------------------------------------

    def set_kind(self, kind: SearchKind) -> None:
        self.kind = kind
        self._search()

    def search_text(self, text: str) -> None:
        self.query_text = text.strip()
        self.query_image = None
        self._search()

    def search_image(self, dropped: DroppedImage) -> None:
        self.query_image = dropped.image
        self.query_text = ""
        self.image_query_set.emit(dropped.label)
        self._search()

    def clear_image(self) -> None:
        if self.query_image is not None:
            self.query_image = None
            self._search()

    def find_similar(self, result: SearchResult) -> None:
        from finder.ui.drop_zone import NotAnImageError, image_from_file

        try:
            dropped = image_from_file(result.path)
        except NotAnImageError as exc:
            self._say(str(exc))
            return
        self.search_image(dropped)

    def _search(self) -> None:
        if not self.query_text and self.query_image is None:
            self._request_id += 1  # anything in flight is now stale
            self.model.set_results([])
            self.results_changed.emit(0, "")
            return
        if self.model_state is ModelState.LOADING:
            self.status.emit("Loading the model\u2026 your search runs as soon as it is ready")
            return
        if self.model_state is ModelState.MISSING and self.query_image is not None:
            self.results_changed.emit(0, "Searching with an image needs the CLIP model.")
            return
        self._request_id += 1
        request = SearchRequest(
            self._request_id,
            self.kind,
            RESULT_LIMIT,
            text=self.query_text,
            image=self.query_image,  # type: ignore[arg-type]
            keyword_only=self.model_state is ModelState.MISSING,
        )
        self.search_worker.note_request(self._request_id)
        self._sent_at = time.monotonic()
        if self.query_image is not None:
            self.status.emit("Searching with the image (reading any text in it)\u2026")
        self._search_requested.emit(request)

    def _on_first_results(self, request_id: int, results: list[SearchResult]) -> None:
        """An image query's matches by the picture alone; its text is still being read."""
        self._on_results(request_id, results, final=False)

    def _on_results(
        self, request_id: int, results: list[SearchResult], *, final: bool = True
    ) -> None:
        if request_id != self._request_id:
            return  # an answer to a question nobody is asking any more
        if results != self.model.results():  # the final list often equals the first one
            self.model.set_results(results)
            self.model.forget_thumbnails()
        elapsed_ms = (time.monotonic() - self._sent_at) * 1000
        if results:
            noun = "result" if len(results) == 1 else "results"
            more = "" if final else " \u2014 reading the text in the image\u2026"
            self.status.emit(f"{len(results):,} {noun} in {elapsed_ms:.0f} ms{more}")
            self.results_changed.emit(len(results), "")
        elif final:
            self.results_changed.emit(0, self._no_results_text())

    def _no_results_text(self) -> str:
        if not self.has_folders():
            return "Nothing is indexed yet. Add a folder to search it."
        if self.indexing:
            return "No matches yet \u2014 indexing is still going on."
        what = f"\u201c{self.query_text}\u201d" if self.query_text else "this image"
        return f"No matches for {what}."

    def _on_search_failed(self, request_id: int, message: str) -> None:
        if request_id == self._request_id:
            self._say(message)

    # -- indexing and folders ----------------------------------------------------------------

    def has_folders(self) -> bool:
        return bool(self.library.catalog.roots())

    def folder_statuses(self) -> list[FolderStatus]:
        return self.library.status(check_index=False).folders

    def add_folder(self, folder: str) -> None:
        self._queue_index(IndexJob(add=[folder]))

    def remove_folder(self, folder: str) -> None:
        self._queue_index(IndexJob(remove=[folder]))

    def reindex(self) -> None:
        self._queue_index(IndexJob())

    def _queue_index(self, job: IndexJob) -> None:
        """Folder changes and rescans run on the index thread, one after another."""
        job.index = self.model_state is ModelState.READY
        if self.indexing:
            if self._pending_index is None:
                self._pending_index = job
            else:
                self._pending_index.merge(job)
            if job.add or job.remove:
                # Stop the current run at its next batch; the next run picks up from there.
                self.index_worker.cancel()
            return
        self.indexing = True
        self._index_requested.emit(job)

    def toggle_pause(self) -> bool:
        worker = self.index_worker
        if worker.paused:
            worker.resume()
            self.status.emit("Indexing resumed")
        else:
            worker.pause()
            self.status.emit("Indexing paused \u2014 searches use what is indexed so far")
        return worker.paused

    def _on_progress(self, p: IndexProgress) -> None:
        self.progress.emit(p)
        if p.phase == "scanning":
            self.status.emit("Looking for new and changed files\u2026")
        elif p.phase == "reading text":
            self.status.emit(
                f"Reading text in pictures\u2026 {p.done:,} looked at (searches already work)"
            )
        elif p.phase == "embedding" and p.total:
            rate = p.rate
            left = f" \u00b7 {_duration((p.total - p.done) / rate)} left" if rate > 0 else ""
            self.status.emit(f"Indexing {p.done:,} / {p.total:,} \u00b7 {rate:.1f} files/s{left}")

    def _on_index_finished(self, report: IndexReport | None) -> None:
        self.indexing = False
        self.indexing_finished.emit()
        self._start_watching()
        if report is not None:
            for error in report.errors:
                self.log.emit(f"{error.path}: {error.reason}")
            changed = report.added + report.updated + report.removed + report.moved
            summary = (
                f"Index up to date: {report.added:,} added, {report.updated:,} updated, "
                f"{report.removed:,} removed"
            )
            if report.errors:
                summary += f", {len(report.errors):,} could not be read (see Log)"
            self.status.emit(summary)
            if changed:
                self._search()  # show what was just indexed
        self.folders_changed.emit()
        if self._pending_index is not None:
            pending, self._pending_index = self._pending_index, None
            self._queue_index(pending)

    def _on_index_failed(self, message: str) -> None:
        self.indexing = False
        self.indexing_finished.emit()
        self._say(f"Indexing stopped: {message}")
        if self._pending_index is not None:
            pending, self._pending_index = self._pending_index, None
            self._queue_index(pending)

    def _start_watching(self) -> None:
        """After the first full scan, follow changes live (a read-only library cannot)."""
        if (
            self.watcher is not None
            or not self.watch
            or not self.library.writable
            or self.model_state is not ModelState.READY
            or self._shut_down
        ):
            return
        # It also reads the text in new pictures (OCR) once their batch is indexed.
        self.watcher = Watcher(
            self.library,
            on_batch_indexed=self._watched_batch.emit,
            on_error=self._watch_error.emit,
            read_text=True,
            on_text_read=self._watched_text.emit,
        )
        self.watcher.start()

    def _on_watched_batch(self, batch: WatchBatch) -> None:
        if not batch.changed:
            return
        report = batch.report
        for error in report.errors:
            self.log.emit(f"{error.path}: {error.reason}")
        self.status.emit(
            f"Updated the index: {report.added:,} added, {report.updated:,} "
            f"changed, {report.moved:,} moved, {report.removed:,} removed"
        )
        self.folders_changed.emit()
        if self.query_text or self.query_image is not None:
            self._search()

    def _on_watched_text(self, report: OcrReport) -> None:
        if report.unavailable:
            self._say(f"Text in pictures is not read: {report.unavailable}")
        elif report.with_text and (self.query_text or self.query_image is not None):
            self._search()  # the words just read may match

    # -- acting on results -------------------------------------------------------------------

    def open_result(self, result: SearchResult) -> None:
        if not Path(result.path).exists():
            self._say(f"{result.path} is no longer there")
            return
        self.opener(QUrl.fromLocalFile(result.path))

    def reveal_result(self, result: SearchResult) -> None:
        path = result.path
        if sys.platform == "darwin":
            subprocess.Popen(["open", "-R", path])
        elif sys.platform == "win32":
            subprocess.Popen(["explorer", "/select,", path])
        elif not _show_in_file_manager(path):
            self.opener(QUrl.fromLocalFile(str(Path(path).parent)))

    def copy_path(self, result: SearchResult) -> None:
        QGuiApplication.clipboard().setText(result.path)
        self.status.emit(f"Copied {result.path}")

    def feed_thumbnails(self, model: ResultsModel) -> ThumbnailFeeder:
        """Thumbnails for a results grid (this one's, or the Compare window's): the same
        disk cache and pool."""
        return ThumbnailFeeder(self.thumbnails, self.pool, model)

    def _say(self, message: str) -> None:
        self.status.emit(message)
        self.log.emit(message)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _model_missing_text(message: str) -> str:
    return (
        "<b>The CLIP model is not on this computer yet.</b> Until it is, finder searches "
        f"file names and document text only.<br><small>{html.escape(message)}</small>"
    )


def _show_in_file_manager(path: str) -> bool:
    """Ask the desktop's file manager to select the file (freedesktop FileManager1)."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusInterface
    except ImportError:
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    iface = QDBusInterface(
        "org.freedesktop.FileManager1",
        "/org/freedesktop/FileManager1",
        "org.freedesktop.FileManager1",
        bus,
    )
    if not iface.isValid():
        return False
    reply = iface.call("ShowItems", [QUrl.fromLocalFile(path).toString()], "")
    return not reply.errorMessage()
