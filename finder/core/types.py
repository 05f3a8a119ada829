"""Plain data passed between the core modules, the CLI and the UI."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class FileKind(enum.StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


class Modality(enum.StrEnum):
    """What a vector was computed from: the image tower or the text tower."""

    IMAGE = "image"
    TEXT = "text"


class SearchKind(enum.StrEnum):
    """Which results a search returns."""

    PHOTOS = "photos"
    DOCS = "docs"
    ALL = "all"


class FileStatus(enum.StrEnum):
    OK = "ok"
    ERROR = "error"


@dataclass(frozen=True)
class Passage:
    """A piece of a document small enough for CLIP's text context."""

    text: str
    page: int | None = None  # 1-based page for paged documents


@dataclass(frozen=True)
class SearchResult:
    path: str
    kind: FileKind
    score: float  # similarity of the best matching item (keyword only: share of words found)
    snippet: str | None = None  # best passage (documents)
    page: int | None = None
    file_id: int = 0
    item_id: int = 0
    matched_terms: tuple[str, ...] = ()  # the query's words found by keyword search
    signals: tuple[str, ...] = ()  # what found it, strongest first: "keyword", "passage" ...
    # Calibrated per query and model (finder.core.search.relevance): 0..1 against the score
    # distribution of its candidates, and "strong" / "weak" / "tail" (clearly irrelevant).
    relevance: float | None = None
    match: str = ""

    @property
    def relevance_label(self) -> str:
        return self.match or ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "path": self.path,
            "kind": self.kind.value,
            "score": round(float(self.score), 6),
        }
        if self.relevance is not None:
            out["relevance"] = self.relevance
        if self.match:
            out["match"] = self.match
        if self.kind is FileKind.DOCUMENT:
            out["snippet"] = self.snippet
            out["page"] = self.page
            out["matched_terms"] = list(self.matched_terms)
            out["signals"] = list(self.signals)
        return out


@dataclass(frozen=True)
class FileError:
    path: str
    reason: str


@dataclass
class IndexProgress:
    """Reported by the indexer as it goes; `done` counts files finished (ok or failed)."""

    phase: str  # "scanning", "embedding", "saving", "done"
    total: int = 0
    done: int = 0
    failed: int = 0
    current: str | None = None
    elapsed_s: float = 0.0

    @property
    def rate(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class IndexReport:
    """What one indexing run did."""

    scanned: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    removed: int = 0
    items_embedded: int = 0
    reembedded: int = 0  # unchanged files given this model's vectors (another model had them)
    errors: list[FileError] = field(default_factory=list)
    offline: list[str] = field(default_factory=list)  # watched folders not found: kept, hidden
    back_online: list[str] = field(default_factory=list)  # offline folders found again
    cancelled: bool = False
    elapsed_s: float = 0.0
