"""What a search narrowed by filters may return (issue #17): the items of the files the
filters allow, per modality, for the vector search, and the same condition in SQL for
the keyword search. Computed once per search from file_meta and files, *before* ranking:
a strong match outside the range never appears, a weak one inside it still can.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from finder.core.search.filters import Filters
from finder.core.store.catalog import Catalog
from finder.core.store.connection import Database
from finder.core.store.file_meta import MetaFilter, condition, items_within
from finder.core.store.vectors import VectorStore
from finder.core.types import Modality

# At most this many allowed items are compared one by one, their vectors read from the
# catalog (10-40 ms a thousand); more go through hnswlib's filtered search, which slows
# down as the filter skips more of the graph (at 100,000 items: ~35 ms at 10% allowed,
# ~130 ms at 4%, ~300 ms at 0.4%, on a busy 2-core machine: bench/filter_cost.py).
EXACT_AMONG = 2_000


@dataclass
class Scope:
    items: dict[Modality, np.ndarray]  # the allowed item ids
    where: tuple[str, list[object]]  # an SQL condition on files `f`, and its arguments
    _vectors: dict[Modality, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def count(self) -> int:
        return sum(len(ids) for ids in self.items.values())

    def allowed_files(self, catalog: Database, file_ids: set[int]) -> set[int]:
        """Those of `file_ids` the filters allow (a result's copies outside the date range
        or place are not counted as its copies in this search)."""
        if not file_ids:
            return set()
        sql, args = self.where
        marks = ",".join("?" * len(file_ids))
        rows = catalog._db.execute(
            f"SELECT f.id FROM files f WHERE f.id IN ({marks}) AND {sql}", [*file_ids, *args]
        )
        return {int(r[0]) for r in rows}

    def nearest(
        self,
        store: VectorStore,
        catalog: Catalog,
        model_id: int,
        modality: Modality,
        vector: np.ndarray,
        k: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The k allowed items of `modality` nearest to `vector`: (ids, similarities)."""
        among = self.items[modality]
        if len(among) > EXACT_AMONG:
            return store.query(modality, vector, k, among)
        if modality not in self._vectors:  # read once per search (it may look further)
            self._vectors[modality] = catalog.vectors_for(model_id, among.tolist())
        ids, vectors = self._vectors[modality]
        if len(ids) == 0:
            return ids, np.zeros(0, dtype=np.float32)
        scores = vectors @ vector.astype(np.float32, copy=False)
        best = np.argsort(-scores, kind="stable")[:k]
        return ids[best], scores[best].astype(np.float32)


def meta_filter(filters: Filters) -> MetaFilter:
    folder = os.path.normpath(filters.folder) if filters.folder else None
    return MetaFilter(filters.after, filters.before, filters.place, filters.camera, folder)


def scope_for(catalog: Database, filters: Filters) -> Scope | None:
    """The files `filters` allow; None when they do not narrow (every file is allowed)."""
    if not filters.narrows:
        return None
    where = meta_filter(filters)
    return Scope(items_within(catalog, where), condition(where))
