"""Query latency end to end (embed + search + catalog lookup) at 10k and 100k items.

For each size: a real catalog and vector index holding that many items (80% photos,
20% passages of documents), filled with generated CLIP-like vectors (bench/_common.py:
the model would need hours to embed 100k photos here, and the index's speed does not
depend on where the vectors came from); then

- text queries through `Library.search.text` (the real model encodes each query;
  distinct queries, so the query cache never answers: embedding and the rest of the
  search, meaning and keywords, are timed apart), p50/p95, and the same query again
  (cache hit);
- image queries through `Library.search.image` on a 12 MP JPEG (decode + model +
  search), p50/p95;
- recall@10 of the hnswlib index against exact search, with finder's HnswParams;
- the time to open the saved index at start (what a search process pays).

    python bench/query_speed.py                       # 10k and 100k items
    python bench/query_speed.py --sizes 10000 --queries 50
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    WORDS,
    Timer,
    add_model_arguments,
    bench_embedder,
    clip_like_vectors,
    current_rss_mb,
    emit,
    machine,
    make_photos,
    peak_rss_mb,
    percentiles,
)

from finder.core.library import Library
from finder.core.models.spec import resolve_model_spec
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.store.catalog import Catalog
from finder.core.store.rows import NewItem
from finder.core.store.vectors import HnswParams
from finder.core.types import FileKind, FileStatus, Modality, SearchKind

PASSAGES_PER_DOCUMENT = 5


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_arguments(p)
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--queries", type=int, default=100, help="timed queries of each kind")
    p.add_argument("--recall-queries", type=int, default=300)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "finder-bench"))
    args = p.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    embedder, runtime = bench_embedder(
        resolve_model_spec(args.model, args.pretrained),
        args.precision,
        args.backend,
        Path(args.workdir),
    )
    with Timer() as t:
        embedder.load()
    result: dict[str, Any] = {
        "benchmark": "query_speed",
        "machine": machine(),
        "runtime": runtime,
        "model": f"{args.model} ({args.pretrained})",
        "precision": embedder.precision_in_use,
        "model_load_s": round(t.s, 2),
        "hnsw": asdict(HnswParams()),
        "sizes": {},
    }
    query_photo = make_photos(Path(args.workdir) / "photos-4000x3000", 1, (4000, 3000))[0]
    for size in (int(v) for v in args.sizes.split(",")):
        result["sizes"][str(size)] = one_size(embedder, size, args, query_photo)
    result["rss_mb"] = {"now": current_rss_mb(), "peak": peak_rss_mb()}
    result["machine"]["loadavg_after"] = machine()["loadavg_1_5_15"]
    emit(result)


def one_size(
    embedder: ClipEmbedder, size: int, args: argparse.Namespace, query_photo: Path
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    data_dir = Path(tempfile.mkdtemp(prefix="finder-bench-query-"))
    try:
        library = Library(data_dir, embedder, writable=True)
        try:
            with Timer() as t:
                image_vectors = fill_catalog(library, size, embedder.dim, data_dir)
            out["catalog_fill_s"] = round(t.s, 1)
            with Timer() as t:
                library._models.open()  # builds the index from the catalog and saves it
            out["index_build_and_save_s"] = round(t.s, 1)
        finally:
            library.close()

        loads = []
        for _ in range(3):
            reader = Library(data_dir, embedder, writable=False)
            try:
                with Timer() as t:
                    reader._models.open()
                loads.append(t.s)
                state = reader._models.open_state
            finally:
                reader.close()
        out["index_open_s"] = {
            "min": round(min(loads), 3),
            "max": round(max(loads), 3),
            "state": state,
        }

        reader = Library(data_dir, embedder, writable=False)
        try:
            out.update(latencies(reader, args.queries, query_photo))
            out["recall_at_10"] = recall(reader, image_vectors, args.recall_queries)
        finally:
            reader.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return out


def fill_catalog(library: Library, size: int, dim: int, folder: Path) -> np.ndarray:
    """`size` items: 80% photos (one item each), 20% passages of documents."""
    catalog = library._catalog
    root = catalog.add_root(str(folder))
    model_id = catalog.model_id(library.embedder.key, dim)
    photos = int(size * 0.8)
    image_vectors = clip_like_vectors(photos, dim, seed=0)
    text_vectors = clip_like_vectors(size - photos, dim, seed=2)
    rng = np.random.default_rng(0)
    step = 5000
    for start in range(0, photos, step):
        with catalog.transaction() as tx:
            for i in range(start, min(photos, start + step)):
                file_id, _ = tx.upsert_file(
                    root_id=root.id,
                    path=f"{folder}/photos/IMG_{i:06d}.jpg",
                    size=1,
                    mtime_ns=0,
                    content_hash=f"p{i}",
                    kind=FileKind.PHOTO,
                    status=FileStatus.OK,
                    error=None,
                )
                tx.add_items(file_id, model_id, [NewItem(Modality.IMAGE, image_vectors[i])])
    add_documents(catalog, root.id, folder, model_id, text_vectors, rng, step)
    return image_vectors


def add_documents(
    catalog: Catalog,
    root_id: int,
    folder: Path,
    model_id: int,
    text_vectors: np.ndarray,
    rng: np.random.Generator,
    step: int = 5000,
) -> None:
    """One text item per row of `text_vectors` (40 random words), PASSAGES_PER_DOCUMENT
    to a document, written `step` items to a transaction (filter_cost.py shares it)."""
    for start in range(0, len(text_vectors), step):
        with catalog.transaction() as tx:
            end = min(len(text_vectors), start + step)
            for doc in range(start // PASSAGES_PER_DOCUMENT, -(-end // PASSAGES_PER_DOCUMENT)):
                first = doc * PASSAGES_PER_DOCUMENT
                rows = range(max(first, start), min(first + PASSAGES_PER_DOCUMENT, end))
                if not rows:
                    continue
                file_id, _ = tx.upsert_file(
                    root_id=root_id,
                    path=f"{folder}/docs/note-{doc:06d}.txt",
                    size=1,
                    mtime_ns=0,
                    content_hash=f"d{doc}",
                    kind=FileKind.DOCUMENT,
                    status=FileStatus.OK,
                    error=None,
                )
                items = [
                    NewItem(
                        Modality.TEXT,
                        text_vectors[r],
                        chunk=r - first,
                        text=" ".join(WORDS[j] for j in rng.integers(0, len(WORDS), 40)),
                    )
                    for r in rows
                ]
                tx.add_items(file_id, model_id, items)


def latencies(library: Library, count: int, query_photo: Path) -> dict[str, Any]:
    search = library._search
    rng = np.random.default_rng(1)
    size = library._catalog.counts()["items"]  # new queries for each size: no cache hits
    texts = [
        f"{' '.join(WORDS[j] for j in rng.integers(0, len(WORDS), 4))} {i} {size}"
        for i in range(count + 5)
    ]
    for text in texts[:5]:  # warm up: open the index, first calls into torch
        search.text(text, SearchKind.ALL, 10)
    out: dict[str, Any] = {}
    for kind in (SearchKind.ALL, SearchKind.PHOTOS):
        times, embed_times = [], []
        for text in texts[5:]:
            query = text + kind.value
            started = time.perf_counter()
            library.embedder.encode_texts([query])  # what search.text does first ...
            embedded = time.perf_counter()
            search.text(query, kind, 10)  # ... then the rest of it, the embedding cached
            times.append(time.perf_counter() - started)
            embed_times.append(embedded - started)
        out[f"text_query_{kind.value}"] = {
            **percentiles(times),
            "embed": percentiles(embed_times),
            "search": percentiles([a - b for a, b in zip(times, embed_times, strict=True)]),
        }
    again = []
    for _ in range(count):
        started = time.perf_counter()
        search.text(texts[5], SearchKind.ALL, 10)
        again.append(time.perf_counter() - started)
    out["text_query_all_cached"] = percentiles(again)
    search.image(query_photo, SearchKind.ALL, 10)
    for kind in (SearchKind.ALL, SearchKind.PHOTOS):
        times = []
        for _ in range(max(10, count // 4)):
            started = time.perf_counter()
            search.image(query_photo, kind, 10)
            times.append(time.perf_counter() - started)
        out[f"image_query_{kind.value}"] = percentiles(times)
    return out


def recall(library: Library, image_vectors: np.ndarray, count: int) -> dict[str, Any]:
    """recall@10 of the photo index against exact (brute-force) search."""
    store = library._models.store
    ids = np.fromiter(sorted(store.ids(Modality.IMAGE)), dtype=np.int64)
    # Item ids were given in insertion order, so row i of image_vectors is ids[i].
    queries = clip_like_vectors(count, image_vectors.shape[1], seed=3)
    scores = queries @ image_vectors.T
    exact = np.argpartition(-scores, 10, axis=1)[:, :10]  # the true top 10, any order
    found = []
    for q, truth in zip(queries, exact, strict=True):
        got, _ = store.query(Modality.IMAGE, q, 10)
        found.append(len(set(got.tolist()) & set(ids[truth].tolist())) / 10)
    return {
        "mean": round(float(np.mean(found)), 4),
        "min": round(float(np.min(found)), 2),
        "queries": count,
    }


if __name__ == "__main__":
    main()
