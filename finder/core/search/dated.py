"""Results with what people remember them by (when taken, where, which camera: from
file_meta), and in date order when asked (Sort.DATE: newest first; DATE_ASC: oldest
first; files without a date last either way). Applied after relevance, so the date
sort orders the relevant results."""

from __future__ import annotations

import dataclasses

from finder.core.search.filters import Filters, Sort
from finder.core.store.connection import Database
from finder.core.store.file_meta import remembered
from finder.core.types import SearchResult


def arranged(
    results: list[SearchResult], catalog: Database, filters: Filters
) -> list[SearchResult]:
    """`results` with their date, place and camera, sorted as `filters.sort` says."""
    known = remembered(catalog, (r.file_id for r in results if r.file_id))
    out = [
        dataclasses.replace(
            r,
            taken=meta.taken,
            taken_source=meta.taken_source,
            place=meta.place,
            camera=meta.camera,
        )
        if (meta := known.get(r.file_id)) is not None
        else r
        for r in results
    ]
    if filters.sort is Sort.RELEVANCE:
        return out
    when = {r.file_id: m.taken_utc for r in out if (m := known.get(r.file_id)) is not None}
    newest_first = filters.sort is Sort.DATE
    dated = [r for r in out if when.get(r.file_id) is not None]
    undated = [r for r in out if when.get(r.file_id) is None]
    dated.sort(key=lambda r: when[r.file_id] or 0.0, reverse=newest_first)  # stable: ties keep rank
    return dated + undated
