from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from finder.core.store.catalog import Catalog
from finder.core.store.rows import NewItem
from finder.core.store.vectors import IndexCorruptError, VectorStore, open_store
from finder.core.types import FileKind, FileStatus, Modality

DIM = 16


def _unit(rows: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(rows, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_query_returns_nearest_with_cosine_scores(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    vectors = _unit(200, 0)
    store.add(Modality.IMAGE, np.arange(1, 201), vectors)
    ids, scores = store.query(Modality.IMAGE, vectors[41], 5)
    assert ids[0] == 42
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert list(scores) == sorted(scores, reverse=True)


def test_modalities_are_searched_separately(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    store.add(Modality.IMAGE, np.array([1, 2]), _unit(2, 1))
    store.add(Modality.TEXT, np.array([3, 4, 5]), _unit(3, 2))
    ids, _ = store.query(Modality.TEXT, _unit(1, 3)[0], 10)
    assert set(ids.tolist()) == {3, 4, 5}


def test_removed_items_are_not_returned_and_k_is_capped(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    vectors = _unit(10, 4)
    store.add(Modality.IMAGE, np.arange(10), vectors)
    store.remove(list(range(8)))
    ids, _ = store.query(Modality.IMAGE, vectors[0], 10)
    assert set(ids.tolist()) <= {8, 9}
    assert store.count(Modality.IMAGE) == 2


def test_grows_past_initial_capacity(tmp_path: Path) -> None:
    store = VectorStore(tmp_path, DIM)
    vectors = _unit(3000, 5)
    for start in range(0, 3000, 500):
        store.add(Modality.IMAGE, np.arange(start, start + 500), vectors[start : start + 500])
    assert store.count(Modality.IMAGE) == 3000
    assert store.query(Modality.IMAGE, vectors[2999], 1)[0][0] == 2999


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    store = VectorStore(tmp_path / "idx", DIM)
    vectors = _unit(50, 6)
    store.add(Modality.IMAGE, np.arange(50), vectors)
    store.remove([3])
    store.save()
    loaded = VectorStore.load(tmp_path / "idx", DIM)
    assert loaded.ids(Modality.IMAGE) == store.ids(Modality.IMAGE)
    assert (
        loaded.query(Modality.IMAGE, vectors[7], 3)[0].tolist()
        == store.query(Modality.IMAGE, vectors[7], 3)[0].tolist()
    )
    # Only one generation is kept on disk.
    assert len([p for p in (tmp_path / "idx").iterdir() if p.name.startswith("gen-")]) == 1


def test_truncated_or_missing_index_is_detected(tmp_path: Path) -> None:
    store = VectorStore(tmp_path / "idx", DIM)
    store.add(Modality.IMAGE, np.arange(20), _unit(20, 7))
    store.save()
    current = (tmp_path / "idx" / "CURRENT").read_text()
    index_file = tmp_path / "idx" / current / "image.hnsw"
    index_file.write_bytes(index_file.read_bytes()[:100])
    with pytest.raises(IndexCorruptError):
        VectorStore.load(tmp_path / "idx", DIM)
    with pytest.raises(IndexCorruptError):
        VectorStore.load(tmp_path / "nothing-here", DIM)


def _catalog_with_vectors(path: Path, n: int) -> tuple[Catalog, int, np.ndarray]:
    catalog = Catalog(path)
    root = catalog.add_root("/r")
    model_id = catalog.model_id("m", DIM)
    vectors = _unit(n, 8)
    with catalog.transaction() as tx:
        for i in range(n):
            file_id, _ = tx.upsert_file(
                root_id=root.id,
                path=f"/r/{i}.jpg",
                size=1,
                mtime_ns=1,
                content_hash=str(i),
                kind=FileKind.PHOTO,
                status=FileStatus.OK,
                error=None,
            )
            tx.add_items(file_id, model_id, [NewItem(Modality.IMAGE, vectors[i])])
    return catalog, model_id, vectors


def test_open_store_rebuilds_from_the_catalog_when_missing(tmp_path: Path) -> None:
    catalog, model_id, vectors = _catalog_with_vectors(tmp_path / "c.sqlite3", 30)
    store, state = open_store(tmp_path / "idx", catalog, model_id, DIM)
    assert state.startswith("rebuilt")
    assert store.count(Modality.IMAGE) == 30
    ids, _ = store.query(Modality.IMAGE, vectors[4], 1)
    assert catalog.items([int(ids[0])])[int(ids[0])].path == "/r/4.jpg"


def test_open_store_syncs_a_stale_index(tmp_path: Path) -> None:
    # As after a crash between committing a batch and saving the index.
    catalog, model_id, _ = _catalog_with_vectors(tmp_path / "c.sqlite3", 10)
    store, _ = open_store(tmp_path / "idx", catalog, model_id, DIM)
    store.save()
    with catalog.transaction() as tx:
        record = catalog.file_by_path("/r/0.jpg")
        assert record is not None
        tx.delete_files([record.id])
    synced, state = open_store(tmp_path / "idx", catalog, model_id, DIM)
    assert state == "synced"
    assert synced.count(Modality.IMAGE) == 9
