"""hnswlib vector store: one approximate-kNN index per modality (hnsw.py), saved
atomically.

The store is a cache of the catalog's `vectors` table. On open it is checked against
the catalog and brought in line (missing vectors added, stale ones removed); if it is
missing or unreadable it is rebuilt. Saves write a new generation directory and then
swap a one-line CURRENT pointer with an atomic rename, so a crash mid-save leaves the
previous generation intact.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path

import numpy as np

from finder.core.store.catalog import Catalog
from finder.core.store.hnsw import HnswIndex, HnswParams
from finder.core.types import Modality

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_CURRENT = "CURRENT"


class IndexCorruptError(Exception):
    pass


class VectorStore:
    """The vector index of one embedding model, both modalities."""

    def __init__(self, directory: Path, dim: int, params: HnswParams | None = None) -> None:
        self.directory = directory
        self.dim = dim
        self.params = params or HnswParams()
        self._parts = {m: HnswIndex(dim, self.params) for m in Modality}
        # hnswlib does not allow a resize or a delete during a query: the app searches on
        # one thread while it indexes on another.
        self._lock = threading.RLock()

    # -- editing --------------------------------------------------------------

    def add(self, modality: Modality, ids: np.ndarray, vectors: np.ndarray) -> None:
        with self._lock:
            self._parts[modality].add(ids, vectors)

    def remove(self, ids: list[int]) -> None:
        with self._lock:
            for part in self._parts.values():
                part.remove(ids)

    def count(self, modality: Modality) -> int:
        return len(self._parts[modality])

    def ids(self, modality: Modality) -> set[int]:
        with self._lock:
            return self._parts[modality].labels()

    @property
    def deleted_fraction(self) -> float:
        total = sum(p.index.element_count for p in self._parts.values())
        return sum(p.deleted for p in self._parts.values()) / total if total else 0.0

    # -- searching --------------------------------------------------------------

    def query(
        self, modality: Modality, vector: np.ndarray, k: int, among: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest items of one modality: (item ids, cosine similarities), best first;
        `among`: of these items only (a search narrowed by filters)."""
        with self._lock:
            part = self._parts[modality]
            if among is not None:
                return part.query_among(vector, k, self.params.ef_search, among)
            return part.query(vector, k, self.params.ef_search)

    # -- persistence ------------------------------------------------------------

    def save(self) -> None:
        """Write a new generation and switch CURRENT to it atomically."""
        with self._lock:
            self._save_locked()

    def _save_locked(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        generation = f"gen-{time.time_ns()}"
        tmp = self.directory / (generation + ".tmp")
        tmp.mkdir()
        parts: dict[str, dict[str, int]] = {}
        for modality, part in self._parts.items():
            index_file = tmp / f"{modality.value}.hnsw"
            ids_file = tmp / f"{modality.value}-ids.npy"
            aliases_file = tmp / f"{modality.value}-aliases.npy"
            part.index.save_index(str(index_file))
            np.save(ids_file, np.fromiter(part.live, dtype=np.int64, count=len(part.live)))
            np.save(aliases_file, part.alias_pairs())
            for written in (index_file, ids_file, aliases_file):
                _fsync_file(written)
            parts[modality.value] = {
                "index_bytes": index_file.stat().st_size,
                "ids_bytes": ids_file.stat().st_size,
                "aliases_bytes": aliases_file.stat().st_size,
                "deleted": part.deleted,
            }
        manifest = {"format": FORMAT_VERSION, "dim": self.dim, "parts": parts}
        _write_atomic(tmp / "manifest.json", json.dumps(manifest).encode())
        _fsync_dir(tmp)
        os.replace(tmp, self.directory / generation)
        _write_atomic(self.directory / _CURRENT, generation.encode())
        self._remove_old_generations(keep=generation)

    def _remove_old_generations(self, keep: str) -> None:
        for entry in self.directory.iterdir():
            if entry.name.startswith("gen-") and entry.name != keep:
                shutil.rmtree(entry, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path, dim: int, params: HnswParams | None = None) -> VectorStore:
        """Load the current generation; IndexCorruptError if it is missing or damaged."""
        try:
            generation = (directory / _CURRENT).read_text().strip()
            gen_dir = directory / generation
            manifest = json.loads((gen_dir / "manifest.json").read_text())
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"no readable index in {directory}: {exc}") from exc
        if manifest.get("format") != FORMAT_VERSION or manifest.get("dim") != dim:
            raise IndexCorruptError(f"index in {directory} has another format or dimension")
        store = cls(directory, dim, params)
        for modality in Modality:
            meta = manifest["parts"][modality.value]
            index_file = gen_dir / f"{modality.value}.hnsw"
            ids_file = gen_dir / f"{modality.value}-ids.npy"
            # Generations saved before equal vectors were stored once have no aliases file
            # (and may hold equal vectors in the graph: queries tolerate them).
            aliases_file = gen_dir / f"{modality.value}-aliases.npy"
            try:
                sizes = {index_file: meta["index_bytes"], ids_file: meta["ids_bytes"]}
                if "aliases_bytes" in meta:
                    sizes[aliases_file] = meta["aliases_bytes"]
                if any(path.stat().st_size != size for path, size in sizes.items()):
                    raise IndexCorruptError(f"{index_file} is truncated")
                part = HnswIndex(dim, store.params, saved=index_file)
                store._parts[modality] = part
                part.live = {int(i) for i in np.load(ids_file)}
                if "aliases_bytes" in meta:
                    part.set_aliases((int(a), int(b)) for a, b in np.load(aliases_file))
                part.deleted = int(meta["deleted"])
            except (OSError, RuntimeError, ValueError, KeyError) as exc:
                raise IndexCorruptError(f"cannot read {index_file}: {exc}") from exc
        return store


def saved_labels(directory: Path) -> np.ndarray:
    """The item ids a saved index holds (both modalities), read without loading it;
    empty when there is no readable saved index."""
    try:
        generation = (directory / _CURRENT).read_text().strip()
        gen_dir = directory / generation
        manifest = json.loads((gen_dir / "manifest.json").read_text())
        parts = []
        for modality in Modality:
            parts.append(np.load(gen_dir / f"{modality.value}-ids.npy"))
            if "aliases_bytes" in manifest["parts"][modality.value]:
                parts.append(np.load(gen_dir / f"{modality.value}-aliases.npy")[:, 0])
    except (OSError, ValueError, KeyError, IndexError):
        return np.zeros(0, dtype=np.int64)
    return np.concatenate(parts).astype(np.int64)


def open_store(
    directory: Path, catalog: Catalog, model_id: int, dim: int, params: HnswParams | None = None
) -> tuple[VectorStore, str]:
    """Load the saved index and bring it in line with the catalog, or rebuild it.

    Returns the store and what happened ("loaded", "synced", "rebuilt: reason").
    """
    try:
        store = VectorStore.load(directory, dim, params)
    except IndexCorruptError:
        # A writer may have swapped generations under us: one more try before rebuilding.
        try:
            store = VectorStore.load(directory, dim, params)
        except IndexCorruptError as exc:
            log.info("rebuilding the vector index: %s", exc)
            return rebuild(directory, catalog, model_id, dim, params), f"rebuilt ({exc})"
    changed = sync(store, catalog, model_id)
    return store, "synced" if changed else "loaded"


def rebuild(
    directory: Path, catalog: Catalog, model_id: int, dim: int, params: HnswParams | None = None
) -> VectorStore:
    store = VectorStore(directory, dim, params)
    for modality in Modality:
        for ids, vectors in catalog.vectors(model_id, modality):
            store.add(modality, ids, vectors)
    return store


def sync(store: VectorStore, catalog: Catalog, model_id: int) -> bool:
    """Add what the catalog has and the store lacks, drop what the catalog no longer has."""
    changed = False
    for modality in Modality:
        in_catalog = catalog.vector_ids(model_id, modality)
        in_store = np.fromiter(store.ids(modality), dtype=np.int64)
        missing = np.setdiff1d(in_catalog, in_store, assume_unique=True)
        stale = np.setdiff1d(in_store, in_catalog, assume_unique=True)
        if len(stale):
            store.remove([int(i) for i in stale])
            changed = True
        if len(missing):
            ids, vectors = catalog.vectors_for(model_id, [int(i) for i in missing])
            store.add(modality, ids, vectors)
            changed = True
    return changed


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not supported on this platform (Windows)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
