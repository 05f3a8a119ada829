"""Queries -> keyword and vector signals -> results fused per file.

CLIP's text-text similarities sit far above its text-image ones (and image-image above
image-text), so one raw top-k over both modalities would return a single kind. Each
modality is searched on its own and calibrated against its own candidate pool
(finder.core.search.relevance), which puts every kind on one scale.

A typed query is also matched by keywords (SQLite FTS5, BM25: names, folders, passages,
text read in pictures), and the signals are fused on their evidence
(finder.core.search.ranking). A dropped image is compared with photos and PDF page
pictures, with passages, and the text read in it (OCR) is matched by keywords.

Every result of a model search carries its fused score, relevance and match, computed
here once for every front end; a model with random weights never calls a result strong
(`Search.random_weights` says why, for the front ends to say it loudly).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from finder.core.ingest.exclusions import ExcludedPaths
from finder.core.ingest.extract import load_image
from finder.core.ingest.ocr import Ocr, OcrUnavailableError, searchable
from finder.core.models.embedder import Embedder
from finder.core.models.spec import ModelSpec
from finder.core.search.duplicates import CopyFinder, collapse
from finder.core.search.filters import NO_FILTERS, Filters
from finder.core.search.keywords import KeywordQuery, parse
from finder.core.search.push_down import WIDEN, away_from, push_down, without_words
from finder.core.search.ranking import fuse, keyword_relevance
from finder.core.search.relevance import STRONG, WEAK, calibrate
from finder.core.search.scope import Scope
from finder.core.store.catalog import Catalog
from finder.core.store.model_store import ModelStore
from finder.core.store.rows import ItemRow
from finder.core.types import FileKind, Modality, SearchKind, SearchResult

log = logging.getLogger(__name__)

# A document has several passages; fetch this many per wanted result before grouping.
PASSAGES_PER_RESULT = 8
# Size of the candidate pool whose score distribution calibrates a modality, and of each
# signal's list before fusion.
POOL = 50
COMMON_WORD_ROWS = 5000  # BM25 of this many rows: about 6 ms
MIN_SPREAD = 0.02  # floor for the pool's standard deviation (tiny pools, ties)
OCR_QUERY_TERMS = 32  # words of a query image's text used as keywords, at most
OCR_QUERY_LINES = 8  # lines of a query image read for them (the tallest): ~0.1 s each

_KINDS = {SearchKind.PHOTOS: FileKind.PHOTO, SearchKind.DOCS: FileKind.DOCUMENT}


class Search:
    def __init__(
        self, catalog: Catalog, models: ModelStore, embedder: Embedder, ocr: Ocr | None = None
    ) -> None:
        self.catalog = catalog
        self.models = models
        self.embedder = embedder
        self.ocr = ocr  # reads the text in query images; None: no OCR
        self._seen_version: int | None = None
        self._scope: Scope | None = None  # what a narrowed copy may return (within)
        self._excluded = ExcludedPaths()  # what the person left out: never a result

    # -- entry points ------------------------------------------------------------------

    def text(
        self,
        query: str,
        kind: SearchKind = SearchKind.ALL,
        k: int = 20,
        *,
        filters: Filters = NO_FILTERS,
    ) -> list[SearchResult]:
        """Meaning (embeddings) and keywords (BM25), fused per file on their evidence;
        results near `filters.exclude` pushed down (push_down.py)."""
        query = query.strip()
        if not query:
            return []
        vector = self.embedder.encode_texts([query])[0]
        away = away_from(self.embedder.encode_texts, filters.exclude)
        self._pick_up_writes()
        pool = max(k, POOL)
        words = parse(query)
        meaning: list[SearchResult] = []
        keyword: list[SearchResult] = []
        # Each kind's pool calibrates its own candidates, and gets its own keyword hits
        # (documents hold most words: across kinds they would crowd photos out).
        for file_kind in _file_kinds(kind):
            meaning += self._meaning(vector, file_kind, pool, away=away)[0]
            hits = self._keyword(words, file_kind, pool, "keyword")
            keyword += without_words(hits, filters.exclude)
        return self._finish(fuse({"keyword": keyword, "meaning": meaning}, k))

    def within(self, scope: Scope | None) -> Search:
        """This search narrowed to `scope` (filters: scope.py), a copy sharing the catalog
        and the stores; itself when there is no scope."""
        if scope is None:
            return self
        self._pick_up_writes()
        narrowed = copy.copy(self)
        narrowed._scope = scope
        return narrowed

    @property
    def random_weights(self) -> bool:
        """The model has random weights (--pretrained none): its similarities mean
        nothing, so no result is labelled strong and front ends should say so loudly."""
        key = self.embedder.key
        return ModelSpec(key.partition("@")[0], None).key == key

    def image(
        self, image: Path | str | Image.Image, kind: SearchKind = SearchKind.ALL, k: int = 20
    ) -> list[SearchResult]:
        """Search with a picture: a file path or an image already in memory.

        Fuses its similarity to photos and PDF page pictures, to passages (documents),
        and the keyword matches of the text read in it.
        """
        *_, final = self.image_stages(image, kind, k)
        return final

    def image_stages(
        self, image: Path | str | Image.Image, kind: SearchKind = SearchKind.ALL, k: int = 20
    ) -> Iterator[list[SearchResult]]:
        """`image` in two answers: by the picture alone (a fraction of a second), then,
        if any text was read in it (OCR, up to a second more), with its words fused in."""
        picture = image if isinstance(image, Image.Image) else load_image(image)
        picture = picture.convert("RGB")
        vector = self.embedder.encode_images([self.embedder.preprocess(picture)])[0]
        self._pick_up_writes()
        pool = max(k, POOL)
        pictures = self._nearest(Modality.IMAGE, vector, _KINDS.get(kind), pool, 4)
        lists = {"image": calibrate(pictures, _scores(pictures), pictures=True)}
        if kind is not SearchKind.PHOTOS:
            lists["passage"] = self._meaning(vector, FileKind.DOCUMENT, pool)[0]
        yield self._finish(fuse(lists, k))
        words = searchable(self.read_text(picture))
        if words:
            query = parse(words, typed=False, max_terms=OCR_QUERY_TERMS)
            lists["ocr keyword"] = self._keyword(query, _KINDS.get(kind), pool, "keyword")
            yield self._finish(fuse(lists, k))

    def read_text(self, picture: Image.Image) -> str:
        """The text in a query image, "" when there is none or OCR is not available."""
        if self.ocr is None:
            return ""
        try:
            return self.ocr.read(picture, max_lines=OCR_QUERY_LINES)
        except OcrUnavailableError as exc:
            log.warning("%s; searching by the picture only", exc)
            self.ocr = None
            return ""

    def keyword(
        self, query: str, kind: SearchKind = SearchKind.ALL, k: int = 20
    ) -> list[SearchResult]:
        """Without a model: files whose name, folder or text holds the query's words.

        With nothing to weigh the words against, a file's score and relevance are the
        share of the query's words it holds (all of them: a strong match); more of them
        first, then by BM25.
        """
        self._pick_up_writes()
        hits = self._keyword(parse(query), _KINDS.get(kind), k, "keyword", only_signal=True)
        return sorted(
            (
                dataclasses.replace(
                    r, relevance=round(r.score, 3), match=STRONG if r.score >= 1.0 else WEAK
                )
                for r in hits
            ),
            key=lambda r: -r.score,
        )

    def by_vector(
        self, vector: np.ndarray, kind: SearchKind, k: int, *, picture: bool = False
    ) -> list[SearchResult]:
        """By meaning alone (a model comparison): each kind calibrated against its own
        pool (finder.core.search.relevance); `picture`: `vector` is a picture's."""
        self._pick_up_writes()
        pool = max(k, POOL)
        groups = [
            self._meaning(vector, file_kind, pool, picture=picture)
            for file_kind in _file_kinds(kind)
        ]
        return self._finish(fuse({"meaning": merge_modalities(groups, k)}, k))

    # -- per signal ----------------------------------------------------------------------

    def _finish(self, results: list[SearchResult]) -> list[SearchResult]:
        copies = CopyFinder(
            self.catalog,
            self.models,
            random_weights=self.random_weights,
            hidden=self._excluded.hides,
        )
        found = copies.copies(results)
        if self._scope is not None:  # copies outside the filters are not this search's
            inside = self._scope.allowed_files(
                self.catalog, {o.file_id for group in found.values() for o in group}
            )
            found = {f: [o for o in g if o.file_id in inside] for f, g in found.items()}
        results = collapse(results, found)  # the same shot once
        if not self.random_weights:
            return results
        return [dataclasses.replace(r, match=WEAK) if r.match == STRONG else r for r in results]

    def _meaning(
        self,
        vector: np.ndarray,
        kind: FileKind,
        k: int,
        *,
        picture: bool = False,
        away: np.ndarray | None = None,
    ) -> tuple[list[SearchResult], np.ndarray]:
        """The `k` files of `kind` nearest to `vector`, calibrated against each other, and
        their similarities; `picture`: `vector` is a picture's (so are photos'); `away`:
        the excluded concepts' vector, whose neighbours are pushed down."""
        fetch = self._photos if kind is FileKind.PHOTO else self._documents
        found, scores = fetch(vector, k if away is None else k * WIDEN)
        if away is not None:
            vectors = functools.partial(self.catalog.vectors_for, self.models.model_id)
            found, scores = push_down(found, away, vectors, k)
        return calibrate(found, scores, pictures=picture and kind is FileKind.PHOTO), scores

    def _photos(self, vector: np.ndarray, k: int) -> tuple[list[SearchResult], np.ndarray]:
        results = self._nearest(Modality.IMAGE, vector, FileKind.PHOTO, k, 1)
        return results, np.asarray([r.score for r in results], dtype=np.float32)

    def _documents(self, vector: np.ndarray, k: int) -> tuple[list[SearchResult], np.ndarray]:
        results = self._nearest(Modality.TEXT, vector, FileKind.DOCUMENT, k, PASSAGES_PER_RESULT)
        return results, np.asarray([r.score for r in results], dtype=np.float32)

    def _nearest(
        self, modality: Modality, vector: np.ndarray, kind: FileKind | None, k: int, per_result: int
    ) -> list[SearchResult]:
        """The k files of `kind` with the items nearest to `vector`, best first.

        The image index holds photos and PDF page pictures; the text index passages.
        """
        store = self.models.store
        scope = self._scope
        available = store.count(modality) if scope is None else len(scope.items[modality])
        fetch = k * per_result
        while True:
            if scope is None:
                ids, scores = store.query(modality, vector, fetch)
            else:
                model_id = self.models.model_id
                ids, scores = scope.nearest(store, self.catalog, model_id, modality, vector, fetch)
            rows = self.catalog.items([int(i) for i in ids])
            results = _group(self._excluded.visible(rows), ids, scores, k, kind)
            if len(results) >= k or fetch >= available:
                return results
            # Many passages (or pages) of few files: look further, at last at every item,
            # which the store answers exactly: every file with an item is reached.
            fetch = min(fetch * 4, available)

    def _keyword(
        self,
        query: KeywordQuery,
        kind: FileKind | None,
        k: int,
        signal: str,
        *,
        only_signal: bool = False,
    ) -> list[SearchResult]:
        """Files matching the query's words, best BM25 first; a document shows its best
        matching passage. Score: the share of the query's words and phrases a file holds;
        relevance: that share weighed by where they are (ranking.keyword_relevance)."""
        if query.empty:
            return []
        best: dict[int, SearchResult] = {}
        in_text: dict[int, set[str]] = {}  # the parts found in a file's passages or OCR text
        for row, _, names in self._keyword_rows(
            query, kind, k * PASSAGES_PER_RESULT, only_signal=only_signal
        ):
            if self._excluded.hides(row.path):
                continue
            found = best.get(row.file_id)
            if found is None and len(best) >= k:
                continue
            terms = tuple(query.matched(f"{names} {row.text or ''}"))
            in_text.setdefault(row.file_id, set()).update(query.matched(row.text or ""))
            if found is None:
                best[row.file_id] = _result(row, len(terms) / query.size, signal, terms)
                continue
            union = tuple(dict.fromkeys(found.matched_terms + terms))
            if found.snippet is None and row.text and row.kind is FileKind.DOCUMENT:
                found = dataclasses.replace(
                    found, snippet=row.text, page=row.page, item_id=row.id
                )  # a passage beats a name hit
            best[row.file_id] = dataclasses.replace(
                found, matched_terms=union, score=len(union) / query.size
            )
        return [
            dataclasses.replace(
                r,
                relevance=keyword_relevance(
                    r.score, query.weight(r.matched_terms, in_text[file_id])
                ),
            )
            for file_id, r in best.items()
        ]

    def _keyword_rows(
        self, query: KeywordQuery, kind: FileKind | None, limit: int, *, only_signal: bool
    ) -> list[tuple[ItemRow, float, str]]:
        """Rows holding every word first, then rows holding any. BM25 is computed for
        every row an expression matches: one common word can match most of the library
        (tens of ms at 100k passages), while rows holding them all are fewer. In the
        second pass a word in more than COMMON_WORD_ROWS rows matches names only (or
        nothing, if it is common in names too). When keywords are the only signal (no
        model yet) a third pass fills the list with rows holding a common word, unranked."""
        held = self.catalog.keyword_rows_holding(query.words())
        common = {w for w, (anywhere, _) in held.items() if anywhere > COMMON_WORD_ROWS}
        names_only = {w for w in common if held[w][1] <= COMMON_WORD_ROWS}
        # Rows holding every word: at most as many as hold the rarest word. Thousands of
        # them all score the same here, so past that they come unranked (no BM25 pass).
        rarest = min((anywhere for anywhere, _ in held.values()), default=0)
        rows: list[tuple[ItemRow, float, str]] = []
        seen: set[int] = set()
        within = None if self._scope is None else self._scope.where
        for expression, ranked in (
            (query.match_all_expression(), rarest <= COMMON_WORD_ROWS),
            (query.match_expression(names_only=names_only, left_out=common - names_only), True),
            # Still short, with no model to find the rest ("invoice" alone): any row
            # holding a common word, unranked (bounded: see Catalog.keyword_hits).
            (query.match_expression() if common and only_signal else None, False),
        ):
            if not expression:
                continue
            hits = self.catalog.keyword_hits(
                expression, kind, limit=limit, ranked=ranked, within=within
            )
            for hit in hits:
                if hit[0].id not in seen:
                    seen.add(hit[0].id)
                    rows.append(hit)
            if len(rows) >= limit:
                break
        return rows[:limit]

    def _pick_up_writes(self) -> None:
        """See what another process (the indexer) committed since the last query."""
        version = self.catalog.data_version()
        if self._seen_version is not None and version != self._seen_version:
            self.models.refresh()
        self._seen_version = version
        # A tiny table, read each query: an exclusion just added hides its files at once.
        self._excluded = self.catalog.excluded_paths()


_VECTOR_SIGNALS = {
    (Modality.IMAGE, FileKind.PHOTO): "image",
    (Modality.IMAGE, FileKind.DOCUMENT): "page image",
    (Modality.TEXT, FileKind.DOCUMENT): "passage",
}


def _result(row: ItemRow, score: float, signal: str, terms: tuple[str, ...] = ()) -> SearchResult:
    is_document = row.kind is FileKind.DOCUMENT
    return SearchResult(
        path=row.path,
        kind=row.kind,
        score=score,
        snippet=row.text if is_document and row.modality is Modality.TEXT else None,
        page=row.page,
        file_id=row.file_id,
        item_id=row.id,
        matched_terms=terms,
        signals=(signal,),
    )


def _group(
    rows: dict[int, ItemRow],
    ids: np.ndarray,
    scores: np.ndarray,
    k: int,
    kind: FileKind | None = None,
) -> list[SearchResult]:
    """One result per file (of `kind`): its best item (the hits arrive best first)."""
    best: dict[int, SearchResult] = {}
    for item_id, score in zip(ids, scores, strict=True):
        row = rows.get(int(item_id))
        if row is None or row.file_id in best or (kind is not None and row.kind is not kind):
            continue  # gone since the index was built, a weaker item of a shown file, or
            # another kind of file
        signal = _VECTOR_SIGNALS.get((row.modality, row.kind), row.modality.value)
        best[row.file_id] = _result(row, float(score), signal)
        if len(best) >= k:
            break
    return list(best.values())


def merge_modalities(
    groups: list[tuple[list[SearchResult], np.ndarray]], k: int
) -> list[SearchResult]:
    """Merge per-modality result lists on their standing within their own pool.

    A result's standing is how far it rises above the other candidates of its own
    modality, which is comparable across modalities where raw cosine is not: its
    calibrated relevance where it has one, else its score standardised within the pool.
    """
    merged: list[tuple[float, SearchResult]] = []
    for results, pool in groups:
        if not results:
            continue
        mean = float(np.mean(pool)) if len(pool) else 0.0
        spread = max(float(np.std(pool)) if len(pool) > 1 else 0.0, MIN_SPREAD)
        merged += [
            (r.relevance if r.relevance is not None else (r.score - mean) / spread, r)
            for r in results
        ]
    merged.sort(key=lambda pair: pair[0], reverse=True)
    return [r for _, r in merged[:k]]


def _file_kinds(kind: SearchKind) -> tuple[FileKind, ...]:
    wanted = _KINDS.get(kind)
    return (wanted,) if wanted is not None else (FileKind.PHOTO, FileKind.DOCUMENT)


def _scores(results: list[SearchResult]) -> np.ndarray:
    return np.asarray([r.score for r in results], dtype=np.float32)
