"""Queries -> vectors -> kNN per modality -> results grouped per file.

CLIP's text-text similarities sit far above its text-image ones (and image-image above
image-text), so one raw top-k over both modalities would return a single kind. Each
modality is searched on its own; the "all" view merges them on scores standardised
within each modality's candidate pool.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from finder.core.catalog import Catalog, ItemRow
from finder.core.embedder import Embedder
from finder.core.extract import load_image
from finder.core.store import ModelStore
from finder.core.types import FileKind, Modality, SearchKind, SearchResult

# A document has several passages; fetch this many per wanted result before grouping.
PASSAGES_PER_RESULT = 8
# Size of the candidate pool whose score distribution standardises a modality in "all".
POOL = 50
MIN_SPREAD = 0.02  # floor for the pool's standard deviation (tiny pools, ties)


class Search:
    def __init__(self, catalog: Catalog, models: ModelStore, embedder: Embedder) -> None:
        self.catalog = catalog
        self.models = models
        self.embedder = embedder
        self._seen_version: int | None = None

    # -- entry points ------------------------------------------------------------------

    def text(self, query: str, kind: SearchKind = SearchKind.ALL,
             k: int = 20) -> list[SearchResult]:
        query = query.strip()
        if not query:
            return []
        vector = self.embedder.encode_texts([query])[0]
        return self.by_vector(vector, kind, k)

    def image(self, image: Path | str | Image.Image, kind: SearchKind = SearchKind.ALL,
              k: int = 20) -> list[SearchResult]:
        """Search with a picture: a file path or an image already in memory."""
        picture = image if isinstance(image, Image.Image) else load_image(image)
        vector = self.embedder.encode_images([self.embedder.preprocess(picture.convert("RGB"))])[0]
        return self.by_vector(vector, kind, k)

    def keyword(self, query: str, kind: SearchKind = SearchKind.ALL,
                k: int = 20) -> list[SearchResult]:
        """Without a model: files whose name or text contains the query's words.

        The score is the share of the query's words found in the file name or passage.
        """
        words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 1][:8]
        wanted = {SearchKind.PHOTOS: FileKind.PHOTO, SearchKind.DOCS: FileKind.DOCUMENT}
        best: dict[int, SearchResult] = {}
        for row in self.catalog.items_matching_words(words, wanted.get(kind)):
            haystack = f"{Path(row.path).name} {row.text or ''}".lower()
            score = sum(word in haystack for word in words) / len(words)
            if score > 0 and (row.file_id not in best or score > best[row.file_id].score):
                best[row.file_id] = SearchResult(
                    path=row.path, kind=row.kind, score=score,
                    snippet=row.text if row.kind is FileKind.DOCUMENT else None,
                    page=row.page, file_id=row.file_id, item_id=row.id)
        ranked = sorted(best.values(), key=lambda r: (-r.score, r.path))
        return ranked[:k]

    def by_vector(self, vector: np.ndarray, kind: SearchKind, k: int) -> list[SearchResult]:
        self._pick_up_writes()
        if kind is SearchKind.PHOTOS:
            return self._photos(vector, k)[0]
        if kind is SearchKind.DOCS:
            return self._documents(vector, k)[0]
        photos, photo_pool = self._photos(vector, max(k, POOL))
        documents, doc_pool = self._documents(vector, max(k, POOL))
        return merge_modalities([(photos, photo_pool), (documents, doc_pool)], k)

    # -- per modality -------------------------------------------------------------------

    def _photos(self, vector: np.ndarray, k: int) -> tuple[list[SearchResult], np.ndarray]:
        ids, scores = self.models.store.query(Modality.IMAGE, vector, k)
        return _group(self.catalog.items([int(i) for i in ids]), ids, scores, k), scores

    def _documents(self, vector: np.ndarray, k: int) -> tuple[list[SearchResult], np.ndarray]:
        store = self.models.store
        available = store.count(Modality.TEXT)
        fetch = k * PASSAGES_PER_RESULT
        while True:
            ids, scores = store.query(Modality.TEXT, vector, fetch)
            results = _group(self.catalog.items([int(i) for i in ids]), ids, scores, k)
            if len(results) >= k or fetch >= available:
                return results, np.asarray([r.score for r in results], dtype=np.float32)
            fetch *= 4  # many passages of few documents: look further

    def _pick_up_writes(self) -> None:
        """See what another process (the indexer) committed since the last query."""
        version = self.catalog.data_version()
        if self._seen_version is not None and version != self._seen_version:
            self.models.refresh()
        self._seen_version = version


def _group(rows: dict[int, ItemRow], ids: np.ndarray, scores: np.ndarray,
           k: int) -> list[SearchResult]:
    """One result per file: its best item (the hits arrive best first)."""
    best: dict[int, SearchResult] = {}
    for item_id, score in zip(ids, scores, strict=True):
        row = rows.get(int(item_id))
        if row is None or row.file_id in best:
            continue  # gone since the index was built, or a weaker passage of a shown file
        best[row.file_id] = SearchResult(
            path=row.path, kind=row.kind, score=float(score),
            snippet=row.text if row.kind is FileKind.DOCUMENT else None,
            page=row.page, file_id=row.file_id, item_id=row.id)
        if len(best) >= k:
            break
    return list(best.values())


def merge_modalities(groups: list[tuple[list[SearchResult], np.ndarray]],
                     k: int) -> list[SearchResult]:
    """Merge per-modality result lists on scores standardised within each pool.

    A result's standing is how far it rises above the other candidates of its own
    modality, which is comparable across modalities where raw cosine is not.
    """
    merged: list[tuple[float, SearchResult]] = []
    for results, pool in groups:
        if not results:
            continue
        mean = float(np.mean(pool)) if len(pool) else 0.0
        spread = max(float(np.std(pool)) if len(pool) > 1 else 0.0, MIN_SPREAD)
        merged += [((r.score - mean) / spread, r) for r in results]
    merged.sort(key=lambda pair: pair[0], reverse=True)
    return [r for _, r in merged[:k]]
