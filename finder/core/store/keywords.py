"""Text queries on the catalog: the keyword index (SQLite FTS5 over names, folders,
passages and text read in pictures), the model-free LIKE fallback, and the OCR pass's
bookkeeping."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from finder.core.store.connection import Database
from finder.core.store.path_text import real_path, stored_path
from finder.core.store.rows import ITEM_COLUMNS, ItemRow, item_row
from finder.core.types import FileKind

# Matches read by an unranked keyword pass at most (see keyword_hits).
UNRANKED_SCAN = 4000


class KeywordQueries(Database):
    """The catalog's text queries (Catalog inherits them)."""

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
            f"SELECT {ITEM_COLUMNS} "
            "FROM items i JOIN files f ON f.id = i.file_id JOIN roots r ON r.id = f.root_id "
            f"WHERE f.status = 'ok' AND r.offline_since IS NULL AND ({likes})"
        )
        if kind is not None:
            sql += " AND f.kind = ?"
            args.append(kind.value)
        rows = self._db.execute(sql + " LIMIT ?", [*args, limit]).fetchall()
        return [item_row(r) for r in rows]

    def keyword_hits(
        self,
        match: str,
        kind: FileKind | None,
        limit: int = 500,
        *,
        ranked: bool = True,
        within: tuple[str, Sequence[object]] | None = None,
    ) -> list[tuple[ItemRow, float, str]]:
        """Items matching an FTS5 expression, best (BM25) first: (row, bm25, name+folder).

        BM25 is negative in SQLite (lower is better); name hits weigh twice body hits.
        `ranked=False`: matches in catalog order, BM25 0, from the first
        UNRANKED_SCAN matches only: cheap however many rows match, even when few of
        them are of `kind`. `within`: an SQL condition on the files (`f`) and its
        arguments (file_meta.condition: a search narrowed by filters).
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
            f"SELECT {ITEM_COLUMNS}, {rank} AS rank, fts.name || ' ' || fts.folder "
            f"FROM {source} JOIN items i ON i.id = fts.rowid "
            "JOIN files f ON f.id = i.file_id JOIN roots r ON r.id = f.root_id "
            f"WHERE {where} AND f.status = 'ok' AND r.offline_since IS NULL"
        )
        if kind is not None:
            sql += " AND f.kind = ?"
            args.append(kind.value)
        if within is not None:
            sql += f" AND {within[0]}"
            args += within[1]
        order = " ORDER BY rank" if ranked else ""
        rows = self._db.execute(sql + order + " LIMIT ?", [*args, limit]).fetchall()
        return [(item_row(r), float(r[7]), str(r[8] or "")) for r in rows]

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
        return [(int(r[0]), real_path(r[1]), FileKind(r[2])) for r in rows]

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
        row = self._db.execute(
            "SELECT ocr_state FROM files WHERE path = ?", (stored_path(path),)
        ).fetchone()
        return None if row is None else row[0]
