"""One approximate-kNN index (hnswlib) over one modality's vectors, each distinct vector
stored once.

hnswlib's graph degrades when many of its points are equal: its neighbour heuristic
keeps one of a group of equal candidates, so thousands of equal vectors (the same
passage in many files: a footer, a licence page, boilerplate) leave the graph badly
connected. Other points are then missed, and a query for more results than the search
reaches raises "Cannot return the results in a contiguous 2D array". So a vector equal
to one already in the graph is kept beside it as an alias (same vector, same score),
and a query that still falls short is answered exactly instead of failing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import hnswlib
import numpy as np

log = logging.getLogger(__name__)

# Squared L2 distance under which two vectors count as equal. The same input encoded in
# another batch differs by ~1e-14 (float32 sums in another order); two different inputs,
# even to a random test model, by 1e-6 or more. It is exact and near-exact ties that break
# the graph: 5000 copies differing by 1e-7 a coordinate (1e-11 squared) no longer hide
# other points.
EQUAL_SQUARED_DISTANCE = 1e-10
# New vectors are checked for an equal one in batches of this many.
CHECK_BATCH = 256
# The search width of that check. Measured on 10k random 512-d unit vectors, an equal one
# is found 97% of the time at 16 (99.8% at 32), for about a quarter of what inserting
# costs (half at 32): the few equal vectors missed go into the graph, which copes with a
# few; it is thousands that break it.
CHECK_EF = 16
# Vectors read at a time by an exact search.
EXACT_BATCH = 50_000


@dataclass(frozen=True)
class HnswParams:
    """Chosen with bench/hnsw_params.py (512-d CLIP-like vectors, recall@10 against exact
    search): at 100k items M=16/ef_construction=100/ef=128 finds 99.7% of the true top
    10 in ~0.4 ms a query (10k: 99.8%). ef_construction=200 gave the same recall for
    1.6x the build time; M=32 no better at this ef; ef=64 drops to 99.5%. A query's
    cost is dominated by the text encoder (~15-45 ms), so ef is set for recall."""

    m: int = 16
    ef_construction: int = 100
    ef_search: int = 128


class HnswIndex:
    """Labels are catalog item ids. `live` holds the labels in the graph; `alias_of`
    those kept beside an equal vector's label."""

    def __init__(self, dim: int, params: HnswParams, saved: Path | None = None) -> None:
        self.index = hnswlib.Index(space="ip", dim=dim)  # vectors are L2-normalised: ip = cosine
        if saved is None:
            self.index.init_index(
                max_elements=1024, ef_construction=params.ef_construction, M=params.m
            )
        else:
            self.index.load_index(str(saved))
        self.index.set_ef(params.ef_search)
        self.live: set[int] = set()
        self.alias_of: dict[int, int] = {}
        self._aliases: dict[int, set[int]] = {}  # a label in the graph -> its aliases
        self.deleted = 0

    def __len__(self) -> int:
        return len(self.live) + len(self.alias_of)

    def labels(self) -> set[int]:
        return self.live | self.alias_of.keys()

    def set_aliases(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Restore saved (alias, label in the graph) pairs."""
        for alias, label in pairs:
            self._alias(alias, label)

    def alias_pairs(self) -> np.ndarray:
        """(alias, label in the graph) rows, to save."""
        pairs = np.array(sorted(self.alias_of.items()), dtype=np.int64)
        return pairs.reshape(-1, 2)

    # -- editing -------------------------------------------------------------------------

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(ids) == 0:
            return
        _, first = np.unique(ids, return_index=True)  # a label given twice: its first vector
        keep = np.sort(first)
        ids, vectors = ids[keep], vectors[keep]
        # Adding a label again replaces its vector (a folder back online).
        self.remove([int(i) for i in ids if int(i) in self.live or int(i) in self.alias_of])
        for start in range(0, len(ids), CHECK_BATCH):
            end = start + CHECK_BATCH
            self._add_batch(ids[start:end], vectors[start:end])

    def _add_batch(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        equal_to = self._equal_in_graph(vectors)
        # Equal vectors within the batch: a later one joins the first.
        norms = np.einsum("ij,ij->i", vectors, vectors)
        squared = norms[:, None] + norms[None, :] - 2.0 * (vectors @ vectors.T)
        earlier = (squared < EQUAL_SQUARED_DISTANCE) & np.tri(len(ids), k=-1, dtype=bool)
        for i in np.flatnonzero(earlier.any(axis=1)):
            if equal_to[i] < 0:
                j = int(np.argmax(earlier[i]))
                equal_to[i] = equal_to[j] if equal_to[j] >= 0 else ids[j]
        new = equal_to < 0
        if new.any():
            self._insert(ids[new], vectors[new])
        for i in np.flatnonzero(~new):
            self._alias(int(ids[i]), int(equal_to[i]))

    def _equal_in_graph(self, vectors: np.ndarray) -> np.ndarray:
        """For each vector, the label of an equal one in the graph, else -1."""
        found = np.full(len(vectors), -1, dtype=np.int64)
        if not self.live:
            return found
        self.index.set_ef(CHECK_EF)
        try:
            labels, _ = self.index.knn_query(vectors, k=1)
        except RuntimeError:  # a graph too sparse to answer: store them as they are
            return found
        nearest = labels[:, 0].astype(np.int64)
        stored = np.asarray(self.index.get_items(nearest, return_type="numpy"), np.float32)
        equal = np.einsum("ij,ij->i", stored - vectors, stored - vectors) < EQUAL_SQUARED_DISTANCE
        found[equal] = nearest[equal]
        return found

    def _insert(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        needed = self.index.element_count + len(ids)
        if needed > self.index.get_max_elements():
            self.index.resize_index(max(needed, int(self.index.get_max_elements() * 1.5)))
        # Re-adding a deleted label un-deletes it and replaces its vector.
        self.index.add_items(vectors, ids)
        self.live.update(int(i) for i in ids)

    def _alias(self, alias: int, label: int) -> None:
        self.alias_of[alias] = label
        self._aliases.setdefault(label, set()).add(alias)

    def remove(self, ids: Iterable[int]) -> None:
        for item_id in ids:
            label = self.alias_of.pop(item_id, None)
            if label is not None:
                others = self._aliases[label]
                others.discard(item_id)
                if not others:
                    del self._aliases[label]
            elif item_id in self.live:
                heirs = self._aliases.pop(item_id, set())
                if heirs:  # an alias takes the vector's place in the graph
                    heir = min(heirs)
                    heirs.discard(heir)
                    vector = self.index.get_items([item_id], return_type="numpy")
                    for alias in (heir, *heirs):
                        del self.alias_of[alias]
                    self._insert(np.array([heir], dtype=np.int64), np.asarray(vector, np.float32))
                    self.set_aliases((alias, heir) for alias in heirs)
                self.index.mark_deleted(item_id)
                self.live.discard(item_id)
                self.deleted += 1

    # -- searching -----------------------------------------------------------------------

    def query(self, vector: np.ndarray, k: int, ef: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest labels, aliases included: (labels, cosine similarities), best first."""
        k = min(k, len(self))
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        wanted = min(k, len(self.live))  # labels in the graph needed at most
        if wanted >= len(self.live):
            labels, scores = self._exact(vector, wanted)  # all of them: no need to guess
        else:
            labels, scores = self._approximate(vector, wanted, ef)
        return self._with_aliases(labels, scores, k)

    def query_among(
        self, vector: np.ndarray, k: int, ef: int, allowed: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """`query` among the `allowed` labels only (a search narrowed by filters):
        hnswlib's search told to skip the rest (exact when k covers them all). It slows
        down as the filter skips most of the graph: a caller with few allowed items does
        better with their vectors from the catalog (search/scope.py)."""
        wanted = {int(i) for i in allowed}
        # A graph label stands for its aliases too: allowed when any of them is.
        labels = {self.alias_of.get(i, i) for i in wanted if i in self.live or i in self.alias_of}
        if not labels:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        among = np.fromiter(labels, dtype=np.int64, count=len(labels))
        if k >= len(among):
            found, scores = self._exact(vector, min(k, len(among)), among)
        else:
            found, scores = self._approximate(vector, k, max(ef, k), labels.__contains__)
        out_labels: list[int] = []
        out_scores: list[float] = []
        for label, score in zip(found.tolist(), scores.tolist(), strict=True):
            for item_id in (label, *sorted(self._aliases.get(label, ()))):
                if item_id in wanted:
                    out_labels.append(item_id)
                    out_scores.append(score)
        return (
            np.asarray(out_labels[:k], dtype=np.int64),
            np.asarray(out_scores[:k], dtype=np.float32),
        )

    def _approximate(
        self,
        vector: np.ndarray,
        k: int,
        ef: int,
        keep: Callable[[int], bool] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """hnswlib's k nearest; widened, then exact, when the graph cannot reach k."""
        for width in (max(ef, k), max(ef, k) * 4):
            self.index.set_ef(width)
            try:
                labels, distances = self.index.knn_query(vector.reshape(1, -1), k=k, filter=keep)
            except RuntimeError as exc:  # "Cannot return the results in a contiguous 2D array"
                log.info("vector index: %s (ef %d, k %d)", exc, width, k)
                continue
            return labels[0].astype(np.int64), (1.0 - distances[0]).astype(np.float32)
        if keep is not None:
            return self._exact(vector, k, np.asarray([i for i in self.live if keep(i)], np.int64))
        return self._exact(vector, k)

    def _exact(
        self, vector: np.ndarray, k: int, among: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest labels in the graph (of `among`) by an exhaustive scan of their
        vectors."""
        everything = (
            np.fromiter(self.live, dtype=np.int64, count=len(self.live)) if among is None else among
        )
        scores = np.empty(len(everything), dtype=np.float32)
        query = vector.astype(np.float32, copy=False)
        for start in range(0, len(everything), EXACT_BATCH):
            part = everything[start : start + EXACT_BATCH]
            stored = np.asarray(self.index.get_items(part, return_type="numpy"), np.float32)
            scores[start : start + len(part)] = stored @ query
        best = np.argsort(-scores, kind="stable")[:k]
        return everything[best], scores[best]

    def _with_aliases(
        self, labels: np.ndarray, scores: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        if not self._aliases:
            return labels[:k], scores[:k]
        out_labels: list[int] = []
        out_scores: list[float] = []
        for label, score in zip(labels.tolist(), scores.tolist(), strict=True):
            for item_id in (label, *sorted(self._aliases.get(label, ()))):
                out_labels.append(item_id)
                out_scores.append(score)
            if len(out_labels) >= k:
                break
        return (
            np.asarray(out_labels[:k], dtype=np.int64),
            np.asarray(out_scores[:k], dtype=np.float32),
        )
