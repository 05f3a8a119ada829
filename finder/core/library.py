"""The service object the CLI and the app talk to: one data dir, one model."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from finder.core.indexing.indexer import Indexer, IndexerConfig, ProgressCallback
from finder.core.indexing.ocr_pass import OcrReport, read_text_in_images
from finder.core.indexing.watch_state import read_watch_state
from finder.core.ingest.ocr import Ocr
from finder.core.ingest.thumbnails import THUMBNAIL_DIR, ThumbnailCache
from finder.core.models.embedder import Embedder
from finder.core.models.export import export_dir
from finder.core.models.switching import cancel_switch, load_state, take_over_if_complete
from finder.core.search.search import Search
from finder.core.store.catalog import Catalog
from finder.core.store.errors import storage_error
from finder.core.store.layout import CATALOG_FILE, INDEX_DIR
from finder.core.store.lock import WriterLock
from finder.core.store.model_store import ModelStore, index_dir
from finder.core.store.rows import Root
from finder.core.types import IndexReport, Modality

log = logging.getLogger(__name__)


class FolderError(Exception):
    pass


@dataclass
class FolderStatus:
    path: str
    present: bool
    photos: int
    documents: int
    errors: int
    offline: bool = False  # not found when last looked at: its files are kept, hidden
    watch: str = ""  # how a running watcher follows it: "native", "polling", "offline"
    watch_reason: str = ""  # why it is polled (inotify limit, network file system)


@dataclass
class LibraryStatus:
    data_dir: str
    model: str
    model_key: str
    schema_version: int
    folders: list[FolderStatus] = field(default_factory=list)
    photos: int = 0
    documents: int = 0
    errors: int = 0
    items: int = 0
    vectors: dict[str, int] = field(default_factory=dict)
    index_state: str = ""
    recent_errors: list[tuple[str, str]] = field(default_factory=list)
    watcher_pid: int | None = None  # the process watching the folders, if one is
    switching_to: str | None = None  # the model being switched to (models.json), if any
    switching_key: str | None = None
    switch_embedded: int = 0  # files with the new model's vectors so far
    switch_total: int = 0  # files it needs


class ModelInUseError(Exception):
    """The model cannot be deleted: searches use it."""


@dataclass(frozen=True)
class StoredModel:
    """A model with vectors in this data dir, and what it takes on disk."""

    key: str
    dim: int
    vectors: int
    files_embedded: int
    files_total: int
    index_bytes: int  # its hnswlib index directory and its ONNX export, if any
    vector_bytes: int  # its vectors inside the catalog (float32, without SQLite overhead)

    @property
    def complete(self) -> bool:
        return self.files_embedded >= self.files_total

    @property
    def bytes(self) -> int:
        return self.index_bytes + self.vector_bytes


class Library:
    """Catalog + vector store + search (+ indexer when writable) over one data dir.

    A writable library holds the data dir's writer lock until `close()`.
    """

    def __init__(
        self,
        data_dir: Path,
        embedder: Embedder,
        *,
        writable: bool,
        indexer_config: IndexerConfig | None = None,
        ocr: bool = True,
    ) -> None:
        self.data_dir = data_dir
        self.embedder = embedder
        self.writable = writable
        self._lock: WriterLock | None = None
        if writable:
            self._lock = WriterLock(data_dir)
            try:
                self._lock.acquire()
            except OSError as exc:  # a read-only or full data dir
                self._lock = None
                raise storage_error(data_dir, exc) from exc
        try:
            self.catalog = Catalog(data_dir / CATALOG_FILE)
        except Exception:
            self.close()
            raise
        self.models = ModelStore(self.catalog, embedder, data_dir / INDEX_DIR, writable=writable)
        # OCR (text in query images, and in indexed ones after embedding) loads lazily.
        self.search = Search(self.catalog, self.models, embedder, Ocr() if ocr else None)
        self.ocr_enabled = ocr
        self.thumbnails = ThumbnailCache(data_dir / THUMBNAIL_DIR)
        self.indexer = Indexer(self.catalog, self.models, embedder, indexer_config, self.thumbnails)

    # -- folders ------------------------------------------------------------------------

    def add_folder(self, folder: str | os.PathLike[str]) -> Root:
        path = Path(folder).expanduser()
        if not path.exists():
            raise FolderError(f"{path}: no such folder")
        if not path.is_dir():
            raise FolderError(f"{path}: not a folder")
        path = path.resolve()
        if _is_inside(path, self.data_dir):
            raise FolderError(f"{path}: that is finder's own data folder")
        return self.catalog.add_root(str(path))

    def remove_folder(self, folder: str | os.PathLike[str]) -> int:
        """Forget a watched folder and its index entries; the files are not touched."""
        path = str(Path(folder).expanduser().resolve())
        for root in self.catalog.roots():
            if root.path == path:
                removed = self.catalog.remove_root(root.id)
                if self.models.is_open:
                    self.models.store.remove(removed)
                    self.models.save()
                return len(removed)
        raise FolderError(f"{path} is not a watched folder")

    def read_text_in_images(
        self,
        *,
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
        limit: int | None = None,
    ) -> OcrReport:
        """The OCR pass, after indexing: text in photos and scanned PDF pages becomes
        keyword-searchable. Files already looked at are skipped."""
        if not self.ocr_enabled:
            return OcrReport()
        return read_text_in_images(
            self.catalog, Ocr(threads=2), cancel=cancel, progress=progress, limit=limit
        )

    # -- status ---------------------------------------------------------------------------

    def status(self, *, check_index: bool = True) -> LibraryStatus:
        counts = self.catalog.counts()
        status = LibraryStatus(
            data_dir=str(self.data_dir),
            model=self.embedder.description,
            model_key=self.embedder.key,
            schema_version=self.catalog.schema_version,
            photos=counts["photos"],
            documents=counts["documents"],
            errors=counts["errors"],
            items=counts["items"],
            recent_errors=self.catalog.errors(limit=10),
        )
        watching = read_watch_state(self.data_dir)
        if watching is not None:
            status.watcher_pid = int(watching.get("pid", 0)) or None
        watched = watching.get("roots", {}) if watching else {}
        for root in self.catalog.roots():
            per = self.catalog.root_counts(root.id)
            how = watched.get(root.path, {})
            status.folders.append(
                FolderStatus(
                    root.path,
                    Path(root.path).is_dir(),
                    **per,
                    offline=root.offline,
                    watch=str(how.get("mode", "")),
                    watch_reason=str(how.get("reason", "")),
                )
            )
        if check_index:
            status.index_state, status.vectors = self._index_health()
        self._switch_status(status)
        return status

    def _switch_status(self, status: LibraryStatus) -> None:
        target = load_state(self.data_dir).target
        if target is not None:
            done, total = self.catalog.model_progress(target.key)
            status.switching_to, status.switching_key = target.label, target.key
            status.switch_embedded, status.switch_total = done, total

    def _index_health(self) -> tuple[str, dict[str, int]]:
        model_id = self.catalog.find_model_id(self.embedder.key)
        if model_id is None:
            return "empty (nothing indexed with this model yet)", {}
        store = self.models.store
        return self.models.open_state, {m.value: store.count(m) for m in Modality}

    # -- models: each has its own vectors and index; switching re-embeds the items --------

    def stored_models(self) -> list[StoredModel]:
        out = []
        for key, dim, count in self.catalog.stored_models():
            done, total = self.catalog.model_progress(key)
            out.append(
                StoredModel(
                    key,
                    dim,
                    count,
                    done,
                    total,
                    _tree_bytes(index_dir(self.data_dir / INDEX_DIR, key))
                    + _tree_bytes(export_dir(self.data_dir, key)),
                    count * dim * 4,
                )
            )
        return out

    def embed_with(
        self,
        embedder: Embedder,
        *,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        vectors_only: bool = False,
    ) -> IndexReport:
        """Give every file `embedder`'s vectors (its own index, beside the active one's),
        then let it take over if it is the target of a switch and now complete.

        Unchanged files keep their items and other models' vectors; pictures are decoded
        again, passages come from the catalog. Resumable: a killed run loses at most the
        batch in flight, and the next run embeds only files still missing.
        `vectors_only=True` while a watcher indexes the folders with the active model:
        files new or changed meanwhile get this model's vectors on a later run (see
        Indexer.run).
        """
        if not self.writable:
            raise RuntimeError("embedding needs a writable library")
        store = ModelStore(self.catalog, embedder, self.data_dir / INDEX_DIR, writable=True)
        indexer = Indexer(self.catalog, store, embedder, self.indexer.config)
        report = indexer.run(progress=progress, cancel=cancel, vectors_only=vectors_only)
        if not report.cancelled:
            take_over_if_complete(self.data_dir, self.catalog)
        return report

    def embed_until_taken_over(
        self,
        embedder: Embedder,
        *,
        cancel: threading.Event | None = None,
        progress: ProgressCallback | None = None,
        retry_s: float = 5.0,
    ) -> IndexReport:
        """A switch beside live indexing (the app's watcher and index runs): `embed_with`
        with `vectors_only`, so files changed meanwhile keep the active model's vectors,
        repeated until `embedder` takes over, the switch is cancelled or `cancel` is set."""
        cancel = cancel or threading.Event()
        while True:
            report = self.embed_with(embedder, progress=progress, cancel=cancel, vectors_only=True)
            state = load_state(self.data_dir)
            if report.cancelled or state.target is None or state.target.key != embedder.key:
                return report
            if not report.reembedded and cancel.wait(retry_s):  # the rest is being indexed
                report.cancelled = True
                return report

    def use_runtime(self, embedder: Embedder) -> None:
        """Run the same model another way (its ONNX export instead of torch): the same
        key, so the same vectors and index; nothing is reopened."""
        if embedder.key != self.embedder.key:
            raise ValueError(f"{embedder.key} is another model than {self.embedder.key}")
        self.embedder = self.search.embedder = self.indexer.embedder = embedder
        self.models.embedder = embedder

    def use_embedder(self, embedder: Embedder) -> None:
        """Serve searches (and index) with another model from now on (after a switch)."""
        self.embedder = embedder
        self.models = ModelStore(
            self.catalog, embedder, self.data_dir / INDEX_DIR, writable=self.writable
        )
        self.search = Search(
            self.catalog, self.models, embedder, Ocr() if self.ocr_enabled else None
        )
        self.indexer = Indexer(
            self.catalog, self.models, embedder, self.indexer.config, self.thumbnails
        )

    def delete_model(self, key: str) -> int:
        """Delete a model's vectors, its catalog entry and its index; returns the bytes
        freed (index files, plus the vectors' share of the catalog, which SQLite reuses
        for later writes). The active model and the one this library uses are refused;
        deleting the target of a switch cancels the switch."""
        if not self.writable:
            raise RuntimeError("deleting a model needs a writable library")
        state = load_state(self.data_dir)
        active = state.active.key if state.active else None
        if key in (active, self.embedder.key):
            raise ModelInUseError(
                f"{key} answers searches; switch to another model first (`finder models use NAME`)"
            )
        stored = {m.key: m for m in self.stored_models()}
        directory = index_dir(self.data_dir / INDEX_DIR, key)
        if key not in stored and not directory.exists():
            raise ModelInUseError(f"no model {key} in {self.data_dir}")
        if state.target is not None and state.target.key == key:
            cancel_switch(self.data_dir)
        freed = stored[key].vector_bytes if key in stored else 0
        self.catalog.delete_model(key)
        for folder in (directory, export_dir(self.data_dir, key)):  # index, ONNX export
            freed += _tree_bytes(folder)
            shutil.rmtree(folder, ignore_errors=True)
        return freed

    def close(self) -> None:
        catalog = getattr(self, "catalog", None)
        if catalog is not None:
            catalog.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def _tree_bytes(path: Path) -> int:
    total = 0
    for folder, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder.resolve())
    except ValueError:
        return False
    return True
