"""What a watcher is given (its settings, the library it follows) and what it reports."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from finder.core.indexing.change_queue import QueueTiming
from finder.core.indexing.indexer import Indexer
from finder.core.indexing.observers import WatchedRoot
from finder.core.indexing.ocr_pass import OcrReport
from finder.core.models.embedder import Embedder
from finder.core.store.catalog import Catalog
from finder.core.types import IndexReport


@dataclass(frozen=True)
class WatchConfig:
    quiet_s: float = 1.0  # a path is ready once no event touched it for this long
    max_delay_s: float = 10.0  # during a burst, index what is ready at least this often
    write_wait_s: float = 60.0  # longest wait for a writer to close a file (inotify)
    poll_interval_s: float = 5.0  # folders that are polled instead of watched
    recheck_s: float = 5.0  # look for offline folders coming back, and for new folders
    save_every_s: float = 60.0  # save the vector index at most this often while watching
    folder_paths: int = 32  # more changed paths than this in one folder: scan the folder
    retry_s: float = 5.0  # after a failed batch (disk full...), first wait before retrying

    @property
    def timing(self) -> QueueTiming:
        return QueueTiming(self.quiet_s, self.max_delay_s, self.write_wait_s, self.folder_paths)


@dataclass
class WatchBatch:
    """What the watcher indexed in one go."""

    paths: list[str]  # the changed files and folders scanned (empty for a full scan)
    moves: list[tuple[str, str]]
    report: IndexReport
    full: bool = False  # a reconciliation of every folder

    @property
    def changed(self) -> bool:
        r = self.report
        return bool(
            r.added or r.updated or r.moved or r.removed or r.errors or r.offline or r.back_online
        )


class WatchedLibrary(Protocol):
    """What the watcher needs from the service that owns it (Library is one)."""

    @property
    def writable(self) -> bool: ...
    @property
    def data_dir(self) -> Path: ...
    @property
    def catalog(self) -> Catalog: ...
    @property
    def indexer(self) -> Indexer: ...  # read at each batch: a model switch replaces it

    def use_embedder(self, embedder: Embedder) -> None: ...
    def read_text_in_images(self, *, cancel: threading.Event | None = None) -> OcrReport: ...


BatchCallback = Callable[[WatchBatch], None]
ErrorCallback = Callable[[str], None]
RootsCallback = Callable[[list[WatchedRoot]], None]
TextCallback = Callable[[OcrReport], None]
