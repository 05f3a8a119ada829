"""The catalog's rows as plain values, and the one place each is built from SQL columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from finder.core.store.path_text import real_path
from finder.core.types import FileKind, FileStatus, Modality, Passage


@dataclass(frozen=True)
class FileRecord:
    id: int
    root_id: int
    path: str
    size: int
    mtime_ns: int
    content_hash: str | None
    kind: FileKind
    status: FileStatus
    error: str | None


@dataclass(frozen=True)
class Root:
    id: int
    path: str
    offline: bool = False  # the folder is gone for now; its files are kept, hidden


@dataclass(frozen=True)
class ItemRow:
    id: int
    file_id: int
    path: str
    kind: FileKind
    modality: Modality
    page: int | None
    text: str | None


@dataclass(frozen=True)
class NewItem:
    """An item to store with its vector: an image, or one passage of a document. Without
    a vector (None) while the model is missing: its name and text are searchable, and a
    later run adds the model's vectors."""

    modality: Modality
    vector: np.ndarray | None
    page: int | None = None
    chunk: int = 0
    text: str | None = None


# The columns item_row reads, in its order; `i` is items, `f` files. A query may add
# columns after these.
ITEM_COLUMNS = "i.id, i.file_id, f.path, f.kind, i.modality, i.page, i.text"

FILE_SELECT = (
    "SELECT id, root_id, path, size, mtime_ns, content_hash, kind, status, error FROM files"
)


def item_row(r: Sequence[Any]) -> ItemRow:
    """An ItemRow from a row that starts with ITEM_COLUMNS."""
    return ItemRow(
        id=int(r[0]),
        file_id=int(r[1]),
        path=real_path(str(r[2])),
        kind=FileKind(r[3]),
        modality=Modality(r[4]),
        page=None if r[5] is None else int(r[5]),
        text=None if r[6] is None else str(r[6]),
    )


def file_record(r: Sequence[Any]) -> FileRecord:
    """A FileRecord from a row of FILE_SELECT."""
    return FileRecord(
        id=int(r[0]),
        root_id=int(r[1]),
        path=real_path(str(r[2])),
        size=int(r[3]),
        mtime_ns=int(r[4]),
        content_hash=None if r[5] is None else str(r[5]),
        kind=FileKind(r[6]),
        status=FileStatus(r[7]),
        error=None if r[8] is None else str(r[8]),
    )


def to_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


def passages_to_items(
    passages: Sequence[Passage], vectors: np.ndarray | None, *, unique: bool = True
) -> list[NewItem]:
    """A document's passages as items, in order (`chunk` is the passage's place).

    `unique`: a passage equal to an earlier one of the same document (a header, a footer,
    boilerplate repeated thousands of times) is stored once, at its first page and place.
    Copies would add nothing to a search but crowd other files out of it. `unique=False`
    keeps every passage: for new vectors of items already stored, one per item.
    `vectors` None: the items are stored without (the model is missing).
    """
    seen: set[str] = set()
    items = []
    for i, passage in enumerate(passages):
        if unique:
            if passage.text in seen:
                continue
            seen.add(passage.text)
        items.append(
            NewItem(
                Modality.TEXT,
                None if vectors is None else vectors[i],
                page=passage.page,
                chunk=i,
                text=passage.text,
            )
        )
    return items
