"""The Library's searches (a part of the service, finder.core.library): typed words
understood, meaning and keywords, pictures, vectors for the integrations, the year
strip's and place completion's look-ups, duplicates and the newest files."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

from finder.core.indexing.embedding import embed_pictures, embed_texts
from finder.core.models.embedder import Embedder
from finder.core.search.dated import arranged
from finder.core.search.duplicates import CopyFinder
from finder.core.search.filters import NO_FILTERS, Filters, Sort
from finder.core.search.places import WORLD_PLACES, known_places
from finder.core.search.relevance import relevant
from finder.core.search.scope import meta_filter, scope_for
from finder.core.search.search import Search
from finder.core.search.understanding import Understood, understand, with_filters
from finder.core.search.understanding import literal as take_literally
from finder.core.store.catalog import Catalog
from finder.core.store.file_meta import files_within, place_names, year_counts
from finder.core.store.model_store import ModelStore
from finder.core.types import DuplicateGroup, FileKind, FileStatus, SearchKind, SearchResult


class LibrarySearch:
    """Mixed into Library, which sets these up."""

    embedder: Embedder
    _catalog: Catalog
    _models: ModelStore
    _search: Search

    # -- searching --------------------------------------------------------------------------

    def understand(
        self, query: str, kind: SearchKind | None = None, today: date | None = None
    ) -> Understood:
        """A typed query as meaning and filters (finder.core.search.understanding) for a
        search of `kind`: its dates read against `today` (default: the computer's), its
        places this library's or, typed with a capital, the world's."""
        places = known_places(self._catalog.place_names())
        day = today or date.today()
        return understand(query, day, places, gazetteer=WORLD_PLACES, kind=kind)

    def interpret(
        self,
        query: str,
        kind: SearchKind | None = None,
        filters: Filters = NO_FILTERS,
        *,
        literal: bool = False,
    ) -> Understood:
        """What every front end asks for a typed query: its words understood (unless
        `literal`), with the explicit `kind` and `filters` (flags, chips, arguments) over
        them. Search `understood.searched` of `understood.filters.kind or ALL` with
        `understood.filters`: the CLI, the app, LangChain and MCP then agree."""
        said = take_literally(query) if literal else self.understand(query, kind)
        return with_filters(said, dataclasses.replace(filters, kind=kind))

    def search_text(
        self,
        text: str,
        kind: SearchKind = SearchKind.ALL,
        k: int = 20,
        *,
        tail: bool = True,
        filters: Filters = NO_FILTERS,
    ) -> list[SearchResult]:
        """By meaning and keywords. `tail=False` leaves out the clearly irrelevant tail;
        `filters` narrow and push down (an Understood's meaning and filters)."""
        found = self._narrowed(filters).text(text, kind, k, filters=filters)
        return arranged(relevant(found, tail), self._catalog, filters)

    def search_image(
        self,
        image: Path | str | Image.Image,
        kind: SearchKind = SearchKind.ALL,
        k: int = 20,
        *,
        tail: bool = True,
        filters: Filters = NO_FILTERS,
    ) -> list[SearchResult]:
        """With a picture (a file, or one in memory), and the text read in it."""
        found = self._narrowed(filters).image(image, kind, k)
        return arranged(relevant(found, tail), self._catalog, filters)

    def search_image_stages(
        self,
        image: Path | str | Image.Image,
        kind: SearchKind = SearchKind.ALL,
        k: int = 20,
        *,
        filters: Filters = NO_FILTERS,
    ) -> Iterator[list[SearchResult]]:
        """`search_image` in two answers: by the picture alone at once, then with the
        text read in it (when there is any)."""
        stages = self._narrowed(filters).image_stages(image, kind, k)
        return (arranged(stage, self._catalog, filters) for stage in stages)

    def search_similar(
        self,
        path: str,
        kind: SearchKind = SearchKind.ALL,
        k: int = 20,
        *,
        filters: Filters = NO_FILTERS,
    ) -> list[SearchResult]:
        """Files like an indexed picture."""
        return self.search_image(Path(path), kind, k, filters=filters)

    def indexed_kind(self, path: str | os.PathLike[str]) -> FileKind | None:
        """What the index holds `path` as (a photo, a document); None: not indexed, or
        recorded as unreadable."""
        record = self._catalog.file_by_path(str(Path(path).expanduser().resolve()))
        return record.kind if record is not None and record.status is FileStatus.OK else None

    def search_keyword(
        self,
        text: str,
        kind: SearchKind = SearchKind.ALL,
        k: int = 20,
        *,
        filters: Filters = NO_FILTERS,
    ) -> list[SearchResult]:
        """Without the model (its weights missing): file names, folders and text."""
        found = self._narrowed(filters).keyword(text, kind, k)
        return arranged(found, self._catalog, filters)

    def _narrowed(self, filters: Filters) -> Search:
        """The search over what `filters` allow (all of it when they do not narrow)."""
        return self._search.within(scope_for(self._catalog, filters))

    def years(self) -> list[tuple[int, int]]:
        """(year, files taken that year), oldest first: the year strip."""
        return year_counts(self._catalog)

    def places(self, prefix: str = "") -> list[str]:
        """Place names starting with `prefix` ("Lisbon, Portugal", "Portugal"), the most
        photographed first: place completion."""
        return place_names(self._catalog, prefix)

    def search_vector(
        self,
        vector: Sequence[float] | np.ndarray,
        kind: SearchKind = SearchKind.ALL,
        k: int = 20,
        *,
        picture: bool = False,
        tail: bool = True,
    ) -> list[SearchResult]:
        """By meaning alone, with a vector of this model (`embed_texts`, `embed_pictures`);
        `picture`: it is a picture's (compared with photos on their own scale)."""
        query = np.asarray(vector, dtype=np.float32)
        return relevant(self._search.by_vector(query, kind, k, picture=picture), tail)

    # -- vectors, for integrations (finder.langchain) ---------------------------------------

    def item_texts(self, item_ids: Sequence[int]) -> dict[int, str]:
        """The text of indexed items (a passage, the text read in a picture), for results
        that show none (a photo's OCR text)."""
        rows = self._catalog.items(list(item_ids))
        return {item_id: row.text for item_id, row in rows.items() if row.text}

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts`, as searches embed a query."""
        return embed_texts(self.embedder, texts)

    def embed_pictures(self, pictures: Sequence[Path | str | Image.Image]) -> np.ndarray:
        """Unit vectors of pictures, decoded and prepared as the indexer does (the vector
        of an indexed picture is the one its index holds)."""
        return embed_pictures(self.embedder, pictures)

    def duplicates(self) -> list[DuplicateGroup]:
        """Groups of files that are the same shot, the suggested keeper first in each."""
        hidden = self._catalog.excluded_paths().hides  # left out: in no group
        copies = CopyFinder(
            self._catalog, self._models, random_weights=self._search.random_weights, hidden=hidden
        )
        return copies.groups()

    def browse(
        self, filters: Filters, kind: SearchKind = SearchKind.ALL, k: int = 200
    ) -> list[SearchResult]:
        """Everything `filters` allow, by date taken (newest first unless the sort says
        oldest): what a year or place chosen with no words shows. No model needed."""
        wanted = {SearchKind.PHOTOS: FileKind.PHOTO, SearchKind.DOCS: FileKind.DOCUMENT}
        rows = files_within(
            self._catalog,
            meta_filter(filters),
            wanted.get(kind),
            k,
            newest_first=filters.sort is not Sort.DATE_ASC,
        )
        hidden = self._catalog.excluded_paths().hides
        found = [
            SearchResult(path, file_kind, 0.0, file_id=file_id)
            for file_id, path, file_kind in rows
            if not hidden(path)
        ]
        return arranged(found, self._catalog, filters)

    def recent_files(self, kind: FileKind = FileKind.PHOTO, limit: int = 24) -> list[str]:
        """The newest files of a kind: what the app shows before anything is asked."""
        return self._catalog.recent_files(kind, limit)
