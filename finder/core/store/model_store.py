"""The multi-modal store of one embedding model: its catalog id and its vector index."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from finder.core.models.embedder import Embedder
from finder.core.store.catalog import Catalog
from finder.core.store.vectors import HnswParams, VectorStore, open_store, rebuild, sync

log = logging.getLogger(__name__)

# Past this share of deleted entries, a save rebuilds the index compactly.
COMPACT_ABOVE = 0.3


def index_dir(index_root: Path, model_key: str) -> Path:
    return index_root / re.sub(r"[^A-Za-z0-9._-]+", "_", model_key)


class ModelStore:
    """Opened lazily (it needs the model's dimension); saved only by the writer."""

    def __init__(
        self,
        catalog: Catalog,
        embedder: Embedder,
        index_root: Path,
        *,
        writable: bool,
        params: HnswParams | None = None,
    ) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.index_root = index_root
        self.writable = writable
        self.params = params
        self._store: VectorStore | None = None
        self._model_id: int | None = None
        self.open_state = "not open"
        self._open_lock = threading.Lock()  # the app's search and index threads both open it

    @property
    def is_open(self) -> bool:
        return self._store is not None

    @property
    def directory(self) -> Path:
        return index_dir(self.index_root, self.embedder.key)

    def open(self) -> VectorStore:
        if self._store is not None:
            return self._store
        with self._open_lock:
            return self._open_locked()

    def _open_locked(self) -> VectorStore:
        if self._store is None:
            # A known model's dimension comes from the catalog: no need to load it.
            dim = self.catalog.model_dim(self.embedder.key) or self.embedder.dim
            if self.writable:
                self._model_id = self.catalog.model_id(self.embedder.key, dim)
            else:
                self._model_id = self.catalog.find_model_id(self.embedder.key) or -1
            self._store, self.open_state = open_store(
                self.directory, self.catalog, self._model_id, dim, self.params
            )
            log.info("vector index %s: %s", self.directory, self.open_state)
            if self.writable and self.open_state != "loaded":
                self._store.save()
        return self._store

    @property
    def store(self) -> VectorStore:
        return self.open()

    @property
    def model_id(self) -> int:
        self.open()
        assert self._model_id is not None
        return self._model_id

    def refresh(self) -> bool:
        """Pick up what a writer committed since we opened (readers call this)."""
        if self._store is None or self._model_id is None:
            return False
        if self._model_id < 0:
            found = self.catalog.find_model_id(self.embedder.key)
            if found is None:
                return False
            self._model_id = found
        return sync(self._store, self.catalog, self._model_id)

    def save(self) -> None:
        if not self.writable or self._store is None:
            return
        if self._store.deleted_fraction > COMPACT_ABOVE:
            self._store = rebuild(
                self.directory, self.catalog, self.model_id, self._store.dim, self.params
            )
        self._store.save()

    def close(self) -> None:
        self._store = None
