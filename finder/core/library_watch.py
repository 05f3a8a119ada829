"""The library as its watcher sees it: the watcher (finder.core.indexing.watcher) sits
below the service and gets what it needs through a WatchedLibrary; this is the
Library's, so its catalog and current indexer stay private to everyone else."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from finder.core.indexing.indexer import Indexer
from finder.core.indexing.ocr_pass import OcrReport
from finder.core.models.embedder import Embedder

if TYPE_CHECKING:
    from finder.core.library import Library


class WatchedParts:
    def __init__(self, library: Library) -> None:
        self.writable, self.data_dir = library.writable, library.data_dir
        self.catalog = library._catalog
        self._library = library

    @property
    def indexer(self) -> Indexer:  # read at each batch: a model switch replaces it
        return self._library._indexer

    def use_embedder(self, embedder: Embedder) -> None:
        self._library.use_embedder(embedder)

    def read_text_in_images(self, *, cancel: threading.Event | None = None) -> OcrReport:
        return self._library.read_text_in_images(cancel=cancel)
