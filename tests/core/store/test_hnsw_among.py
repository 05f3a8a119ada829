"""A vector search narrowed to some items (filters): only those come back, the nearest of
them first (hnswlib's filtered search; exact when k covers them all)."""

from __future__ import annotations

import numpy as np

from finder.core.store.hnsw import HnswIndex, HnswParams


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_query_among_returns_the_nearest_allowed() -> None:
    rng = np.random.default_rng(0)
    vectors = unit(rng.normal(size=(3000, 16)))
    ids = np.arange(1, 3001, dtype=np.int64)
    index = HnswIndex(16, HnswParams())
    index.add(ids, vectors)
    allowed = ids[ids % 3 == 0]
    query = vectors[0]  # item 1: not allowed, the best match of all
    found, scores = index.query_among(query, 10, 128, allowed)
    assert len(found) == 10 and all(int(i) % 3 == 0 for i in found)
    exact = allowed[np.argsort(-(vectors[allowed - 1] @ query))[:10]]
    assert len(set(found.tolist()) & set(exact.tolist())) >= 9
    assert np.all(np.diff(scores) <= 1e-6)


def test_query_among_honours_aliases_and_small_sets() -> None:
    rng = np.random.default_rng(1)
    vectors = unit(rng.normal(size=(50, 8)))
    index = HnswIndex(8, HnswParams())
    index.add(np.arange(1, 51, dtype=np.int64), vectors)
    index.add(np.array([100, 101], dtype=np.int64), vectors[[4, 4]])  # equal to item 5
    found, _ = index.query_among(vectors[4], 5, 64, np.array([101, 7], dtype=np.int64))
    assert found.tolist()[0] == 101 and set(found.tolist()) == {101, 7}
    empty, _ = index.query_among(vectors[4], 5, 64, np.array([999], dtype=np.int64))
    assert len(empty) == 0
