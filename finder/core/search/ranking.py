"""Reciprocal rank fusion: several ranked lists of results -> one, per file.

Each signal (keyword matches, passage similarity, image similarity ...) ranks files on
its own scale; RRF adds w / (RRF_K + rank) over the signals that found a file, so a file
found by two signals beats one found by either alone, and no scale has to be calibrated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from finder.core.types import SearchResult

RRF_K = 60  # the usual constant: damps the difference between neighbouring ranks

# How much each signal counts, in one place. Names are those of the lists given to fuse.
WEIGHTS: dict[str, float] = {
    "keyword": 1.0,  # BM25 over names, folders, passages and OCR text
    "meaning": 1.0,  # the embeddings (text query: passages and photos merged)
    "image": 1.0,  # image query vs photos and page images
    "passage": 0.5,  # image query vs passages: CLIP reads text in pictures poorly
    "ocr keyword": 1.0,  # the words read in a query image, as keywords
}

BY_WORDS = frozenset({"keyword", "ocr keyword"})  # lists whose score is a share of words


def fuse(lists: Mapping[str, Sequence[SearchResult]], k: int) -> list[SearchResult]:
    """Fuse ranked lists (best first, one entry per file each) into the top `k` files.

    A fused result is its best-contributing entry (score, page, snippet), with the
    snippet of another entry when that one has none, the union of the entries'
    `matched_terms`, and their `signals` ordered by contribution. Ties keep the order
    of `lists`.
    """
    total: dict[str, float] = {}
    parts: dict[str, list[tuple[float, int, SearchResult]]] = {}
    for order, (name, results) in enumerate(lists.items()):
        weight = WEIGHTS[name]
        # A keyword hit counts by the share of the query's words it holds (its score),
        # relative to the best hit: "invoice" alone is half a match for "invoice 4471".
        top = max((r.score for r in results), default=0.0) if name in BY_WORDS else 0.0
        for rank, result in enumerate(results):
            share = weight / (RRF_K + rank)
            if top > 0:
                share *= result.score / top
            total[result.path] = total.get(result.path, 0.0) + share
            parts.setdefault(result.path, []).append((share, -order, result))
    first_seen = {path: i for i, path in enumerate(total)}
    ranked = sorted(total, key=lambda p: (-total[p], first_seen[p]))[:k]
    out: list[SearchResult] = []
    for path in ranked:
        entries = [r for _, _, r in sorted(parts[path], key=lambda e: (e[0], e[1]), reverse=True)]
        best = entries[0]
        page = (
            best.page
            if best.page is not None
            else next((r.page for r in entries if r.page is not None), None)
        )
        # A page image has no text: show a passage, of the same page where one matched.
        snippet = best.snippet or next(
            (r.snippet for r in sorted(entries, key=lambda r: r.page != page) if r.snippet), None
        )
        terms = list(dict.fromkeys(t for r in entries for t in r.matched_terms))
        signals = list(dict.fromkeys(s for r in entries for s in r.signals))
        out.append(
            dataclasses.replace(
                best, snippet=snippet, page=page, matched_terms=tuple(terms), signals=tuple(signals)
            )
        )
    return out
