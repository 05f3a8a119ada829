"""A named collection of one's own texts (LangChain's `add_texts`, `from_texts`), kept
in the data dir beside the folder index and never mixed into it: one SQLite file per
collection in `<data dir>/collections/`, holding each text, its metadata and its vector.

Collections are small (notes, snippets a program adds), so a search compares the query
with every vector (one matrix product). Vectors made by another model than the one in
use are made again from the kept texts before a search.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

COLLECTIONS_DIR = "collections"  # inside the data dir; the catalog never looks here
DEFAULT_COLLECTION = "langchain"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS texts (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    metadata TEXT NOT NULL,  -- JSON object
    model TEXT NOT NULL,     -- the key of the model that made the vector
    vector BLOB NOT NULL,    -- float32, unit length
    added_at REAL NOT NULL
)
"""

Embed = Callable[[list[str]], np.ndarray]


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float  # cosine similarity with the query


def collection_path(data_dir: Path, name: str) -> Path:
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"collection name {name!r}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return data_dir / COLLECTIONS_DIR / f"{name}.sqlite3"


class TextCollection:
    """Texts, their metadata and vectors, under one name in a data dir."""

    def __init__(self, data_dir: Path, name: str, embed: Embed, model_key: str) -> None:
        self.name = name
        self.path = collection_path(data_dir, name)
        self._embed = embed
        self._model_key = model_key
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(_SCHEMA)
        return db

    def add(
        self,
        texts: Sequence[str],
        metadatas: Sequence[dict[str, Any]] | None = None,
        ids: Sequence[str | None] | None = None,
    ) -> list[str]:
        """Add (or replace, by id) texts; their ids."""
        if metadatas is not None and len(metadatas) != len(texts):
            raise ValueError(f"{len(metadatas)} metadatas for {len(texts)} texts")
        if ids is not None and len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts")
        chosen = [(ids[i] if ids else None) or uuid.uuid4().hex for i in range(len(texts))]
        vectors = self._vectors(list(texts))
        now = time.time()
        rows = [
            (
                chosen[i],
                text,
                json.dumps(metadatas[i] if metadatas else {}, ensure_ascii=False, default=str),
                self._model_key,
                vectors[i].tobytes(),
                now,
            )
            for i, text in enumerate(texts)
        ]
        with self._lock, closing(self._connect()) as db:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO texts VALUES (?, ?, ?, ?, ?, ?)", rows)
            db.execute("COMMIT")
        return chosen

    def delete(self, ids: Sequence[str] | None = None) -> int:
        """Delete these texts (None: all of them); how many were deleted."""
        with self._lock, closing(self._connect()) as db:
            if ids is None:
                return db.execute("DELETE FROM texts").rowcount
            return sum(db.execute("DELETE FROM texts WHERE id = ?", (i,)).rowcount for i in ids)

    def get(self, ids: Sequence[str]) -> list[Hit]:
        """The texts of these ids that exist, in their order."""
        with self._lock, closing(self._connect()) as db:
            found = {}
            for text_id in ids:
                row = db.execute(
                    "SELECT id, text, metadata FROM texts WHERE id = ?", (text_id,)
                ).fetchone()
                if row is not None:
                    found[text_id] = Hit(row[0], row[1], json.loads(row[2]), 0.0)
        return [found[i] for i in ids if i in found]

    def __len__(self) -> int:
        if not self.path.exists():
            return 0
        with self._lock, closing(self._connect()) as db:
            return int(db.execute("SELECT count(*) FROM texts").fetchone()[0])

    def search(
        self, vector: Sequence[float] | np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[Hit]:
        """The `k` texts nearest to `vector` whose metadata holds every pair of `where`."""
        if not self.path.exists():
            return []
        self._reembed_stale()
        with self._lock, closing(self._connect()) as db:
            rows = db.execute("SELECT id, text, metadata, vector FROM texts").fetchall()
        candidates = [(row, json.loads(row[2])) for row in rows]
        if where:
            candidates = [
                (row, meta)
                for row, meta in candidates
                if all(meta.get(key) == value for key, value in where.items())
            ]
        if not candidates:
            return []
        matrix = np.stack([np.frombuffer(row[3], dtype=np.float32) for row, _ in candidates])
        query = np.asarray(vector, dtype=np.float32)
        if matrix.shape[1] != query.shape[0]:
            raise ValueError(
                f"a {query.shape[0]}-d vector for a collection of {matrix.shape[1]}-d vectors"
            )
        scores = matrix @ query
        best = np.argsort(-scores, kind="stable")[:k]
        return [
            Hit(candidates[i][0][0], candidates[i][0][1], candidates[i][1], float(scores[i]))
            for i in best
        ]

    def _vectors(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self._embed(texts), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit: np.ndarray = vectors / np.maximum(norms, 1e-12)
        return unit.astype(np.float32)

    def _reembed_stale(self) -> None:
        """Texts embedded by another model get this one's vectors (the texts are kept)."""
        with self._lock, closing(self._connect()) as db:
            stale = db.execute(
                "SELECT id, text FROM texts WHERE model != ?", (self._model_key,)
            ).fetchall()
        if not stale:
            return
        vectors = self._vectors([text for _, text in stale])
        with self._lock, closing(self._connect()) as db:
            db.execute("BEGIN")
            db.executemany(
                "UPDATE texts SET model = ?, vector = ? WHERE id = ?",
                [
                    (self._model_key, v.tobytes(), i)
                    for (i, _), v in zip(stale, vectors, strict=True)
                ],
            )
            db.execute("COMMIT")
