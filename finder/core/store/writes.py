"""Writes to the catalog, made inside one transaction (Catalog.transaction)."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Sequence

import numpy as np

from finder.core.store.path_text import stored_path
from finder.core.store.rows import NewItem, to_blob
from finder.core.types import FileKind, FileStatus


class Tx:
    """The connection inside a transaction, with the few calls writers need."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, args: Sequence[object] = ()) -> sqlite3.Cursor:
        return self._db.execute(sql, args)

    def executescript_in_tx(self, script: str) -> None:
        # sqlite3.executescript would COMMIT first: run statement by statement instead.
        # (Migration scripts keep ';' out of their comments and strings.)
        lines = [ln for ln in script.splitlines() if not ln.strip().startswith("--")]
        statement = ""
        for part in "\n".join(lines).split(";"):
            statement += part + ";"
            # A trigger's body has its own ';': go on until the statement is complete.
            if sqlite3.complete_statement(statement):
                if statement.strip(" \n;"):
                    self._db.execute(statement)
                statement = ""

    def upsert_file(
        self,
        *,
        root_id: int,
        path: str,
        size: int,
        mtime_ns: int,
        content_hash: str | None,
        kind: FileKind,
        status: FileStatus,
        error: str | None,
    ) -> tuple[int, list[int]]:
        """Insert or replace a file row, dropping its old items: (file_id, old item ids)."""
        path = stored_path(path)
        row = self._db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
        now = time.time()
        if row is None:
            cur = self._db.execute(
                "INSERT INTO files(root_id, path, size, mtime_ns, content_hash, kind, status, "
                "error, indexed_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (root_id, path, size, mtime_ns, content_hash, kind.value, status.value, error, now),
            )
            return int(cur.lastrowid or 0), []
        file_id = int(row[0])
        old = [
            int(r[0])
            for r in self._db.execute("SELECT id FROM items WHERE file_id = ?", (file_id,))
        ]
        self._db.execute("DELETE FROM items WHERE file_id = ?", (file_id,))
        self._db.execute("DELETE FROM embedded WHERE file_id = ?", (file_id,))
        self._db.execute(
            "UPDATE files SET root_id=?, size=?, mtime_ns=?, content_hash=?, kind=?, status=?, "
            "error=?, indexed_at=?, ocr_state=NULL WHERE id=?",
            (root_id, size, mtime_ns, content_hash, kind.value, status.value, error, now, file_id),
        )
        return file_id, old

    def add_items(self, file_id: int, model_id: int | None, items: Sequence[NewItem]) -> list[int]:
        """A file's items with the model's vectors; `model_id` None: without vectors (the
        model is missing; a later run adds them with add_vectors)."""
        ids: list[int] = []
        for item in items:
            cur = self._db.execute(
                "INSERT INTO items(file_id, modality, page, chunk, text) VALUES (?,?,?,?,?)",
                (file_id, item.modality.value, item.page, item.chunk, item.text),
            )
            item_id = int(cur.lastrowid or 0)
            if model_id is not None:
                if item.vector is None:
                    raise ValueError(f"item {item_id} of file {file_id} has no vector")
                self._db.execute(
                    "INSERT INTO vectors(item_id, model_id, vector) VALUES (?,?,?)",
                    (item_id, model_id, to_blob(item.vector)),
                )
            ids.append(item_id)
        if model_id is not None:
            self._db.execute(
                "INSERT OR IGNORE INTO embedded(file_id, model_id) VALUES (?, ?)",
                (file_id, model_id),
            )
        return ids

    def add_vectors(
        self, file_id: int, model_id: int, item_ids: Sequence[int], vectors: Sequence[np.ndarray]
    ) -> bool:
        """Another model's vectors for a file's existing items, and mark it embedded.

        False (nothing written) when the file's items are no longer exactly these (it
        changed meanwhile): the next run sees it again.
        """
        current = {
            int(r[0])
            for r in self._db.execute("SELECT id FROM items WHERE file_id = ?", (file_id,))
        }
        if current != set(item_ids):
            return False
        for item_id, vector in zip(item_ids, vectors, strict=True):
            self._db.execute(
                "INSERT OR REPLACE INTO vectors(item_id, model_id, vector) VALUES (?,?,?)",
                (item_id, model_id, to_blob(vector)),
            )
        self._db.execute(
            "INSERT OR IGNORE INTO embedded(file_id, model_id) VALUES (?, ?)", (file_id, model_id)
        )
        return True

    def set_ocr(self, file_id: int, state: str, texts: dict[int, str]) -> None:
        """Record the OCR pass's outcome for a file: its state ("text", "none") and the
        text read from each image item (kept in the item's text, so keyword-searchable),
        after the words a photo's author gave it (file_meta.add_words)."""
        for item_id, text in texts.items():
            self._db.execute(
                "UPDATE items SET text = CASE WHEN text IS NULL OR text = '' THEN ? "
                "ELSE text || char(10) || ? END WHERE id = ? AND file_id = ?",
                (text, text, item_id, file_id),
            )
        self._db.execute("UPDATE files SET ocr_state = ? WHERE id = ?", (state, file_id))

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        """Same content, new timestamp: keep the items, remember the new stat."""
        self._db.execute(
            "UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, file_id)
        )

    def move_file(
        self, file_id: int, root_id: int, new_path: str, size: int, mtime_ns: int
    ) -> None:
        self._db.execute(
            "UPDATE files SET root_id = ?, path = ?, size = ?, mtime_ns = ? WHERE id = ?",
            (root_id, stored_path(new_path), size, mtime_ns, file_id),
        )

    def move_path(self, src: str, dst: str, root_id: int) -> tuple[int, list[int]]:
        """Re-key a moved file, or every file below a moved folder, keeping their items.

        Rows already at `dst` are stale (a rename replaced them) and are dropped.
        Returns (files moved, item ids dropped with the stale rows).
        """
        src, dst = stored_path(src), stored_path(dst)
        low, high = prefix_range(src)
        if (
            self._db.execute(
                "SELECT 1 FROM files WHERE path = ? OR (path >= ? AND path < ?) LIMIT 1",
                (src, low, high),
            ).fetchone()
            is None
        ):
            return 0, []  # nothing of ours was there (or it moved already)
        low, high = prefix_range(dst)
        stale = [
            int(r[0])
            for r in self._db.execute(
                "SELECT id FROM files WHERE path = ? OR (path >= ? AND path < ?)", (dst, low, high)
            )
        ]
        removed = self.delete_files(stale) if stale else []
        low, high = prefix_range(src)
        cur = self._db.execute(
            "UPDATE files SET path = ? || substr(path, ?), root_id = ? "
            "WHERE path = ? OR (path >= ? AND path < ?)",
            (dst, len(src) + 1, root_id, src, low, high),
        )
        return int(cur.rowcount), removed

    def delete_files(self, file_ids: Iterable[int]) -> list[int]:
        """Delete files with their items; returns the removed item ids."""
        removed: list[int] = []
        for file_id in file_ids:
            removed += [
                int(r[0])
                for r in self._db.execute("SELECT id FROM items WHERE file_id = ?", (file_id,))
            ]
            self._db.execute("DELETE FROM files WHERE id = ?", (file_id,))
        return removed


def prefix_range(folder: str) -> tuple[str, str]:
    """Bounds such that low <= path < high exactly for the paths below `folder`."""
    base = folder.rstrip(os.sep) + os.sep
    return base, base[:-1] + chr(ord(os.sep) + 1)
