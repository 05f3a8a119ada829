"""SQLite catalog: the source of truth for roots, files, items and their vectors.

The hnswlib index is only a cache of the `vectors` table and can always be rebuilt
from it. Every write happens in a transaction (Database.transaction, writes.Tx), so a
killed process loses at most the batch it was writing. The schema and its migrations
live in schema.py, the text (keyword and OCR) queries in keywords.py, the row types in
rows.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from finder.core.store.errors import CatalogError
from finder.core.store.exclusions import ExclusionQueries
from finder.core.store.keywords import KeywordQueries
from finder.core.store.path_text import real_path, stored_path
from finder.core.store.place_names import PlaceNameQueries
from finder.core.store.rows import (
    FILE_SELECT,
    ITEM_COLUMNS,
    FileRecord,
    ItemRow,
    Root,
    file_record,
    item_row,
)
from finder.core.store.writes import prefix_range
from finder.core.types import FileKind, FileStatus, Modality


class Catalog(KeywordQueries, ExclusionQueries, PlaceNameQueries):
    """One SQLite database in the data dir: roots, files, items, models and vectors."""

    # -- roots --------------------------------------------------------------

    def add_root(self, path: str) -> Root:
        """Watch a folder. A folder inside a watched one is already covered; a folder that
        contains watched ones absorbs them, keeping their files (and vectors)."""
        for root in self.roots():
            if _is_within(path, root.path):
                return root
        with self.transaction() as tx:
            cur = tx.execute(
                "INSERT INTO roots(path, added_at) VALUES (?, ?)", (stored_path(path), time.time())
            )
            new_id = int(cur.lastrowid or 0)
            for root in self.roots():
                if root.id != new_id and _is_within(root.path, path):
                    tx.execute("UPDATE files SET root_id = ? WHERE root_id = ?", (new_id, root.id))
                    tx.execute("DELETE FROM roots WHERE id = ?", (root.id,))
        return Root(new_id, path)

    def root_of(self, path: str) -> Root | None:
        for root in self.roots():
            if _is_within(path, root.path):
                return root
        return None

    def roots(self) -> list[Root]:
        rows = self._db.execute(
            "SELECT id, path, offline_since IS NOT NULL FROM roots ORDER BY path"
        ).fetchall()
        return [Root(int(r[0]), real_path(r[1]), bool(r[2])) for r in rows]

    def set_root_offline(self, root_id: int, offline: bool) -> list[int]:
        """Hide (or show again) a root's files; returns the ids of the items concerned."""
        with self.transaction() as tx:
            tx.execute(
                "UPDATE roots SET offline_since = ? WHERE id = ?",
                (time.time() if offline else None, root_id),
            )
            rows = tx.execute(
                "SELECT items.id FROM items JOIN files ON files.id = items.file_id "
                "WHERE files.root_id = ?",
                (root_id,),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def remove_root(self, root_id: int) -> list[int]:
        """Forget a root and everything indexed under it; returns the removed item ids."""
        with self.transaction() as tx:
            ids = [
                int(r[0])
                for r in tx.execute(
                    "SELECT items.id FROM items JOIN files ON files.id = items.file_id "
                    "WHERE files.root_id = ?",
                    (root_id,),
                )
            ]
            tx.execute("DELETE FROM roots WHERE id = ?", (root_id,))
        return ids

    # -- models -------------------------------------------------------------

    def model_id(self, key: str, dim: int) -> int:
        """The id of an embedding model, registering it on first use."""
        row = self._db.execute("SELECT id, dim FROM models WHERE key = ?", (key,)).fetchone()
        if row is not None:
            if int(row[1]) != dim:
                raise CatalogError(f"model {key} was stored with dimension {row[1]}, now {dim}")
            return int(row[0])
        with self.transaction() as tx:
            cur = tx.execute("INSERT INTO models(key, dim) VALUES (?, ?)", (key, dim))
            return int(cur.lastrowid or 0)

    def model_dim(self, key: str) -> int | None:
        row = self._db.execute("SELECT dim FROM models WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def find_model_id(self, key: str) -> int | None:
        row = self._db.execute("SELECT id FROM models WHERE key = ?", (key,)).fetchone()
        return None if row is None else int(row[0])

    def model_keys(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT key FROM models ORDER BY id")]

    def stored_models(self) -> list[tuple[str, int, int]]:
        """Every model with vectors in the catalog: (key, dim, vector count)."""
        rows = self._db.execute(
            "SELECT m.key, m.dim, (SELECT COUNT(*) FROM vectors v WHERE v.model_id = m.id) "
            "FROM models m ORDER BY m.id"
        ).fetchall()
        return [(str(r[0]), int(r[1]), int(r[2])) for r in rows]

    def model_progress(self, key: str) -> tuple[int, int]:
        """(files embedded with the model, files it should have): readable files of online
        folders. A model is complete when the two are equal."""
        base = (
            "FROM files f JOIN roots r ON r.id = f.root_id "
            "WHERE f.status = 'ok' AND r.offline_since IS NULL"
        )
        total = int(self._db.execute("SELECT COUNT(*) " + base).fetchone()[0])
        model_id = self.find_model_id(key)
        if model_id is None:
            return 0, total
        done = int(
            self._db.execute(
                "SELECT COUNT(*) " + base + " AND f.id IN (SELECT file_id FROM embedded "
                "WHERE model_id = ?)",
                (model_id,),
            ).fetchone()[0]
        )
        return done, total

    def delete_model(self, key: str) -> int:
        """Forget a model: its vectors and what it embedded (items stay). Returns the
        number of vectors removed."""
        model_id = self.find_model_id(key)
        if model_id is None:
            return 0
        with self.transaction() as tx:
            count = int(
                tx.execute(
                    "SELECT COUNT(*) FROM vectors WHERE model_id = ?", (model_id,)
                ).fetchone()[0]
            )
            tx.execute("DELETE FROM vectors WHERE model_id = ?", (model_id,))
            tx.execute("DELETE FROM embedded WHERE model_id = ?", (model_id,))
            tx.execute("DELETE FROM models WHERE id = ?", (model_id,))
        return count

    def embedded_by_any(self) -> set[int]:
        """Files embedded with at least one model: their items can take another model's
        vectors without being extracted again."""
        return {int(r[0]) for r in self._db.execute("SELECT DISTINCT file_id FROM embedded")}

    def stored_without_vectors(self) -> set[int]:
        """Files whose items were stored while the model was missing (an item with no
        model's vector): like embedded_by_any's, they take a model's vectors without being
        extracted again."""
        rows = self._db.execute(
            "SELECT DISTINCT i.file_id FROM items i WHERE NOT EXISTS "
            "(SELECT 1 FROM vectors v WHERE v.item_id = i.id)"
        )
        return {int(r[0]) for r in rows}

    def file_items(self, file_id: int) -> list[tuple[int, Modality, int | None, str | None]]:
        """A file's items in the order the indexer makes them: (id, modality, page, text);
        passages (by chunk) before page pictures (by page)."""
        rows = self._db.execute(
            "SELECT id, modality, page, text FROM items WHERE file_id = ? "
            "ORDER BY modality = 'image', chunk, page, id",
            (file_id,),
        ).fetchall()
        return [(int(r[0]), Modality(r[1]), r[2], r[3]) for r in rows]

    # -- files --------------------------------------------------------------

    def files_under(self, root_id: int) -> dict[str, FileRecord]:
        rows = self._db.execute(FILE_SELECT + " WHERE root_id = ?", (root_id,)).fetchall()
        return {record.path: record for record in map(file_record, rows)}

    def files_within(self, root_id: int, folder: str) -> dict[str, FileRecord]:
        """The files of a root at `folder` or below it (a file path names just that file)."""
        folder = stored_path(folder)
        low, high = prefix_range(folder)
        rows = self._db.execute(
            FILE_SELECT + " WHERE root_id = ? AND (path = ? OR (path >= ? AND path < ?))",
            (root_id, folder, low, high),
        ).fetchall()
        return {record.path: record for record in map(file_record, rows)}

    def has_files(self, root_id: int) -> bool:
        row = self._db.execute("SELECT 1 FROM files WHERE root_id = ? LIMIT 1", (root_id,))
        return row.fetchone() is not None

    def file_by_path(self, path: str) -> FileRecord | None:
        row = self._db.execute(FILE_SELECT + " WHERE path = ?", (stored_path(path),)).fetchone()
        return None if row is None else file_record(row)

    def embedded_file_ids(self, model_id: int) -> set[int]:
        rows = self._db.execute("SELECT file_id FROM embedded WHERE model_id = ?", (model_id,))
        return {int(r[0]) for r in rows}

    def item_ids_of_files(self, file_ids: Iterable[int]) -> list[int]:
        ids = list(file_ids)
        out: list[int] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            out += [
                int(r[0])
                for r in self._db.execute(f"SELECT id FROM items WHERE file_id IN ({marks})", chunk)
            ]
        return out

    def is_empty(self) -> bool:
        """Nothing was ever kept here: no folder, no file, no model."""
        return not self._db.execute(
            "SELECT EXISTS (SELECT 1 FROM roots) OR EXISTS (SELECT 1 FROM files) "
            "OR EXISTS (SELECT 1 FROM models)"
        ).fetchone()[0]

    def items_issued(self) -> int:
        """The largest item id ever given out (ids are never reused; see the schema)."""
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'items'").fetchone()
        return 0 if row is None else int(row[0])

    def counts(self) -> dict[str, int]:
        q = self._db.execute
        return {
            "roots": int(q("SELECT COUNT(*) FROM roots").fetchone()[0]),
            "photos": int(
                q("SELECT COUNT(*) FROM files WHERE kind = 'photo' AND status = 'ok'").fetchone()[0]
            ),
            "documents": int(
                q(
                    "SELECT COUNT(*) FROM files WHERE kind = 'document' AND status = 'ok'"
                ).fetchone()[0]
            ),
            "errors": int(q("SELECT COUNT(*) FROM files WHERE status = 'error'").fetchone()[0]),
            "items": int(q("SELECT COUNT(*) FROM items").fetchone()[0]),
        }

    def root_counts(self, root_id: int) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT kind, status, COUNT(*) FROM files WHERE root_id = ? GROUP BY kind, status",
            (root_id,),
        ).fetchall()
        out = {"photos": 0, "documents": 0, "errors": 0}
        for kind, status, n in rows:
            if status == FileStatus.ERROR.value:
                out["errors"] += int(n)
            else:
                out["photos" if kind == FileKind.PHOTO.value else "documents"] += int(n)
        return out

    def errors(self, limit: int = 50) -> list[tuple[str, str]]:
        rows = self._db.execute(
            "SELECT path, error FROM files WHERE status = 'error' ORDER BY path LIMIT ?", (limit,)
        )
        return [(real_path(r[0]), r[1] or "") for r in rows]

    def recent_files(self, kind: FileKind, limit: int) -> list[str]:
        """The newest readable files of a kind (by modification time) in folders that
        are online: what the app's overview shows before any search."""
        rows = self._db.execute(
            "SELECT f.path FROM files f JOIN roots r ON r.id = f.root_id "
            "WHERE f.kind = ? AND f.status = 'ok' AND r.offline_since IS NULL "
            "ORDER BY f.mtime_ns DESC LIMIT ?",
            (kind.value, limit),
        )
        return [real_path(r[0]) for r in rows]

    # -- items and vectors ----------------------------------------------------

    def vectors(
        self, model_id: int, modality: Modality | None = None, batch: int = 20_000
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All (ids, vectors) of one model in batches; used to (re)build the vector index."""
        sql = "SELECT v.item_id, v.vector FROM vectors v" + _ONLINE_JOIN + " WHERE v.model_id = ?"
        args: list[object] = [model_id]
        if modality is not None:
            sql += " AND i.modality = ?"
            args.append(modality.value)
        cur = self._db.execute(sql + " ORDER BY v.item_id", args)
        while rows := cur.fetchmany(batch):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vecs = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
            yield ids, vecs

    def vector_ids(self, model_id: int, modality: Modality) -> np.ndarray:
        """The items the vector index should hold: those of online folders."""
        rows = self._db.execute(
            "SELECT v.item_id FROM vectors v"
            + _ONLINE_JOIN
            + " WHERE v.model_id = ? AND i.modality = ?",
            (model_id, modality.value),
        ).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def vectors_for(self, model_id: int, item_ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        found_ids: list[int] = []
        vecs: list[np.ndarray] = []
        for start in range(0, len(item_ids), 500):
            chunk = list(item_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for item_id, blob in self._db.execute(
                f"SELECT item_id, vector FROM vectors WHERE model_id = ? AND item_id IN ({marks})",
                [model_id, *chunk],
            ):
                found_ids.append(int(item_id))
                vecs.append(np.frombuffer(blob, dtype=np.float32))
        if not vecs:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return np.asarray(found_ids, dtype=np.int64), np.stack(vecs)

    def items(self, item_ids: Sequence[int]) -> dict[int, ItemRow]:
        out: dict[int, ItemRow] = {}
        for start in range(0, len(item_ids), 500):
            chunk = list(item_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            for r in self._db.execute(
                f"SELECT {ITEM_COLUMNS} "
                "FROM items i JOIN files f ON f.id = i.file_id JOIN roots r ON r.id = f.root_id "
                f"WHERE i.id IN ({marks}) AND f.status = 'ok' AND r.offline_since IS NULL",
                chunk,
            ):
                row = item_row(r)
                out[row.id] = row
        return out


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


# Items of files in folders that are online (offline ones keep their rows, hidden).
_ONLINE_JOIN = (
    " JOIN items i ON i.id = v.item_id JOIN files f ON f.id = i.file_id"
    " JOIN roots r ON r.id = f.root_id AND r.offline_since IS NULL"
)
