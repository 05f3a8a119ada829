"""The place names the catalog holds (file_meta.place, schema 5): what a typed "in Lisbon"
can narrow to."""

from __future__ import annotations

from finder.core.store.connection import Database


class PlaceNameQueries(Database):
    """Catalog inherits it."""

    def place_names(self) -> list[str]:
        """Every distinct place of the library's files, as stored ("Lisbon, Portugal")."""
        rows = self._db.execute(
            "SELECT DISTINCT place FROM file_meta WHERE place IS NOT NULL AND place != ''"
        )
        return [str(r[0]) for r in rows]
