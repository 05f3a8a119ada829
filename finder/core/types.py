"""Plain data passed between the core modules, the CLI and the UI."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


def display_path(path: str) -> str:
    """`path` fit to show or print: a name that is not valid UTF-8 (held with surrogate
    escapes, as os.fsdecode gives it) shows its undecodable bytes as U+FFFD. Open files by
    the path itself, never by this."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


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
    copies: tuple[str, ...] = ()  # the other files of its duplicate group (duplicates)
    # What people remember it by (file_meta; None where unknown): ISO 8601 date taken,
    # "exif" / "document" / "file" (the mtime), "Lisbon, Portugal", "Canon EOS R5".
    taken: str | None = None
    taken_source: str | None = None
    place: str | None = None
    camera: str | None = None

    @property
    def relevance_label(self) -> str:
        return self.match or ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "path": display_path(self.path),
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
        if self.copies:
            out["copies"] = [display_path(p) for p in self.copies]
        for name in ("taken", "taken_source", "place", "camera"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out


@dataclass(frozen=True)
class DuplicateFile:
    """One file of a duplicate group, with what choosing the one to keep looks at."""

    path: str
    size: int  # bytes
    width: int | None
    height: int | None
    taken: str | None  # ISO 8601 date taken, else the file's modification time
    file_format: str  # upper-case suffix: JPEG, PNG, HEIC, CR2...
    keep: bool = False  # the copy finder suggests keeping

    def to_json(self) -> dict[str, object]:
        return {
            "path": display_path(self.path),
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "taken": self.taken,
            "format": self.file_format,
            "keep": self.keep,
        }


@dataclass(frozen=True)
class DuplicateGroup:
    """Files that are the same shot: the same bytes, or copies (resized, recompressed,
    edited, a burst). The suggested keeper comes first."""

    files: tuple[DuplicateFile, ...]
    exact: bool  # every file has the same bytes

    @property
    def keeper(self) -> DuplicateFile:
        return self.files[0]

    @property
    def reclaimable(self) -> int:
        """Bytes the copies other than the keeper take."""
        return sum(f.size for f in self.files[1:])

    def to_json(self) -> dict[str, object]:
        return {
            "keep": display_path(self.keeper.path),
            "exact": self.exact,
            "reclaimable_bytes": self.reclaimable,
            "files": [f.to_json() for f in self.files],
        }


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
    # Why the model could not be used: names, passages and text were stored without its
    # vectors (meaning search waits for the model; a later run adds only the vectors).
    model_missing: str = ""


# -- what the service (finder.core.library) answers ----------------------------------------


@dataclass
class FolderStatus:
    path: str
    present: bool
    photos: int
    documents: int
    errors: int
    offline: bool = False  # not found when last looked at: its files are kept, hidden
    watch: str = ""  # how a running watcher follows it: "native", "polling", "offline"
    watch_reason: str = ""  # why it is polled (inotify limit, network file system)


@dataclass
class LibraryStatus:
    data_dir: str
    model: str
    model_key: str
    schema_version: int
    folders: list[FolderStatus] = field(default_factory=list)
    photos: int = 0
    documents: int = 0
    errors: int = 0
    items: int = 0
    vectors: dict[str, int] = field(default_factory=dict)
    index_state: str = ""
    recent_errors: list[tuple[str, str]] = field(default_factory=list)
    watcher_pid: int | None = None  # the process watching the folders, if one is
    switching_to: str | None = None  # the model being switched to (models.json), if any
    switching_key: str | None = None
    switch_embedded: int = 0  # files with the new model's vectors so far
    switch_total: int = 0  # files it needs


@dataclass(frozen=True)
class StoredModel:
    """A model with vectors in this data dir, and what it takes on disk."""

    key: str
    dim: int
    vectors: int
    files_embedded: int
    files_total: int
    index_bytes: int  # its hnswlib index directory and its ONNX export, if any
    vector_bytes: int  # its vectors inside the catalog (float32, without SQLite overhead)

    @property
    def complete(self) -> bool:
        return self.files_embedded >= self.files_total

    @property
    def bytes(self) -> int:
        return self.index_bytes + self.vector_bytes


@dataclass(frozen=True)
class ChosenModels:
    """Which models a data dir uses: the one answering searches, and a switch's target."""

    serving: str  # the key of the model this library searches with
    active: str | None  # the data dir's active model (models.json); None: never recorded
    target: str | None  # being switched to; None when no switch is running


@dataclass(frozen=True)
class SwitchChoice:
    """What choosing a model did."""

    label: str  # the chosen model
    current: str  # the model that answered searches when it was chosen
    immediate: bool  # it answers searches now (its index was complete, or it was current)
    embedded: int = 0  # files with its vectors
    total: int = 0  # files it needs


class SwitchOutcome(enum.StrEnum):
    TAKEN_OVER = "taken over"  # the target is complete and answers searches now
    NOT_COMPLETE = "not complete"  # one run ended with files still missing (index, use)
    CANCELLED = "cancelled"  # stopped by the caller during a run; resumable
    STOPPED = "stopped"  # stopped by the caller between runs, nothing in flight; resumable
    ABANDONED = "abandoned"  # the switch was cancelled, or another chosen, meanwhile
    ON_HOLD = "on hold"  # the target could not be loaded (`reason`)


@dataclass(frozen=True)
class SwitchRun:
    """What running a switch did."""

    label: str
    key: str
    outcome: SwitchOutcome
    reembedded: int = 0  # files given the target's vectors, over every run
    elapsed_s: float = 0.0
    embedded: int = 0  # files with its vectors afterwards
    total: int = 0  # files it needs
    reason: str = ""  # ON_HOLD: why

    @property
    def taken_over(self) -> bool:
        return self.outcome is SwitchOutcome.TAKEN_OVER

    @property
    def cancelled(self) -> bool:
        return self.outcome in (SwitchOutcome.CANCELLED, SwitchOutcome.STOPPED)


@dataclass(frozen=True)
class RuntimeInfo:
    """How a model runs here."""

    precision: str  # "fp32" or "bf16"
    runtime: str  # "torch" or "onnxruntime"
    detail: str  # a line for people: "bf16 (torch; the CPU has native bf16)"
    device: str = "the CPU"  # where it runs: "the NVIDIA GPU (CUDA)", "the Apple GPU (mps)"
    device_fallback: str = ""  # why it left the GPU for the CPU ("" when it did not)
