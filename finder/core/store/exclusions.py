"""The `exclusions` table (schema 5): patterns the person left out, per watched folder
(root_id) or everywhere (NULL). What a pattern means: finder.core.ingest.exclusions."""

from __future__ import annotations

import os
import time

from finder.core.ingest.exclusions import ExcludedPaths, Exclusion, ExclusionError, normalise
from finder.core.store.connection import Database
from finder.core.store.path_text import real_path, stored_path
from finder.core.store.writes import Tx


class ExclusionQueries(Database):
    """The catalog's exclusions (Catalog inherits them)."""

    def exclusions(self) -> list[Exclusion]:
        """Every exclusion: those for every folder first, then by folder and pattern."""
        rows = self._db.execute(
            "SELECT e.pattern, r.path FROM exclusions e LEFT JOIN roots r ON r.id = e.root_id "
            "ORDER BY r.path IS NOT NULL, r.path, e.pattern"
        ).fetchall()
        return [
            Exclusion(real_path(pattern), None if folder is None else real_path(folder))
            for pattern, folder in rows
        ]

    def excluded_paths(self) -> ExcludedPaths:
        """The exclusions, ready to ask about paths below the watched folders."""
        roots = [real_path(r[0]) for r in self._db.execute("SELECT path FROM roots")]
        return ExcludedPaths(self.exclusions(), roots)

    def add_exclusion(self, pattern: str, folder: str | None = None) -> tuple[Exclusion, bool]:
        """Leave `pattern` out of the watched `folder`, or of every folder: the exclusion
        as stored, and whether it is new. ExclusionError for a folder not watched or a
        pattern that names nothing."""
        with self.transaction() as tx:
            root_id, root = self._watched(tx, folder)
            exclusion = Exclusion(normalise(pattern, root), root)
            if self._exclusion_id(tx, exclusion.pattern, root_id) is not None:
                return exclusion, False
            tx.execute(
                "INSERT INTO exclusions(root_id, pattern, added_at) VALUES (?, ?, ?)",
                (root_id, stored_path(exclusion.pattern), time.time()),
            )
        return exclusion, True

    def remove_exclusion(self, pattern: str, folder: str | None = None) -> bool:
        """Stop leaving `pattern` out (of `folder`, or the one for every folder); False
        if it was not an exclusion."""
        with self.transaction() as tx:
            root_id, root = self._watched(tx, folder)
            found = self._exclusion_id(tx, normalise(pattern, root), root_id)
            if found is not None:
                tx.execute("DELETE FROM exclusions WHERE id = ?", (found,))
        return found is not None

    @staticmethod
    def _watched(tx: Tx, folder: str | None) -> tuple[int | None, str | None]:
        """(root id, path) of the watched folder `folder` names; (None, None) for none."""
        if folder is None:
            return None, None
        given = os.path.abspath(os.path.expanduser(folder))
        for path in dict.fromkeys((given, os.path.realpath(given))):
            row = tx.execute("SELECT id FROM roots WHERE path = ?", (stored_path(path),))
            found = row.fetchone()
            if found is not None:
                return int(found[0]), path
        raise ExclusionError(f"{given} is not a watched folder")

    @staticmethod
    def _exclusion_id(tx: Tx, pattern: str, root_id: int | None) -> int | None:
        # UNIQUE(root_id, pattern) lets NULL root_ids repeat: "IS" compares them too.
        row = tx.execute(
            "SELECT id FROM exclusions WHERE pattern = ? AND root_id IS ?",
            (stored_path(pattern), root_id),
        ).fetchone()
        return None if row is None else int(row[0])
