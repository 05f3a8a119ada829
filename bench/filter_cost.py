"""What a filter (date range, place, camera, folder) costs a search at 100,000 items.

A catalog of `--size` items (80% photos, one item each with a date, a place and a camera
in file_meta; 20% passages of documents) and its vector index are generated; then, for
filters of different selectivity, the parts a filtered search adds are timed: computing
the allowed items from SQL (search/scope.py), the vector query among them (exact up to
hnsw.EXACT_AMONG items, else hnswlib's filtered search) and the keyword query with the
same condition, against the same queries unfiltered. The text encoder's time (the same
with or without a filter) is left out. Prints JSON.

    .venv/bin/python bench/filter_cost.py [--size 100000] [--queries 50]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from _common import WORDS, Timer, clip_like_vectors, emit, machine, peak_rss_mb, percentiles
from query_speed import add_documents

from finder.core.search.filters import Filters
from finder.core.search.scope import scope_for
from finder.core.store.catalog import Catalog
from finder.core.store.rows import NewItem
from finder.core.store.vectors import VectorStore, rebuild
from finder.core.types import FileKind, FileStatus, Modality

PLACES = [f"City{i}, Country{i % 12}" for i in range(50)]
CAMERAS = [f"Maker{i} Model {i}" for i in range(10)]

FILTERS = {
    "one year (~5%)": Filters(after=date(2019, 1, 1), before=date(2019, 12, 31)),
    "ten years (~50%)": Filters(after=date(2015, 1, 1), before=date(2024, 12, 31)),
    "one city (~2%)": Filters(place="City7"),
    "one camera (~10%)": Filters(camera="maker3"),
    "one year in one city (~0.1%)": Filters(
        after=date(2019, 1, 1), before=date(2019, 12, 31), place="City7"
    ),
    "one month (~0.4%)": Filters(after=date(2019, 7, 1), before=date(2019, 7, 31)),
}


def fill(catalog: Catalog, size: int, dim: int, folder: Path) -> None:
    root = catalog.add_root(str(folder))
    model_id = catalog.model_id("bench", dim)
    photos = int(size * 0.8)
    image_vectors = clip_like_vectors(photos, dim, seed=0)
    text_vectors = clip_like_vectors(size - photos, dim, seed=2)
    rng = np.random.default_rng(0)
    years = rng.integers(2005, 2025, photos)  # 20 years: one is ~5%
    days = rng.integers(0, 365, photos)
    step = 5000
    for start in range(0, photos, step):
        with catalog.transaction() as tx:
            for i in range(start, min(photos, start + step)):
                file_id, _ = tx.upsert_file(
                    root_id=root.id,
                    path=f"{folder}/photos/{WORDS[i % len(WORDS)]}-{i:06d}.jpg",
                    size=1,
                    mtime_ns=0,
                    content_hash=f"p{i}",
                    kind=FileKind.PHOTO,
                    status=FileStatus.OK,
                    error=None,
                )
                tx.add_items(file_id, model_id, [NewItem(Modality.IMAGE, image_vectors[i])])
                taken = date.fromordinal(date(int(years[i]), 1, 1).toordinal() + int(days[i]))
                tx.execute(
                    "INSERT INTO file_meta(file_id, taken, taken_utc, taken_source, place, "
                    "camera) VALUES (?, ?, ?, 'exif', ?, ?)",
                    (
                        file_id,
                        f"{taken.isoformat()}T12:00:00",
                        time.mktime(taken.timetuple()),
                        PLACES[i % len(PLACES)],
                        CAMERAS[i % len(CAMERAS)],
                    ),
                )
    add_documents(catalog, root.id, folder, model_id, text_vectors, rng, step)


def timed(call: Any, count: int) -> tuple[dict[str, float], Any]:
    times, result = [], None
    for _ in range(count):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return percentiles(times), result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--size", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--queries", type=int, default=50)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="finder-bench-filters-"))
    result: dict[str, Any] = {"benchmark": "filter_cost", "machine": machine(), "size": args.size}
    try:
        catalog = Catalog(work / "catalog.sqlite3")
        with Timer() as t:
            fill(catalog, args.size, args.dim, work / "library")
        result["catalog_fill_s"] = round(t.s, 1)
        model_id = catalog.find_model_id("bench")
        assert model_id is not None
        with Timer() as t:
            store: VectorStore = rebuild(work / "index", catalog, model_id, args.dim)
        result["index_build_s"] = round(t.s, 1)
        queries = clip_like_vectors(args.queries, args.dim, seed=99)
        words = "holiday OR beach"  # in ~4% of the photos' names, and in passages
        pool = 50  # what a search fetches per modality (search.POOL)

        def photo_query_ms(filters: Filters | None) -> float:
            """The median time of what a search does per kind of file: the allowed items
            from SQL (filtered only), then the nearest of them."""
            times = []
            for q in queries:
                started = time.perf_counter()
                if filters is None:
                    store.query(Modality.IMAGE, q, pool)
                else:
                    scope = scope_for(catalog, filters)
                    assert scope is not None
                    scope.nearest(store, catalog, model_id, Modality.IMAGE, q, pool)
                times.append(time.perf_counter() - started)
            return percentiles(times)["p50_ms"]

        photo_query_ms(None)  # warm up
        base_vector = photo_query_ms(None)
        keyword_base, _ = timed(lambda: catalog.keyword_hits(words, None, 400), 10)
        result["unfiltered"] = {"photo_query_ms": base_vector, "keyword_query": keyword_base}
        result["filters"] = {}
        for name, filters in FILTERS.items():
            scope_time, scope = timed(lambda filters=filters: scope_for(catalog, filters), 5)
            vector_ms = photo_query_ms(filters)
            keyword_time, hits = timed(
                lambda scope=scope: catalog.keyword_hits(words, None, 400, within=scope.where),
                10,
            )
            result["filters"][name] = {
                "allowed_items": scope.count(),
                "allowed_photos": len(scope.items[Modality.IMAGE]),
                "scope_sql": scope_time,
                "scope_and_photo_query_ms": vector_ms,
                "keyword_query": keyword_time,
                "keyword_hits": len(hits),
            }
        catalog.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["peak_rss_mb"] = peak_rss_mb()
    result["machine"]["loadavg_after"] = machine()["loadavg_1_5_15"]
    emit(result)


if __name__ == "__main__":
    main()
