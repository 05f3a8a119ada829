"""`FinderVectorStore`: LangChain's VectorStore over a finder library.

Without a collection name it is the user's finder library, read-only: the photos and
documents of the watched folders, searched as `finder search` searches them (meaning and
keywords fused, relevance calibrated, the clearly irrelevant tail left out). With
`collection_name` it is a named collection of one's own texts. Texts added (`add_texts`,
`from_texts`) always go into a named collection, kept in the data dir apart from the
folder index (finder.langchain.collection) and never mixed into it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from finder.core.library import Library
from finder.core.models.spec import ModelUnavailableError
from finder.core.search.filters import NO_FILTERS, Filters
from finder.core.types import SearchKind, SearchResult
from finder.langchain.collection import DEFAULT_COLLECTION, Hit, TextCollection
from finder.langchain.documents import to_documents
from finder.langchain.embeddings import FinderEmbeddings
from finder.langchain.opening import DataDir

# What `filter={"kind": ...}` accepts, in finder's words and in LangChain's recipes' words.
_KINDS = {
    "photo": SearchKind.PHOTOS,
    "photos": SearchKind.PHOTOS,
    "image": SearchKind.PHOTOS,
    "document": SearchKind.DOCS,
    "documents": SearchKind.DOCS,
    "docs": SearchKind.DOCS,
    "text": SearchKind.DOCS,
    "all": SearchKind.ALL,
}
# A text search is narrowed by all of them; a search by picture or by vector by kind.
LIBRARY_FILTERS = ("kind", "after", "before", "place", "camera", "folder")


class FinderVectorStore(VectorStore):
    """The user's finder library (or a named collection of texts) as a LangChain store.

    `FinderVectorStore(data_dir=None)`: the photos and documents finder indexed, searched
    read-only (no writer lock: it runs beside the app or `finder watch`). `filter` takes
    `kind` ("photo" | "document"), and for a text query also `after` and `before` (a
    date or "YYYY-MM-DD": when a photo was taken), `place` (a place name), `camera` (a
    part of its make or model) and `folder` (only files under it). Each Document's
    `page_content` is the passage that matched, or the text read in a picture, or the
    file's name; its `metadata` holds `path`, `kind`, `type` ("image" | "text"), `page`,
    `score`, `relevance` (finder's calibrated 0..1, also what
    `similarity_search_with_relevance_scores` gives) and `match` ("strong" | "weak").
    The folder index is never written: `add_texts` here puts the texts into the
    collection named "langchain" (searched by FinderVectorStore(collection_name=
    "langchain"), not by this store).

    `FinderVectorStore(data_dir, collection_name="notes")` (or `from_texts`): texts of
    one's own, stored with their vectors in `<data dir>/collections/notes.sqlite3`, a
    separate file the folder index never reads; `filter` matches their metadata.

    `model`: as FinderEmbeddings (None: the model the CLI would use). `embedding`: for a
    collection, another Embeddings to embed its texts with (finder's model by default).
    """

    def __init__(
        self,
        data_dir: DataDir = None,
        *,
        collection_name: str | None = None,
        model: str | None = None,
        embedding: Embeddings | None = None,
    ) -> None:
        self._finder = FinderEmbeddings(model, data_dir)
        self._embedding = embedding or self._finder
        self.collection_name = collection_name
        self._collection: TextCollection | None = None

    # -- what it is over -------------------------------------------------------------------

    @property
    def embeddings(self) -> Embeddings:
        return self._embedding

    @property
    def library(self) -> Library:
        """The finder library (opened read-only on first use)."""
        return self._finder.library

    @property
    def collection(self) -> TextCollection:
        """Where this store's texts go: its named collection; the folder index is
        read-only, so a store over it adds texts to the collection DEFAULT_COLLECTION."""
        if self._collection is None:
            embedding = self._embedding
            key = (
                self.library.embedder.key if embedding is self._finder else type(embedding).__name__
            )
            self._collection = TextCollection(
                self.library.data_dir,
                self.collection_name or DEFAULT_COLLECTION,
                lambda texts: embedding.embed_documents(texts),
                key,
            )
        return self._collection

    def close(self) -> None:
        self._finder.close()

    # -- searching -------------------------------------------------------------------------

    def similarity_search(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Documents with finder's score (fused similarity; cosine in a collection)."""
        if self.collection_name is not None:
            vector = self._embedding.embed_query(query)
            return self._collection_hits(self.collection.search(vector, k, filter))
        kind, filters = _library_filters(filter)
        return self._scored(self._search_text(query, kind, k, filters))

    def _similarity_search_with_relevance_scores(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """finder's calibrated relevance (0..1) in the library; (1 + cosine) / 2 in a
        collection."""
        return [
            (doc, _relevance(doc, score))
            for doc, score in self.similarity_search_with_score(query, k, **kwargs)
        ]

    def similarity_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        filter: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """By a vector of the store's model (FinderEmbeddings' embed_query, embed_image).
        `picture=True`: it is a picture's vector (photos compared on their own scale)."""
        if self.collection_name is not None:
            hits = self.collection.search(embedding, k, filter)
            return [doc for doc, _ in self._collection_hits(hits)]
        results = self.library.search_vector(
            embedding, _kind_only(filter), k, picture=bool(kwargs.get("picture")), tail=False
        )
        return to_documents(self.library, results)

    def similarity_search_by_image(
        self, path: str | os.PathLike[str], k: int = 4, filter: dict[str, Any] | None = None
    ) -> list[Document]:
        """Files like a picture (as `finder search --image`: the picture, and the text
        read in it); in a collection, the texts nearest to it."""
        if self.collection_name is not None:
            vector = self._finder.embed_image([path])[0]
            return [
                doc for doc, _ in self._collection_hits(self.collection.search(vector, k, filter))
            ]
        image = Path(path).expanduser()
        if not image.is_file():
            raise FileNotFoundError(f"{image}: no such image file")
        results = self.library.search_image(image, _kind_only(filter), k, tail=False)
        return to_documents(self.library, results)

    def _search_text(
        self, query: str, kind: SearchKind, k: int, filters: Filters
    ) -> list[SearchResult]:
        """As `finder search` does: the words understood (dates, places, kinds,
        exclusions) with `filter` over them, then meaning and keywords; keywords alone
        while the library's model is missing."""
        library = self.library
        understood = library.interpret(query, None if kind is SearchKind.ALL else kind, filters)
        query, filters = understood.searched, understood.filters
        kind = filters.kind or SearchKind.ALL
        if not library.model_missing():
            try:
                return library.search_text(query, kind, k, tail=False, filters=filters)
            except ModelUnavailableError:
                pass
        return library.search_keyword(query, kind, k, filters=filters)

    def _scored(self, results: list[SearchResult]) -> list[tuple[Document, float]]:
        documents = to_documents(self.library, results)
        return [(doc, float(doc.metadata["score"])) for doc in documents]

    def _collection_hits(self, hits: list[Hit]) -> list[tuple[Document, float]]:
        out = []
        for hit in hits:
            metadata = {
                "path": None,
                "kind": "document",
                "type": "text",
                "page": None,
                "score": hit.score,
                "relevance": (1.0 + hit.score) / 2.0,
                "match": "",
                **hit.metadata,
                "collection": self.collection.name,
            }
            out.append((Document(id=hit.id, page_content=hit.text, metadata=metadata), hit.score))
        return out

    # -- a collection's texts --------------------------------------------------------------

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Add texts to this store's named collection, never to the folder index (which
        is read-only): a store over the library adds them to the collection
        DEFAULT_COLLECTION ("langchain"), which its own searches do not see."""
        return self.collection.add(list(texts), metadatas, ids)

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        ids = kwargs.get("ids") or [doc.id for doc in documents]
        return self.collection.add(
            [doc.page_content for doc in documents], [doc.metadata for doc in documents], ids
        )

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete texts of this store's collection (None: all of them); the folder
        index is never touched."""
        self.collection.delete(ids)
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """Texts of this store's collection by id."""
        return [
            Document(id=hit.id, page_content=hit.text, metadata=hit.metadata)
            for hit in self.collection.get(ids)
        ]

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None = None,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        data_dir: DataDir = None,
        collection_name: str = DEFAULT_COLLECTION,
        model: str | None = None,
        **kwargs: Any,
    ) -> FinderVectorStore:
        """A store over the named collection (in the data dir, apart from the folder
        index) with these texts added. `embedding`: finder's model when None."""
        store = cls(data_dir, collection_name=collection_name, model=model, embedding=embedding)
        store.add_texts(texts, metadatas, ids=ids)
        return store


def _library_filters(filter: dict[str, Any] | None) -> tuple[SearchKind, Filters]:
    """The library's filters; an unknown one is an error, not ignored."""
    if not filter:
        return SearchKind.ALL, NO_FILTERS
    unknown = set(filter) - set(LIBRARY_FILTERS)
    if unknown:
        raise ValueError(
            f"unknown filter {', '.join(sorted(unknown))}: the library filters by "
            f"{', '.join(LIBRARY_FILTERS)}"
        )
    value = str(filter.get("kind") or "all").lower()
    if value not in _KINDS:
        raise ValueError(f"kind {value!r}: use 'photo', 'document' or 'all'")
    words = {name: filter.get(name) for name in ("place", "camera", "folder")}
    filters = Filters(
        after=_day(filter.get("after")),
        before=_day(filter.get("before")),
        **{name: str(value) for name, value in words.items() if value},
    )
    return _KINDS[value], filters


def _kind_only(filter: dict[str, Any] | None) -> SearchKind:
    """A search by picture or vector is narrowed by kind only."""
    kind, filters = _library_filters(filter)
    if filters.narrows:
        raise ValueError("a search by picture or by vector filters by kind only")
    return kind


def _day(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"date {value!r}: use a date or 'YYYY-MM-DD'") from None


def _relevance(doc: Document, score: float) -> float:
    relevance = doc.metadata.get("relevance")
    return float(relevance) if relevance is not None else max(0.0, min(1.0, score))
