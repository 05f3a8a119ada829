"""The service the CLI and the app talk to: one data dir, one model. Folders, indexing,
watching, searching (library_search.py), status, switching the model (model_switch.py),
comparing models and the models stored here (model_shelf.py); plain results back
(finder.core.types), never the catalog, vector store, indexer or switch state. Settings
come in from finder.config.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from finder.core.indexing.first_look import FirstLook
from finder.core.indexing.indexer import Indexer, IndexerConfig, ProgressCallback
from finder.core.indexing.metadata_pass import fill_missing_metadata
from finder.core.indexing.ocr_pass import OcrReport, read_text_in_images
from finder.core.indexing.phash_pass import fill_missing_phashes
from finder.core.indexing.precision_sample import first_photos, has_photos
from finder.core.indexing.watcher import (
    BatchCallback,
    ErrorCallback,
    RootsCallback,
    TextCallback,
    WatchConfig,
    Watcher,
)
from finder.core.ingest.exclusions import Exclusion
from finder.core.ingest.ocr import Ocr
from finder.core.ingest.thumbnails import THUMBNAIL_DIR, ThumbnailCache
from finder.core.library_search import LibrarySearch
from finder.core.library_status import library_status
from finder.core.library_watch import WatchedParts
from finder.core.model_shelf import (
    DownloadCallback,
    delete_model,
    download_model,
    runtime_of,
    stored_models,
)
from finder.core.model_switch import ModelSwitch
from finder.core.models.availability import missing_weights
from finder.core.models.embedder import Embedder
from finder.core.models.onnx_runtime import OnnxEmbedder
from finder.core.models.quantise import (
    MIN_SAMPLE,
    SAMPLE,
    check_int8,
    needs_check,
    with_proven_precision,
)
from finder.core.models.runtime import open_embedder, optimise, should_export
from finder.core.models.spec import ModelSpec
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.models.weights import Hub
from finder.core.search.compare import Candidate, Comparison, candidates
from finder.core.search.search import Search
from finder.core.store.catalog import Catalog
from finder.core.store.catalog_loss import check_kept
from finder.core.store.errors import storage_error
from finder.core.store.layout import CATALOG_FILE, INDEX_DIR
from finder.core.store.lock import WriterLock
from finder.core.store.model_store import ModelStore
from finder.core.store.rows import Root
from finder.core.types import (
    IndexReport,
    LibraryStatus,
    RuntimeInfo,
    StoredModel,
)


class FolderError(Exception):
    pass


class Library(LibrarySearch):
    """Catalog + vector store + search (+ indexer when writable) over one data dir.

    A writable library holds the data dir's writer lock until `close()`. `precision`,
    `backend` and `hub` say how models it loads itself run (a switch's target, a
    compared model, the ONNX export of its own).
    """

    def __init__(
        self,
        data_dir: Path,
        embedder: Embedder,
        *,
        writable: bool,
        indexer_config: IndexerConfig | None = None,
        ocr: bool = True,
        precision: str | None = None,
        backend: str | None = None,
        hub: Hub | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.embedder = embedder
        self.writable = writable
        self._precision, self._backend, self._hub = precision, backend, hub
        self._lock: WriterLock | None = None
        if writable:
            self._lock = WriterLock(data_dir)
            try:
                self._lock.acquire()
            except OSError as exc:  # a read-only or full data dir
                self._lock = None
                raise storage_error(data_dir, exc) from exc
        try:
            self._catalog = Catalog(data_dir / CATALOG_FILE)
            check_kept(self._catalog, data_dir / INDEX_DIR)
        except Exception:
            self.close()
            raise
        self._models = ModelStore(self._catalog, embedder, data_dir / INDEX_DIR, writable=writable)
        # OCR (text in query images, and in indexed ones after embedding) loads lazily.
        self._search = Search(self._catalog, self._models, embedder, Ocr() if ocr else None)
        self._ocr = ocr
        self.thumbnails = ThumbnailCache(data_dir / THUMBNAIL_DIR)
        self._indexer = Indexer(
            self._catalog, self._models, embedder, indexer_config, self.thumbnails
        )
        if ocr:  # the OCR pass's gate runs on the index run's decode (first_look.py)
            self._indexer.first_look = FirstLook(Ocr(threads=1, side_by_side=True))
        # Choosing, resuming, cancelling a model switch: library.switch.choose(...) etc.
        self.switch = ModelSwitch(
            data_dir,
            self._catalog,
            writable=writable,
            indexer_config=self._indexer.config,
            serving=lambda: self.embedder,
            load=self._model_for,
            adopt=self._adopt,
        )
        self._watcher: Watcher | None = None

    @classmethod
    def open(
        cls,
        data_dir: Path,
        spec: ModelSpec,
        *,
        writable: bool,
        precision: str | None = None,
        backend: str | None = None,
        hub: Hub | None = None,
    ) -> Library:
        """The library of `data_dir`, searching with `spec` as these settings run it
        (its ONNX export when there is one and they allow it)."""
        embedder = open_embedder(spec, data_dir, precision=precision, backend=backend, hub=hub)
        # The int8 image tower where it passed its check on this library's photos.
        embedder = with_proven_precision(data_dir, embedder, precision)
        return cls(
            data_dir, embedder, writable=writable, precision=precision, backend=backend, hub=hub
        )

    # -- the model it searches with -----------------------------------------------------

    @property
    def model_description(self) -> str:
        return self.embedder.description

    @property
    def model_spec(self) -> ModelSpec | None:
        """None for a model that is no ModelSpec's (a test's stand-in)."""
        return getattr(self.embedder, "spec", None)

    def runtime(self) -> RuntimeInfo:
        return runtime_of(self.embedder)

    def model_missing(self) -> str:
        """Why the model cannot be loaded, found without trying (its weights are not on
        disk): "" when they are there or only loading can tell. Quick: no torch."""
        return missing_weights(self.embedder) or ""

    def load_model(self) -> None:
        """Load the model now (slow: call it off the GUI thread); ModelUnavailableError
        when its weights are missing."""
        self.embedder.load()

    def download_model(
        self, *, progress: DownloadCallback | None = None, cancel: threading.Event | None = None
    ) -> str:
        """Download the model searches use (its ready ONNX export when one is published,
        which then runs it, else its weights); their path."""
        path = download_model(self.embedder, progress=progress, cancel=cancel)
        spec = self.model_spec
        if isinstance(self.embedder, ClipEmbedder) and spec is not None:
            ready = open_embedder(
                spec, self.data_dir, precision=self._precision, backend=self._backend, hub=self._hub
            )
            if not isinstance(ready, ClipEmbedder):
                self.use_runtime(ready)
        return path

    def wants_faster_runtime(self) -> bool:
        """A torch model these settings would run faster exported for ONNX Runtime."""
        return (
            self.writable
            and should_export(self.embedder, self.data_dir, self._backend)
            and not self.model_missing()
        ) or self._precision_check_due(self.embedder)

    def _precision_check_due(self, embedder: Embedder) -> bool:
        """An ONNX model whose int8 image tower was not checked on this library's photos
        yet, and enough photos to check it on (models/quantise.py)."""
        return (
            self.writable
            and needs_check(self.data_dir, embedder, self._precision)
            and has_photos(self.folders(), MIN_SAMPLE)
        )

    def export_faster_runtime(self) -> Embedder:
        """Export the model for ONNX Runtime (once; slow, off the GUI thread) and return
        it so; the model itself when it cannot or need not be (adopt_faster_runtime)."""
        embedder = optimise(self.embedder, self.data_dir, self._backend)
        if isinstance(embedder, OnnxEmbedder) and self._precision_check_due(embedder):
            # Once per model file: int8 is kept only if it agrees with fp32 on these photos.
            check_int8(self.data_dir, embedder, first_photos(self.folders(), SAMPLE))
        return with_proven_precision(self.data_dir, embedder, self._precision)

    def adopt_faster_runtime(self, embedder: Embedder) -> bool:
        """Run with `embedder` (what export_faster_runtime gave) when it is this model
        run another way; False when nothing changed (not exported, or the model was
        switched meanwhile)."""
        if embedder is self.embedder or embedder.key != self.embedder.key:
            return False
        self.use_runtime(embedder)
        return True

    def use_runtime(self, embedder: Embedder) -> None:
        """Run the same model another way (its ONNX export instead of torch): the same
        key, so the same vectors and index; nothing is reopened."""
        if embedder.key != self.embedder.key:
            raise ValueError(f"{embedder.key} is another model than {self.embedder.key}")
        self.embedder = self._search.embedder = self._indexer.embedder = embedder
        self._models.embedder = embedder

    def use_embedder(self, embedder: Embedder) -> None:
        """Serve searches (and index) with another model from now on (after a switch)."""
        self.embedder = embedder
        self._models = ModelStore(
            self._catalog, embedder, self.data_dir / INDEX_DIR, writable=self.writable
        )
        self._search = Search(self._catalog, self._models, embedder, Ocr() if self._ocr else None)
        first_look = self._indexer.first_look
        self._indexer = Indexer(
            self._catalog, self._models, embedder, self._indexer.config, self.thumbnails
        )
        self._indexer.first_look = first_look

    # -- folders ------------------------------------------------------------------------

    def folders(self) -> list[str]:
        """The watched folders."""
        return [root.path for root in self._catalog.roots()]

    def add_folder(self, folder: str | os.PathLike[str]) -> Root:
        path = Path(folder).expanduser()
        if not path.exists():
            raise FolderError(f"{path}: no such folder")
        if not path.is_dir():
            raise FolderError(f"{path}: not a folder")
        path = path.resolve()
        if _is_inside(path, self.data_dir):
            raise FolderError(f"{path}: that is finder's own data folder")
        return self._catalog.add_root(str(path))

    def remove_folder(self, folder: str | os.PathLike[str]) -> int:
        """Forget a watched folder and its index entries; the files are not touched.
        Returns how many files the index forgot."""
        path = str(Path(folder).expanduser().resolve())
        for root in self._catalog.roots():
            if root.path == path:
                files = sum(self._catalog.root_counts(root.id).values())
                removed = self._catalog.remove_root(root.id)
                if self._models.is_open:
                    self._models.store.remove(removed)
                    self._models.save()
                return files
        raise FolderError(f"{path} is not a watched folder")

    # -- what the person left out (finder.core.ingest.exclusions) --------------------------

    def exclusions(self) -> list[Exclusion]:
        return self._catalog.exclusions()

    def add_exclusion(self, pattern: str, folder: str | None = None) -> Exclusion:
        """Leave `pattern` out of the watched `folder`, or of every folder: its files leave
        searches at once and the index at the next run (ExclusionError if it cannot be)."""
        return self._catalog.add_exclusion(pattern, folder)[0]

    def remove_exclusion(self, pattern: str, folder: str | None = None) -> bool:
        """Read what `pattern` left out again from the next index run; False if it was
        not an exclusion."""
        return self._catalog.remove_exclusion(pattern, folder)

    # -- indexing and watching ------------------------------------------------------------

    def index(
        self,
        folders: Sequence[str | os.PathLike[str]] | None = None,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        read_text: bool = True,
    ) -> IndexReport:
        """Bring the index up to date with the folders (these ones, else all of them).
        Without the model (report.model_missing says why) names, passages and text are
        indexed; once it is there, the next run adds only its vectors. Files indexed
        before finder read metadata get theirs (not embedded again). `read_text=False`:
        no OCR pass (`read_text_in_images`) will follow, so the run does not prepare one."""
        paths = [Path(folder) for folder in folders] if folders else None
        report = self._indexer.run(
            paths,
            progress=progress,
            cancel=cancel,
            model_missing=self.model_missing(),
            look_for_text=read_text,
        )
        fill_missing_metadata(self._catalog, cancel)
        fill_missing_phashes(self._catalog, cancel)  # photos an older finder indexed
        return report

    def read_text_in_images(
        self,
        *,
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
        limit: int | None = None,
    ) -> OcrReport:
        """The OCR pass, after indexing: text in photos and scanned PDF pages becomes
        keyword-searchable. Files already looked at are skipped."""
        if not self._ocr:
            return OcrReport()
        return read_text_in_images(
            self._catalog,
            Ocr(threads=2),
            cancel=cancel,
            progress=progress,
            limit=limit,
            cleared=self._indexer.text_free,
        )

    def watch(
        self,
        *,
        on_batch_indexed: BatchCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_roots_changed: RootsCallback | None = None,
        read_text: bool = False,
        on_text_read: TextCallback | None = None,
        config: WatchConfig | None = None,
        **observers: Any,
    ) -> Watcher:
        """A watcher keeping the index following the folders once `start()`ed, until
        `stop()`. Its callbacks run on its own thread. `observers`: the watcher's
        observer factories (tests fake the file system's events)."""
        self._watcher = Watcher(
            WatchedParts(self),
            on_batch_indexed=on_batch_indexed,
            on_error=on_error,
            on_roots_changed=on_roots_changed,
            read_text=read_text,
            on_text_read=on_text_read,
            config=config,
            **observers,
        )
        return self._watcher

    # -- status ---------------------------------------------------------------------------

    def status(self, *, check_index: bool = True) -> LibraryStatus:
        """Folders and counts, the model and its index's health, a switch in progress
        and a watcher running in another process. `check_index` opens the index."""
        return library_status(
            self.data_dir, self._catalog, self._models, self.switch, check_index=check_index
        )

    # -- models: each has its own vectors and index; switching re-embeds the items --------

    def stored_models(self) -> list[StoredModel]:
        return stored_models(self._catalog, self.data_dir)

    def delete_model(self, key: str) -> int:
        """Delete a model's vectors and index (not the one searches use); bytes freed."""
        if not self.writable:
            raise RuntimeError("deleting a model needs a writable library")
        return delete_model(self._catalog, self.data_dir, key, self.embedder.key)

    def _adopt(self, embedder: Embedder) -> None:
        if self._watcher is not None and self._watcher.running:
            self._watcher.use_embedder(embedder)  # it saves the old index and rescans
        else:
            self.use_embedder(embedder)

    def _model_for(self, spec: ModelSpec) -> Embedder:
        return open_embedder(
            spec, self.data_dir, precision=self._precision, backend=self._backend, hub=self._hub
        )

    def embed_with(
        self,
        embedder: Embedder,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        vectors_only: bool = False,
    ) -> IndexReport:
        """Give every file `embedder`'s vectors (ModelSwitch.embed)."""
        return self.switch.embed(
            embedder, progress=progress, cancel=cancel, vectors_only=vectors_only
        )

    # -- comparing models -------------------------------------------------------------------

    def compare_candidates(self) -> list[Candidate]:
        """Models with vectors here: the one searches use first, then the newest."""
        return candidates(self._catalog, self.data_dir, self.model_spec)

    def comparison(self, specs: Sequence[ModelSpec]) -> Comparison:
        """Searches of these models kept open between queries (`close()` releases the
        ones it loaded); the model searches use is lent, not loaded twice."""
        return Comparison(
            self.data_dir,
            specs,
            embedders={self.embedder.key: self.embedder},
            precision=self._precision,
        )

    def close(self) -> None:
        catalog = getattr(self, "_catalog", None)
        if catalog is not None:
            catalog.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder.resolve())
    except ValueError:
        return False
    return True
