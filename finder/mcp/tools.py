"""What the MCP tools do, over one read-only Library: search, search_by_image, similar,
status. Each answers a plain dict (the tool's structured content) and a few lines for
people (its text). Nothing here writes, moves or deletes: the library is opened without
the writer lock, beside the running app or `finder watch`, whose writes each query picks
up."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from finder.core.ingest.extract import ExtractError
from finder.core.library import Library
from finder.core.models.spec import ModelUnavailableError
from finder.core.search.filters import Filters
from finder.core.store.errors import CatalogError
from finder.core.types import FileKind, SearchKind, SearchResult, display_path

MAX_K = 100
SNIPPET_CHARS = 160  # of a passage, in the text summary (the structured result has it all)


class ToolInputError(Exception):
    """A call the library cannot answer as asked: its message is for the assistant."""


# What a tool may fail on that the assistant can act on; anything else is a bug.
EXPECTED_ERRORS = (ModelUnavailableError, ExtractError, CatalogError, OSError, ValueError)


@dataclass(frozen=True)
class Answer:
    structured: dict[str, Any]
    summary: str


class FinderTools:
    """The tools' logic; one call at a time (the SDK runs tools on worker threads)."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self._lock = threading.Lock()

    def search(
        self,
        query: str,
        kind: str = "all",
        k: int = 10,
        *,
        after: str | None = None,
        before: str | None = None,
        place: str | None = None,
        camera: str | None = None,
        folder: str | None = None,
    ) -> Answer:
        """By meaning and keywords, as `finder search`, narrowed by the filters given
        (dates "YYYY-MM-DD", when a photo was taken); by keywords alone (names, text)
        while the model is missing."""
        query = query.strip()
        if not query:
            raise ToolInputError("query is empty: say what to look for")
        wanted, k = _kind(kind), _k(k)
        filters = Filters(
            after=_day(after),
            before=_day(before),
            place=place or None,
            camera=camera or None,
            folder=folder or None,
        )
        with self._lock:
            # The words understood as `finder search` understands them, the arguments over.
            understood = self.library.interpret(
                query, None if wanted is SearchKind.ALL else wanted, filters
            )
            query, filters = understood.searched, understood.filters
            wanted = filters.kind or SearchKind.ALL
            note = self.library.model_missing()
            if not note:
                try:
                    results = self.library.search_text(
                        query, wanted, k, tail=False, filters=filters
                    )
                except ModelUnavailableError as exc:
                    note = str(exc)
            if note:
                note = f"searched by keywords only: the model is missing ({note})"
                results = self.library.search_keyword(query, wanted, k, filters=filters)
        return _answer(f"search {query!r}", results, note)

    def search_by_image(self, path: str, kind: str = "all", k: int = 10) -> Answer:
        """Files like a picture on this computer (and the text read in it)."""
        image = _file(path)
        wanted, k = _kind(kind), _k(k)
        with self._lock:
            results = self.library.search_image(image, wanted, k, tail=False)
        return _answer(f"like {display_path(str(image))}", results)

    def similar(self, path: str, kind: str = "all", k: int = 10) -> Answer:
        """Files like an indexed picture, the picture itself left out."""
        picture = _file(path)
        wanted, k = _kind(kind), _k(k)
        with self._lock:
            indexed = self.library.indexed_kind(picture)
            if indexed is None:
                raise ToolInputError(
                    f"{display_path(str(picture))} is not in the index: similar takes an "
                    "indexed picture (search_by_image takes any picture)"
                )
            if indexed is not FileKind.PHOTO:
                raise ToolInputError(
                    f"{display_path(str(picture))} is a document: similar takes a picture; "
                    "search with the document's words instead"
                )
            found = self.library.search_image(picture, wanted, k + 1, tail=False)
        results = [r for r in found if Path(r.path) != picture][:k]
        return _answer(f"like {display_path(str(picture))}", results)

    def status(self) -> Answer:
        """Folders, counts, the model and the index's health."""
        with self._lock:
            status = self.library.status()
            runtime = self.library.runtime()
        structured = {
            **asdict(status),
            "precision": runtime.precision,
            "runtime": runtime.runtime,
            "device": runtime.device,
            "device_fallback": runtime.device_fallback,
        }
        lines = [
            f"{status.photos:,} photos and {status.documents:,} documents indexed "
            f"({status.errors:,} files could not be read); model {status.model} on "
            f"{runtime.device}; index {status.index_state}",
            *(f"folder {display_path(f.path)}" for f in status.folders),
        ]
        if status.watcher_pid:
            lines.append(f"a watcher keeps it up to date (pid {status.watcher_pid})")
        return Answer(_displayable(structured), "\n".join(lines))


def result_json(result: SearchResult) -> dict[str, Any]:
    return {
        "path": display_path(result.path),
        "kind": result.kind.value,
        "score": round(float(result.score), 6),
        "relevance": result.relevance,
        "match": result.match,
        "snippet": result.snippet,
        "page": result.page,
    }


def _answer(what: str, results: list[SearchResult], note: str = "") -> Answer:
    lines = [f"{len(results)} results {what}" + (f" ({note})" if note else "")]
    for rank, r in enumerate(results, 1):
        page = f", page {r.page}" if r.page else ""
        lines.append(
            f"{rank}. {display_path(r.path)} ({r.kind.value}{page}; {r.match or 'match'}, "
            f"relevance {r.relevance if r.relevance is not None else '-'})"
        )
        if r.snippet:
            snippet = " ".join(r.snippet.split())
            cut = snippet[:SNIPPET_CHARS] + ("..." if len(snippet) > SNIPPET_CHARS else "")
            lines.append(f"   \u201c{cut}\u201d")
    structured: dict[str, Any] = {"results": [result_json(r) for r in results], "note": note}
    return Answer(structured, "\n".join(lines))


def _kind(kind: str) -> SearchKind:
    try:
        return SearchKind(kind.strip().lower())
    except ValueError:
        raise ToolInputError(f"kind {kind!r}: use 'photos', 'docs' or 'all'") from None


def _k(k: int) -> int:
    if not 1 <= k <= MAX_K:
        raise ToolInputError(f"k {k}: ask for 1 to {MAX_K} results")
    return k


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ToolInputError(f"date {text!r}: use YYYY-MM-DD") from None


def _file(path: str) -> Path:
    file = Path(path).expanduser()
    if not file.is_absolute():
        raise ToolInputError(f"{path}: give an absolute path")
    if not file.is_file():
        raise ToolInputError(f"{path}: no such file")
    return file.resolve()


def _displayable(value: Any) -> Any:
    """Paths that are not valid UTF-8 shown with U+FFFD, so the JSON can be sent."""
    if isinstance(value, str):
        return display_path(value)
    if isinstance(value, dict):
        return {key: _displayable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_displayable(item) for item in value]
    return value
