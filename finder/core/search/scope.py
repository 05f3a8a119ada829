"""What a search narrowed by filters may return (issue #17): the items of the files the
filters allow, per modality, for the vector search, and the same condition in SQL for
the keyword search. Computed once per search from file_meta and files, *before* ranking:
a strong match outside the range never appears, a weak one inside it still can.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from finder.core.search.filters import Filters
from finder.core.store.connection import Database
from finder.core.store.file_meta import MetaFilter, condition, items_within
from finder.core.types import Modality


@dataclass(frozen=True)
class Scope:
    items: dict[Modality, np.ndarray]  # the allowed item ids, sorted
    where: tuple[str, list[object]]  # an SQL condition on files `f`, and its arguments

    def count(self) -> int:
        return sum(len(ids) for ids in self.items.values())


def meta_filter(filters: Filters) -> MetaFilter:
    folder = os.path.normpath(filters.folder) if filters.folder else None
    return MetaFilter(filters.after, filters.before, filters.place, filters.camera, folder)


def scope_for(catalog: Database, filters: Filters) -> Scope | None:
    """The files `filters` allow; None when they do not narrow (every file is allowed)."""
    if not filters.narrows:
        return None
    where = meta_filter(filters)
    return Scope(items_within(catalog, where), condition(where))
