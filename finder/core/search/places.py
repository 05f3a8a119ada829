"""Which typed names are places (for understanding.py): those of the library's own photos.

A photo's place is stored as a name such as "Lisbon, Portugal" (finder.core.ingest's
metadata); each of its parts is a place a query may name ("in Lisbon", "in Portugal"),
as is the whole. The look-up answers with the name as the library spells it, so a filter
matches it whatever the case typed.
"""

from __future__ import annotations

from collections.abc import Iterable

from finder.core.search.understanding import PlaceLookup


def known_places(names: Iterable[str]) -> PlaceLookup:
    """A look-up over these place names and their comma-separated parts, any case."""
    spelled: dict[str, str] = {}
    for name in names:
        parts = [part.strip() for part in name.split(",")]
        for key in (name.strip(), *parts):
            if key:
                spelled.setdefault(_key(key), key)
    return lambda typed: spelled.get(_key(typed))


def _key(name: str) -> str:
    return " ".join(name.casefold().split())
