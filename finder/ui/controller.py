"""What the window does, testable without the window: searches and their results, with
the model's lifecycle (model_lifecycle.py), index jobs (indexing.py) and the desktop
(desktop.py) as its parts.

The controller owns the background workers and talks to the core only through the
Library service. The window and the dialogs connect to these slots and signals.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from PySide6.QtCore import QDeadlineTimer, QObject, QThreadPool, QUrl, Signal
from PySide6.QtGui import QDesktopServices

from finder.config import Environment, Settings
from finder.core.indexing.watcher import Watcher
from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.library import FolderError, Library
from finder.core.models.spec import ModelSpec, ModelUnavailableError
from finder.core.search.compare import Candidate, Comparison
from finder.core.types import ChosenModels, FolderStatus, SearchKind, SearchResult, StoredModel
from finder.ui import desktop
from finder.ui.drop_zone import DroppedImage, NotAnImageError, image_from_file
from finder.ui.indexing import IndexJobs
from finder.ui.model_lifecycle import LibraryFactory, ModelLifecycle, ModelPhase
from finder.ui.search_filters import FilterState
from finder.ui.views.results_model import ResultsModel, count_text
from finder.ui.workers import (
    IndexJob,
    IndexWorker,
    SearchRequest,
    SearchWorker,
    ThumbnailFeeder,
    WorkerThread,
    one_line,
    with_traceback,
)

log = logging.getLogger(__name__)

RESULT_LIMIT = 300
# Failures that say all there is to say in one line (no traceback in the Log window).
EXPECTED_FAILURES = (ModelUnavailableError, FolderError)

__all__ = ["Controller", "ModelPhase"]


class Controller(QObject):
    results_changed = Signal(int, str)  # how many; what to say when there are none
    status = Signal(str)
    log = Signal(str)
    progress = Signal(object)  # IndexProgress
    indexing_finished = Signal()
    model_phase_changed = Signal(object, str)  # ModelPhase, message
    folders_changed = Signal()
    image_query_set = Signal(str)  # label of the query image
    switch_finished = Signal()  # a background model switch ended (done, stopped or failed)
    desktop_failed = Signal(str, str)  # path, why it could not be opened or shown

    search_requested = Signal(object)  # SearchRequest, to the search thread
    index_requested = Signal(object)  # IndexJob, to the index thread

    def __init__(
        self,
        library: Library,
        settings: Settings,
        thumbnails: ThumbnailCache,
        *,
        pool: QThreadPool | None = None,
        opener: Callable[[QUrl], object] = QDesktopServices.openUrl,
        library_factory: LibraryFactory | None = None,
        watch: bool = True,
        environment: Environment | None = None,
    ) -> None:
        super().__init__()
        # FINDER_MODEL and the Hugging Face hub (finder.config), for what the window loads.
        self.environment = environment or Environment()
        self.library = library
        self.settings = settings
        self.thumbnails = thumbnails
        self.pool = pool  # None: run short tasks synchronously (tests)
        self.opener = opener
        self.results = ResultsModel(self, fold_weaker=True)
        self.kind = (
            SearchKind(settings.search_kind)
            if settings.search_kind in {k.value for k in SearchKind}
            else SearchKind.ALL
        )
        self.query_text = ""
        self.query_image: object | None = None  # PIL image of an image query
        self._shown: list[SearchResult] = []  # the last answer, as it came
        self.shut_down = False
        self._request_id = 0
        self._sent_at = 0.0
        # The question each request asked, and the one whose answer is shown: an answer
        # to the same question (a refresh after indexing) keeps the grid's place.
        self._questions: dict[int, tuple[object, ...]] = {}
        self._shown_question: tuple[object, ...] | None = None
        self.lifecycle = ModelLifecycle(self, library_factory)
        self.jobs = IndexJobs(self, watch=watch)
        self.filters = FilterState(self)  # chips, year strip, sort (search_filters.py)
        self._thumbnail_feeder = self.feed_thumbnails(self.results)
        self._attach(library)
        # A folder added or removed, or an index run over: the grid shows the index now.
        self.folders_changed.connect(self.refresh_results)

    # -- wiring ---------------------------------------------------------------------------

    def _attach(self, library: Library) -> None:
        self.library = library
        self._searcher = WorkerThread(SearchWorker(library), "finder-search")
        self._indexer = WorkerThread(IndexWorker(library), "finder-index")
        search_worker, index_worker, jobs = self.search_worker, self.index_worker, self.jobs
        self.search_requested.connect(search_worker.run)
        search_worker.finished.connect(self._on_results)
        search_worker.partial.connect(self._on_first_results)
        search_worker.failed.connect(self._on_search_failed)
        search_worker.understood.connect(self._on_understood)
        self.index_requested.connect(index_worker.run)
        index_worker.progress.connect(jobs.on_progress)
        index_worker.finished.connect(jobs.on_finished)
        index_worker.failed.connect(jobs.on_failed)
        index_worker.folders_changed.connect(self.folders_changed)
        index_worker.folder_error.connect(self.say)

    def replace_library(self, open_library: Callable[[], Library]) -> None:
        """Serve the window from another library (the same data dir, another model),
        opened once this one is closed (it holds the data dir's writer lock)."""
        self.index_worker.cancel()
        self._stop_workers()
        self.library.close()
        self._attach(open_library())

    @property
    def search_worker(self) -> SearchWorker:
        return self._searcher.worker  # type: ignore[return-value]

    @property
    def index_worker(self) -> IndexWorker:
        return self._indexer.worker  # type: ignore[return-value]

    def start(self) -> None:
        """Load the model in the background; the window is already up."""
        self.lifecycle.load()

    # How long shutdown waits for background work to stop (app.py quits sooner and leaves
    # what still runs, a model load or export, to the process's exit); `stopped` says
    # whether everything did stop, and so whether the library could be closed.
    stop_within_ms = 30_000
    stopped = False

    def shutdown(self, geometry: str = "", history: list[str] | None = None) -> None:
        """Stop the workers (cancelling indexing at the next batch) and save settings."""
        if self.shut_down:
            return
        self.shut_down = True
        self.index_worker.cancel()
        self.lifecycle.stop_switch()
        self.settings.window_geometry = geometry or self.settings.window_geometry
        self.settings.last_query = self.query_text
        self.settings.search_kind = self.kind.value
        if history is not None:
            self.settings.query_history = history[-50:]
        self.settings.save()
        deadline = QDeadlineTimer(self.stop_within_ms)
        self.jobs.stop_watching()
        stopped = all([self._searcher.stop(deadline), self._indexer.stop(deadline)])
        if self.pool is not None:
            stopped = self.pool.waitForDone(max(0, deadline.remainingTime())) and stopped
        self.stopped = stopped
        if stopped:  # else a worker may still be using it: the process's exit ends both
            self.library.close()

    def _stop_workers(self) -> None:
        self.jobs.stop_watching()
        self._searcher.stop()
        if not self._indexer.stop():
            log.warning("indexing thread did not stop in time")

    # -- what the parts share -----------------------------------------------------------------

    @property
    def model_phase(self) -> ModelPhase:
        return self.lifecycle.phase

    @property
    def model_ready(self) -> bool:
        return self.lifecycle.phase is ModelPhase.READY

    @property
    def library_factory(self) -> LibraryFactory | None:
        return self.lifecycle.library_factory

    @library_factory.setter
    def library_factory(self, factory: LibraryFactory | None) -> None:
        self.lifecycle.library_factory = factory

    @property
    def indexing(self) -> bool:
        return self.jobs.indexing

    @property
    def watcher(self) -> Watcher | None:
        return self.jobs.watcher

    def say(self, message: str) -> None:
        self.status.emit(message)
        self.log.emit(message)

    def report_failure(self, what: str, exc: BaseException, *, show: bool = True) -> None:
        """Background work failed: the log (and the Log window) get its traceback, the
        status bar one line (unless `show` is False)."""
        message = f"{what}: {one_line(exc)}" if what else one_line(exc)
        if isinstance(exc, EXPECTED_FAILURES):
            log.warning("%s", message)
            self.log.emit(message)
        else:
            log.error("%s", message, exc_info=exc)
            self.log.emit(with_traceback(message, exc))
        if show:
            self.status.emit(message)

    # -- the model (model_lifecycle.py) --------------------------------------------------------

    def can_download(self) -> bool:
        return self.lifecycle.can_download()

    def download_model(self) -> None:
        self.lifecycle.download()

    def use_checkpoint(self, path: str) -> None:
        self.lifecycle.use_checkpoint(path)

    def choose_model(self, spec: ModelSpec) -> None:
        self.lifecycle.choose(spec)

    def switch_progress(self) -> tuple[str, int, int] | None:
        return self.lifecycle.switch_progress()

    def cancel_model_switch(self) -> None:
        self.lifecycle.cancel_switch()

    def stored_models(self) -> list[StoredModel]:
        return self.library.stored_models()

    def chosen_models(self) -> ChosenModels:
        return self.library.switch.chosen()

    def delete_model(self, key: str) -> int:
        return self.library.delete_model(key)

    def compare_candidates(self) -> list[Candidate]:
        return self.library.compare_candidates()

    def comparison(self, specs: Sequence[ModelSpec]) -> Comparison:
        return self.library.comparison(specs)

    # -- searching --------------------------------------------------------------------------

    def set_kind(self, kind: SearchKind) -> None:
        self.kind = kind
        self.search_again()

    def search_text(self, text: str) -> None:
        self.query_text = text.strip()
        self.query_image = None
        self.search_again()

    def search_image(self, dropped: DroppedImage) -> None:
        self.query_image = dropped.image
        self.query_text = ""
        self.image_query_set.emit(dropped.label)
        self.search_again()

    def clear_image(self) -> None:
        if self.query_image is not None:
            self.query_image = None
            self.search_again()

    def find_similar(self, result: SearchResult) -> None:
        try:
            dropped = image_from_file(result.path)
        except NotAnImageError as exc:
            self.say(str(exc))
            return
        self.search_image(dropped)

    def has_query(self) -> bool:
        """Words, a picture, or filters the person chose (a year clicked: its photos)."""
        return bool(self.query_text) or self.query_image is not None or self.filters.chosen.narrows

    @property
    def random_weights(self) -> bool:
        """The model has random weights: its results mean nothing (the window says so)."""
        spec = self.library.model_spec
        return spec is not None and spec.is_random

    def refresh_results(self) -> None:
        """The index changed (a folder added or removed, a run finished): ask again."""
        if self.has_query():
            self.search_again()

    def _question(self) -> tuple[object, ...]:
        return (self.query_text, id(self.query_image), self.kind, self.filters.question())

    def search_again(self) -> None:
        """Ask the current question again (the kind, the index or the model changed)."""
        if not self.has_query():
            self._request_id += 1  # anything in flight is now stale
            self._shown_question, self._shown = None, []
            self.filters.set_understood(None)  # no words, nothing understood
            self.results.set_results([])
            self.status.emit("")  # no count left over from the last question
            self.results_changed.emit(0, "")
            return
        phase = self.model_phase
        words_or_picture = bool(self.query_text) or self.query_image is not None
        if phase is ModelPhase.LOADING and words_or_picture:  # browsing needs no model
            self.status.emit("Loading the model\u2026 your search runs as soon as it is ready")
            return
        if phase is ModelPhase.MISSING and self.query_image is not None:
            self.results_changed.emit(0, "Searching with an image needs the CLIP model.")
            return
        self._request_id += 1
        request = SearchRequest(
            self._request_id,
            self.kind,
            RESULT_LIMIT,
            text=self.query_text,
            image=self.query_image,  # type: ignore[arg-type]
            keyword_only=phase is ModelPhase.MISSING,
            filters=self.filters.chosen,
            dismissed=self.filters.dismissed,
        )
        self._questions = {self._request_id: self._question()}
        self.search_worker.note_request(self._request_id)
        self._sent_at = time.monotonic()
        if self.query_image is not None:
            self.status.emit("Searching with the image (reading any text in it)\u2026")
        self.search_requested.emit(request)

    def _on_first_results(self, request_id: int, results: list[SearchResult]) -> None:
        """An image query's matches by the picture alone; its text is still being read."""
        self._on_results(request_id, results, final=False)

    def _on_results(
        self, request_id: int, results: list[SearchResult], *, final: bool = True
    ) -> None:
        if request_id != self._request_id:
            return  # an answer to a question nobody is asking any more
        question = self._questions.get(request_id)
        if results != self._shown:  # the final list often equals the first one
            same = question is not None and question == self._shown_question
            self._shown = list(results)
            self.results.set_results(results, same_question=same)
            self.results.forget_thumbnails()
        self._shown_question = question
        elapsed_ms = (time.monotonic() - self._sent_at) * 1000
        shown = len(self.results.results())
        if results:
            more = "" if final else " \u2014 reading the text in the image\u2026"
            self.status.emit(count_text(results, elapsed_ms, RESULT_LIMIT) + more)
            self.results_changed.emit(shown, "")
        elif final:
            self.results_changed.emit(0, self._no_results_text())

    def _no_results_text(self) -> str:
        if not self.has_folders():
            return "Nothing is indexed yet. Add a folder to search it."
        if self.indexing:
            return "No matches yet \u2014 indexing is still going on."
        what = f"\u201c{self.query_text}\u201d" if self.query_text else "this image"
        return f"No matches for {what}."

    def _on_understood(self, request_id: int, understood: object) -> None:
        if request_id == self._request_id:
            self.filters.set_understood(understood)  # type: ignore[arg-type]

    def _on_search_failed(self, request_id: int, exc: Exception) -> None:
        if request_id == self._request_id:
            self.report_failure("Search failed", exc)

    # -- folders and indexing (indexing.py) ------------------------------------------------------

    def has_folders(self) -> bool:
        return bool(self.library.folders())

    def folder_statuses(self) -> list[FolderStatus]:
        return self.library.status(check_index=False).folders

    def add_folder(self, folder: str) -> None:
        self.jobs.queue(IndexJob(add=[folder]))

    def remove_folder(self, folder: str) -> None:
        self.jobs.queue(IndexJob(remove=[folder]))

    def reindex(self) -> None:
        self.jobs.queue(IndexJob())

    def toggle_pause(self) -> bool:
        return self.jobs.toggle_pause()

    # -- acting on results (desktop.py) ----------------------------------------------------

    def open_result(self, result: SearchResult) -> None:
        self._desktop_answer(result.path, desktop.open_file(result.path, self.opener))

    def reveal_result(self, result: SearchResult) -> None:
        self._desktop_answer(result.path, desktop.reveal(result.path, self.opener))

    def _desktop_answer(self, path: str, outcome: desktop.Outcome) -> None:
        if not outcome:
            self.say(outcome.problem)
            self.desktop_failed.emit(path, outcome.problem)

    def copy_path(self, result: SearchResult) -> None:
        desktop.copy_path(result.path)
        self.status.emit(f"Copied {result.path}")

    def feed_thumbnails(self, model: ResultsModel) -> ThumbnailFeeder:
        """Thumbnails for a results grid (this one's, or the Compare window's): the same
        disk cache and pool."""
        return ThumbnailFeeder(self.thumbnails, self.pool, model)
