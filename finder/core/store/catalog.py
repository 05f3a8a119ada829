"""SQLite catalog: the source of truth for roots, files, items and their vectors.

The hnswlib index is only a cache of the `vectors` table and can always be rebuilt
from it. Every write happens in a transaction, so a killed process loses at most the
batch it was writing.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from finder.core.types import FileKind, FileStatus, Modality, Passage

SCHEMA_VERSION = 4

# Each entry upgrades the schema from version i to i+1. Append, never edit.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE roots (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        added_at REAL NOT NULL
    );
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_hash TEXT,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        indexed_at REAL NOT NULL
    );
    CREATE INDEX files_root ON files(root_id);
    CREATE INDEX files_hash ON files(content_hash);
    -- AUTOINCREMENT: an item id is never reused, since it is the vector index's label.
    CREATE TABLE items (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        modality TEXT NOT NULL,
        page INTEGER,
        chunk INTEGER NOT NULL DEFAULT 0,
        text TEXT
    );
    CREATE INDEX items_file ON items(file_id);
    -- One embedding model's vectors for the items: several models can coexist.
    CREATE TABLE models (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        dim INTEGER NOT NULL
    );
    CREATE TABLE vectors (
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        vector BLOB NOT NULL,
        PRIMARY KEY (item_id, model_id)
    ) WITHOUT ROWID;
    CREATE INDEX vectors_model ON vectors(model_id);
    -- Files whose every item has a vector for the model (files with zero items too).
    CREATE TABLE embedded (
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        PRIMARY KEY (file_id, model_id)
    ) WITHOUT ROWID;
    """,
    # 2: a watched folder that is gone (unmounted drive, share down) is offline: its
    # files and vectors are kept but hidden from searches until it comes back.
    """
    ALTER TABLE roots ADD COLUMN offline_since REAL;
    """,
    # 3: keyword search. One FTS5 row per item (rowid = item id): the file's name and
    # folder (relative to its root) and the item's text (a passage, or the OCR text of a
    # photo or page image). Triggers keep it in step with items and files in the same
    # transactions. files.ocr_state: NULL until the OCR pass has looked at the file.
    """
    CREATE VIRTUAL TABLE fts USING fts5(name, folder, body,
        tokenize = 'unicode61 remove_diacritics 2');
    CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
        INSERT INTO fts(rowid, name, folder, body)
        SELECT new.id, {name}, {folder}, new.text FROM files f WHERE f.id = new.file_id;
    END;
    CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
        DELETE FROM fts WHERE rowid = old.id;
    END;
    CREATE TRIGGER items_fts_text AFTER UPDATE OF text ON items BEGIN
        UPDATE fts SET body = new.text WHERE rowid = new.id;
    END;
    CREATE TRIGGER files_fts_path AFTER UPDATE OF path, root_id ON files BEGIN
        UPDATE fts SET (name, folder) = (SELECT {name}, {folder} FROM files f
                                         WHERE f.id = new.id)
        WHERE rowid IN (SELECT id FROM items WHERE file_id = new.id);
    END;
    INSERT INTO fts(rowid, name, folder, body)
        SELECT i.id, {name}, {folder}, i.text FROM items i JOIN files f ON f.id = i.file_id;
    ALTER TABLE files ADD COLUMN ocr_state TEXT;
    """.format(
        # The path below its root, then its last part (name) and what precedes it:
        # rtrim(p, <every character of p but '/'>) keeps p up to its last '/'.
        name="substr({rel}, length(rtrim({rel}, replace({rel}, '/', ''))) + 1)",
        folder="rtrim({rel}, replace({rel}, '/', ''))",
    ).format(rel="substr(f.path, length((SELECT path FROM roots WHERE id = f.root_id)) + 2)"),
    # 4: PDFs indexed before their pages were embedded as pictures have none: forget that
    # they are embedded, so the next run embeds them again, pages included.
    """
    DELETE FROM embedded WHERE file_id IN (
        SELECT id FROM files WHERE kind = 'document' AND status = 'ok'
        AND lower(path) LIKE '%.pdf'
        AND id NOT IN (SELECT file_id FROM items WHERE modality = 'image'));
    """,
]


# Matches read by an unranked keyword pass at most (see keyword_hits).
UNRANKED_SCAN = 4000


class CatalogError(Exception):
    """The catalog cannot be opened or used; the message is shown to the user."""


class SchemaTooNewError(CatalogError):
    pass


class StorageError(CatalogError):
    """The data dir cannot be written (disk full, read-only); what is stored stays usable."""


# SQLite's words for "the data dir cannot take this write".
_STORAGE_FAILURES = (
    "disk is full",
    "readonly database",
    "disk i/o error",
    "unable to open database file",
)


def storage_error(where: Path, exc: BaseException) -> StorageError:
    """A clear message for a failed write, from a sqlite3 or OS error."""
    if isinstance(exc, OSError):
        reason = {
            errno.ENOSPC: "the disk is full",
            errno.EROFS: "the disk is read-only",
            errno.EDQUOT: "the disk quota is used up",
            errno.EACCES: "permission denied",
            errno.EPERM: "permission denied",
        }.get(exc.errno or 0, exc.strerror or str(exc))
    else:
        text = str(exc).lower()
        reason = (
            "the disk is full"
            if "full" in text
            else "the data folder is read-only"
            if "readonly" in text
            else str(exc)
        )
    return StorageError(
        f"cannot write the index in {where}: {reason}; what is already "
        "indexed can still be searched"
    )


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
    """An item to store with its vector: an image, or one passage of a document."""

    modality: Modality
    vector: np.ndarray
    page: int | None = None
    chunk: int = 0
    text: str | None = None


def _to_blob(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=np.float32).tobytes()


class Catalog:
    """One SQLite database in the data dir. Safe to use from one thread at a time."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self._readonly = readonly
        self._lock = threading.RLock()
        # One connection per thread: the app searches on one thread while it indexes on
        # another, and WAL lets readers go on while a writer commits.
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._migrate(readonly)
        except sqlite3.DatabaseError as exc:
            raise CatalogError(f"cannot open the catalog {path}: {exc}") from exc

    @property
    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
        return db

    def _connect(self) -> sqlite3.Connection:
        # Autocommit mode: transactions are explicit (see `transaction`).
        db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30.0
        )
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA busy_timeout = 30000")
        if not self._readonly:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        with self._lock:
            self._connections.append(db)
        return db

    # -- schema -------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self, readonly: bool) -> None:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise SchemaTooNewError(
                f"the catalog {self.path} has schema version {version}, newer than this finder "
                f"understands ({SCHEMA_VERSION}); upgrade finder or use another --data-dir"
            )
        if version < SCHEMA_VERSION and readonly:
            raise CatalogError(f"the catalog {self.path} needs an upgrade; run `finder index` once")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction() as db:
                db.executescript_in_tx(MIGRATIONS[target - 1])
                db.execute(f"PRAGMA user_version = {target}")

    @contextmanager
    def transaction(self) -> Iterator[_Tx]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield _Tx(self._db)
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if any(words in str(exc).lower() for words in _STORAGE_FAILURES):
                    raise storage_error(self.path.parent, exc) from exc
                raise

    def data_version(self) -> int:
        """Changes whenever another connection commits (readers use it to notice writers)."""
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
            self._local = threading.local()

    # -- roots --------------------------------------------------------------

    def add_root(self, path: str) -> Root:
        """Watch a folder. A folder inside a watched one is already covered; a folder that
        contains watched ones absorbs them, keeping their files (and vectors)."""
        for root in self.roots():
            if _is_within(path, root.path):
                return root
        with self.transaction() as tx:
            cur = tx.execute("INSERT INTO roots(path, added_at) VALUES (?, ?)", (path, time.time()))
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
        return [Root(int(r[0]), r[1], bool(r[2])) for r in rows]

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
        rows = self._db.execute(_FILE_SELECT + " WHERE root_id = ?", (root_id,)).fetchall()
        return {r[2]: _file_record(r) for r in rows}

    def files_within(self, root_id: int, folder: str) -> dict[str, FileRecord]:
        """The files of a root at `folder` or below it (a file path names just that file)."""
        low, high = _prefix_range(folder)
        rows = self._db.execute(
            _FILE_SELECT + " WHERE root_id = ? AND (path = ? OR (path >= ? AND path < ?))",
            (root_id, folder, low, high),
        ).fetchall()
        return {r[2]: _file_record(r) for r in rows}

    def has_files(self, root_id: int) -> bool:
        row = self._db.execute("SELECT 1 FROM files WHERE root_id = ? LIMIT 1", (root_id,))
        return row.fetchone() is not None

    def file_by_path(self, path: str) -> FileRecord | None:
        row = self._db.execute(_FILE_SELECT + " WHERE path = ?", (path,)).fetchone()
        return None if row is None else _file_record(row)

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
        return [(r[0], r[1] or "") for r in rows]

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
                "SELECT i.id, i.file_id, f.path, f.kind, i.modality, i.page, i.text "
                "FROM items i JOIN files f ON f.id = i.file_id JOIN roots r ON r.id = f.root_id "
                f"WHERE i.id IN ({marks}) AND f.status = 'ok' AND r.offline_since IS NULL",
                chunk,
            ):
                out[int(r[0])] = ItemRow(
                    int(r[0]), int(r[1]), r[2], FileKind(r[3]), Modality(r[4]), r[5], r[6]
                )
        return out

    def items_matching_words(
        self, words: Sequence[str], kind: FileKind | None, limit: int = 2000
    ) -> list[ItemRow]:
        """Items whose file name or passage contains any of `words` (case-insensitive).

        The model-free fallback search; not ranked here.
        """
        if not words:
            return []
        likes = " OR ".join(["f.path LIKE ? ESCAPE '\\' OR i.text LIKE ? ESCAPE '\\'"] * len(words))
        args: list[object] = []
        for word in words:
            pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            args += [pattern, pattern]
        sql = (
            "SELECT i.id, i.file_id, f.path, f.kind, i.modality, i.page, i.text "
            "FROM items i JOIN files f ON f.id = i.file_id JOIN roots r ON r.id = f.root_id "
            f"WHERE f.status = 'ok' AND r.offline_since IS NULL AND ({likes})"
        )
        if kind is not None:
            sql += " AND f.kind = ?"
            args.append(kind.value)
        rows = self._db.execute(sql + " LIMIT ?", [*args, limit]).fetchall()
        return [
            ItemRow(int(r[0]), int(r[1]), r[2], FileKind(r[3]), Modality(r[4]), r[5], r[6])
            for r in rows
        ]

    # -- keyword index (FTS5) and OCR ---------------------------------------------------

    def keyword_hits(
        self, match: str, kind: FileKind | None, limit: int = 500, *, ranked: bool = True
    ) -> list[tuple[ItemRow, float, str]]:
        """Items matching an FTS5 expression, best (BM25) first: (row, bm25, name+folder).

        BM25 is negative in SQLite (lower is better); name hits weigh twice body hits.
        `ranked=False`: matches in catalog order, BM25 0, from the first
        UNRANKED_SCAN matches only: cheap however many rows match, even when few of
        them are of `kind`.
        """
        if ranked:
            source = "fts"
            where = "fts MATCH ?"
            rank = "bm25(fts, 2.0, 1.0, 1.0)"
            args: list[object] = [match]
        else:
            source = (
                "(SELECT rowid AS id FROM fts WHERE fts MATCH ? LIMIT ?) AS m "
                "JOIN fts ON fts.rowid = m.id"
            )
            where = "1"
            rank = "0.0"
            args = [match, UNRANKED_SCAN]
        sql = (
            f"SELECT i.id, i.file_id, f.path, f.kind, i.modality, i.page, i.text, "
            f"{rank} AS rank, fts.name || ' ' || fts.folder "
            f"FROM {source} JOIN items i ON i.id = fts.rowid "
            "JOIN files f ON f.id = i.file_id JOIN roots r ON r.id = f.root_id "
            f"WHERE {where} AND f.status = 'ok' AND r.offline_since IS NULL"
        )
        if kind is not None:
            sql += " AND f.kind = ?"
            args.append(kind.value)
        order = " ORDER BY rank" if ranked else ""
        rows = self._db.execute(sql + order + " LIMIT ?", [*args, limit]).fetchall()
        return [
            (
                ItemRow(int(r[0]), int(r[1]), r[2], FileKind(r[3]), Modality(r[4]), r[5], r[6]),
                float(r[7]),
                str(r[8] or ""),
            )
            for r in rows
        ]

    def keyword_rows_holding(
        self, words: Iterable[tuple[str, bool]]
    ) -> dict[tuple[str, bool], tuple[int, int]]:
        """How many keyword rows hold each (word, as a prefix): (in any column, in the name
        or folder). Read from FTS5's term index, so it costs a lookup, not a scan."""
        db = self._db
        # A temp table lives with this connection only: nothing is written to the catalog.
        db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_terms USING fts5vocab(main, fts, 'col')"
        )
        out = {}
        for word, prefix in words:
            if prefix:  # every word starting with it: the range [word, word + 1)
                where, args = "term >= ? AND term < ?", [word, word[:-1] + chr(ord(word[-1]) + 1)]
            else:
                where, args = "term = ?", [word]
            rows = db.execute(
                f"SELECT col, sum(doc) FROM temp.fts_terms WHERE {where} GROUP BY col", args
            ).fetchall()
            anywhere = sum(int(n) for _, n in rows)
            names = sum(int(n) for col, n in rows if col in ("name", "folder"))
            out[(word, prefix)] = (anywhere, names)
        return out

    def fts_rows(self) -> dict[int, tuple[str, str, str | None]]:
        """The whole keyword index, item id -> (name, folder, body); for tests and checks."""
        rows = self._db.execute("SELECT rowid, name, folder, body FROM fts").fetchall()
        return {int(r[0]): (r[1], r[2], r[3]) for r in rows}

    def ocr_pending(self, limit: int = 64) -> list[tuple[int, str, FileKind]]:
        """Files of online folders the OCR pass has not looked at yet: (id, path, kind)."""
        rows = self._db.execute(
            "SELECT f.id, f.path, f.kind FROM files f JOIN roots r ON r.id = f.root_id "
            "WHERE f.status = 'ok' AND f.ocr_state IS NULL AND r.offline_since IS NULL "
            "ORDER BY f.id LIMIT ?",
            (limit,),
        ).fetchall()
        return [(int(r[0]), r[1], FileKind(r[2])) for r in rows]

    def ocr_targets(self, file_id: int) -> list[tuple[int, int | None]]:
        """A file's image items that need OCR: (item id, page); pages with a text layer
        are left out."""
        rows = self._db.execute(
            "SELECT id, page FROM items WHERE file_id = ? AND modality = 'image' AND "
            "(page IS NULL OR page NOT IN (SELECT page FROM items WHERE file_id = ? AND "
            "modality = 'text' AND page IS NOT NULL)) ORDER BY page",
            (file_id, file_id),
        )
        return [(int(r[0]), r[1]) for r in rows]

    def ocr_state(self, path: str) -> str | None:
        row = self._db.execute("SELECT ocr_state FROM files WHERE path = ?", (path,)).fetchone()
        return None if row is None else row[0]


class _Tx:
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

    def add_items(self, file_id: int, model_id: int, items: Sequence[NewItem]) -> list[int]:
        ids: list[int] = []
        for item in items:
            cur = self._db.execute(
                "INSERT INTO items(file_id, modality, page, chunk, text) VALUES (?,?,?,?,?)",
                (file_id, item.modality.value, item.page, item.chunk, item.text),
            )
            item_id = int(cur.lastrowid or 0)
            self._db.execute(
                "INSERT INTO vectors(item_id, model_id, vector) VALUES (?,?,?)",
                (item_id, model_id, _to_blob(item.vector)),
            )
            ids.append(item_id)
        self._db.execute(
            "INSERT OR IGNORE INTO embedded(file_id, model_id) VALUES (?, ?)", (file_id, model_id)
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
                (item_id, model_id, _to_blob(vector)),
            )
        self._db.execute(
            "INSERT OR IGNORE INTO embedded(file_id, model_id) VALUES (?, ?)", (file_id, model_id)
        )
        return True

    def set_ocr(self, file_id: int, state: str, texts: dict[int, str]) -> None:
        """Record the OCR pass's outcome for a file: its state ("text", "none") and the
        text read from each image item (kept in the item's text, so keyword-searchable)."""
        for item_id, text in texts.items():
            self._db.execute(
                "UPDATE items SET text = ? WHERE id = ? AND file_id = ?", (text, item_id, file_id)
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
            (root_id, new_path, size, mtime_ns, file_id),
        )

    def move_path(self, src: str, dst: str, root_id: int) -> tuple[int, list[int]]:
        """Re-key a moved file, or every file below a moved folder, keeping their items.

        Rows already at `dst` are stale (a rename replaced them) and are dropped.
        Returns (files moved, item ids dropped with the stale rows).
        """
        low, high = _prefix_range(src)
        if (
            self._db.execute(
                "SELECT 1 FROM files WHERE path = ? OR (path >= ? AND path < ?) LIMIT 1",
                (src, low, high),
            ).fetchone()
            is None
        ):
            return 0, []  # nothing of ours was there (or it moved already)
        low, high = _prefix_range(dst)
        stale = [
            int(r[0])
            for r in self._db.execute(
                "SELECT id FROM files WHERE path = ? OR (path >= ? AND path < ?)", (dst, low, high)
            )
        ]
        removed = self.delete_files(stale) if stale else []
        low, high = _prefix_range(src)
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


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


# Items of files in folders that are online (offline ones keep their rows, hidden).
_ONLINE_JOIN = (
    " JOIN items i ON i.id = v.item_id JOIN files f ON f.id = i.file_id"
    " JOIN roots r ON r.id = f.root_id AND r.offline_since IS NULL"
)


def _prefix_range(folder: str) -> tuple[str, str]:
    """Bounds such that low <= path < high exactly for the paths below `folder`."""
    base = folder.rstrip(os.sep) + os.sep
    return base, base[:-1] + chr(ord(os.sep) + 1)


_FILE_SELECT = (
    "SELECT id, root_id, path, size, mtime_ns, content_hash, kind, status, error FROM files"
)


def _file_record(r: Sequence[object]) -> FileRecord:
    return FileRecord(
        id=int(r[0]),  # type: ignore[call-overload]
        root_id=int(r[1]),  # type: ignore[call-overload]
        path=str(r[2]),
        size=int(r[3]),  # type: ignore[call-overload]
        mtime_ns=int(r[4]),  # type: ignore[call-overload]
        content_hash=None if r[5] is None else str(r[5]),
        kind=FileKind(r[6]),
        status=FileStatus(r[7]),
        error=None if r[8] is None else str(r[8]),
    )


def passages_to_items(passages: Sequence[Passage], vectors: np.ndarray) -> list[NewItem]:
    return [
        NewItem(Modality.TEXT, vectors[i], page=p.page, chunk=i, text=p.text)
        for i, p in enumerate(passages)
    ]
