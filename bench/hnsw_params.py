"""Recall@k against exact search, and query latency, over hnswlib parameters.

Used to choose HnswParams (finder/core/store/vectors.py). The vectors are generated:
unit vectors shaped like CLIP's (bench/_common.py) (a benchmark input, never stored by
finder). Building is timed with the threads the indexer gets; queries run one at a
time, as a search does. Prints JSON.

    python bench/hnsw_params.py --sizes 10000,100000
    python bench/hnsw_params.py --sizes 10000 --m 16 --ef-construction 100 --ef 32,64
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import hnswlib
import numpy as np
from _common import clip_like_vectors, emit, machine, percentiles


def exact_top_k(data: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ data.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="10000,100000")
    p.add_argument("--dim", type=int, default=512)
    p.add_argument("--m", default="8,16,32")
    p.add_argument("--ef-construction", default="100,200")
    p.add_argument("--ef", default="16,32,64,128,256")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--threads", type=int, default=2, help="build threads")
    args = p.parse_args()
    ints = lambda text: [int(v) for v in text.split(",")]  # noqa: E731
    result: dict[str, Any] = {
        "benchmark": "hnsw_params",
        "machine": machine(),
        "dim": args.dim,
        "k": args.k,
        "runs": [],
    }
    for size in ints(args.sizes):
        data = clip_like_vectors(size, args.dim, seed=0)
        queries = clip_like_vectors(args.queries, args.dim, seed=1)  # not in the data
        truth = exact_top_k(data, queries, args.k)
        exact_times = []
        for q in queries[:50]:
            started = time.perf_counter()
            exact_top_k(data, q[None, :], args.k)
            exact_times.append(time.perf_counter() - started)
        for m in ints(args.m):
            for ef_c in ints(args.ef_construction):
                index = hnswlib.Index(space="ip", dim=args.dim)
                index.init_index(max_elements=size, ef_construction=ef_c, M=m)
                started = time.perf_counter()
                index.add_items(data, np.arange(size), num_threads=args.threads)
                build_s = time.perf_counter() - started
                run: dict[str, Any] = {
                    "size": size,
                    "m": m,
                    "ef_construction": ef_c,
                    "build_s": round(build_s, 1),
                    "exact_numpy": percentiles(exact_times),
                    "ef": {},
                }
                for ef in ints(args.ef):
                    index.set_ef(max(ef, args.k))
                    times, found = [], []
                    for q in queries:
                        started = time.perf_counter()
                        labels, _ = index.knn_query(q[None, :], k=args.k, num_threads=1)
                        times.append(time.perf_counter() - started)
                        found.append(labels[0])
                    recall = np.mean(
                        [len(set(f) & set(t)) / args.k for f, t in zip(found, truth, strict=True)]
                    )
                    run["ef"][ef] = {"recall": round(float(recall), 4), **percentiles(times)}
                result["runs"].append(run)
                del index
    result["machine"]["loadavg_after"] = machine()["loadavg_1_5_15"]
    emit(result)


if __name__ == "__main__":
    main()
