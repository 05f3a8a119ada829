"""Equal vectors (the same passage in many files) must not break the approximate index."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from finder.core.store.hnsw import HnswIndex, HnswParams
from finder.core.store.vectors import VectorStore
from finder.core.types import Modality

DIM = 512  # CLIP's size: the graph's trouble with equal points shows best here


def _unit(rows: int, seed: int, dim: int = DIM) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _store_with_equal_vectors(tmp_path: Path, equal: int, batch: int = 64) -> VectorStore:
    """`equal` copies of one vector (labels 0..equal-1, added a batch at a time as the
    indexer does), then 5 other vectors (labels equal..equal+4)."""
    store = VectorStore(tmp_path, DIM)
    same = np.tile(_unit(1, 0), (equal, 1))
    for start in range(0, equal, batch):
        end = min(start + batch, equal)
        store.add(Modality.TEXT, np.arange(start, end), same[start:end])
    store.add(Modality.TEXT, np.arange(equal, equal + 5), _unit(5, 1))
    return store


@pytest.mark.parametrize("batch", [64, 5000])
def test_thousands_of_equal_vectors_answer_a_k50_query(tmp_path: Path, batch: int) -> None:
    store = _store_with_equal_vectors(tmp_path, 5000, batch)
    others = _unit(5, 1)
    for k in (50, 200, 5005):
        ids, scores = store.query(Modality.TEXT, _unit(1, 2)[0], k)
        assert len(ids) == k and len(set(ids.tolist())) == k
        assert list(scores) == sorted(scores, reverse=True)
    everything = np.vstack([np.tile(_unit(1, 0), (5000, 1)), others])
    for i, vector in enumerate(others):  # each of the few others is still found, in its place
        ids, scores = store.query(Modality.TEXT, vector, 50)
        assert ids[0] == 5000 + i and scores[0] == pytest.approx(1.0, abs=1e-5)
        exact = np.sort(everything @ vector)[::-1][:50]
        assert scores == pytest.approx(exact, abs=1e-5)
    assert store.count(Modality.TEXT) == 5005
    assert store.ids(Modality.TEXT) == set(range(5005))


def test_equal_vectors_share_a_score_and_survive_removal(tmp_path: Path) -> None:
    store = _store_with_equal_vectors(tmp_path, 10)
    same = _unit(1, 0)[0]
    ids, scores = store.query(Modality.TEXT, same, 10)
    assert set(ids.tolist()) == set(range(10))
    assert scores == pytest.approx([1.0] * 10, abs=1e-5)
    store.remove([0, 1, 2])  # the first one was the copy in the graph: another takes over
    ids, scores = store.query(Modality.TEXT, same, 15)
    assert set(ids.tolist()) == set(range(3, 15))
    assert scores[:7] == pytest.approx([1.0] * 7, abs=1e-5)
    store.remove(list(range(3, 10)))
    ids, _ = store.query(Modality.TEXT, same, 15)
    assert set(ids.tolist()) == set(range(10, 15))
    store.add(Modality.TEXT, np.array([4]), same[None, :])  # back online
    assert store.query(Modality.TEXT, same, 1)[0].tolist() == [4]


def test_aliases_are_saved_and_loaded(tmp_path: Path) -> None:
    directory = tmp_path / "idx"
    store = VectorStore(directory, DIM)
    store.add(Modality.TEXT, np.arange(100), np.tile(_unit(1, 0), (100, 1)))
    store.add(Modality.TEXT, np.arange(100, 103), _unit(3, 1))
    store.save()
    loaded = VectorStore.load(directory, DIM)
    assert loaded.ids(Modality.TEXT) == set(range(103))
    ids, _ = loaded.query(Modality.TEXT, _unit(1, 0)[0], 100)
    assert set(ids.tolist()) == set(range(100))


def test_an_index_with_equal_vectors_in_its_graph_never_fails_a_query() -> None:
    """Indexes saved before equal vectors were stored once hold them in the graph."""
    index = HnswIndex(DIM, HnswParams())
    same = np.tile(_unit(1, 0), (3000, 1))
    index._insert(np.arange(3000), same)  # straight into the graph, as old indexes did
    index._insert(np.arange(3000, 3005), _unit(5, 1))
    for k in (10, 500, 2999, 3005):
        ids, scores = index.query(_unit(1, 2)[0], k, ef=128)
        assert len(ids) == k
        assert list(scores) == sorted(scores, reverse=True)
