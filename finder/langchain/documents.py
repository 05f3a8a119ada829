"""finder's search results as LangChain Documents.

`page_content` is the passage that matched (a document), else the text read in the
picture (OCR), else the file's name; `metadata` holds `path`, `kind` ("photo" |
"document"), `type` ("image" | "text", as in LangChain's multimodal recipes), `page`,
`score`, `relevance` and `match` ("strong" | "weak" | "tail"), and what found it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from finder.core.library import Library
from finder.core.types import FileKind, SearchResult

_PICTURE_SIGNALS = ("image", "page image")


def to_documents(library: Library, results: Sequence[SearchResult]) -> list[Document]:
    pictures = [r for r in results if not r.snippet and r.item_id]
    texts = library.item_texts([r.item_id for r in pictures]) if pictures else {}
    return [_document(r, r.snippet or texts.get(r.item_id) or Path(r.path).name) for r in results]


def _document(result: SearchResult, content: str) -> Document:
    picture = result.kind is FileKind.PHOTO or (
        not result.snippet and bool(result.signals) and result.signals[0] in _PICTURE_SIGNALS
    )
    metadata: dict[str, Any] = {
        "path": result.path,
        "kind": result.kind.value,
        "type": "image" if picture else "text",
        "page": result.page,
        "score": float(result.score),
        "relevance": result.relevance,
        "match": result.match,
        "signals": list(result.signals),
        "matched_terms": list(result.matched_terms),
        "source": result.path,  # the key LangChain's loaders use for where a text came from
    }
    return Document(page_content=content, metadata=metadata)
