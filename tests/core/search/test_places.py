"""The library's place names as a look-up for query understanding."""

from __future__ import annotations

from datetime import date

from finder.core.search.places import WORLD_PLACES, WorldPlaces, known_places
from finder.core.search.understanding import understand


def test_names_and_their_parts_in_any_case() -> None:
    look = known_places(["Lisbon, Portugal", "Porto, Portugal", "New York, United States"])
    assert look("lisbon") == "Lisbon"
    assert look("PORTUGAL") == "Portugal"
    assert look("new  york") == "New York"
    assert look("Lisbon, Portugal") == "Lisbon, Portugal"
    assert look("united states") == "United States"
    assert look("Madrid") is None
    assert look("") is None


def test_a_query_narrows_to_a_place_of_the_library() -> None:
    look = known_places(["Lisbon, Portugal"])
    got = understand("tram in lisbon", date(2026, 1, 1), look)
    assert (got.meaning, got.filters.place) == ("tram", "Lisbon")
    assert known_places([])("Lisbon") is None


def test_the_worlds_places() -> None:
    assert WORLD_PLACES("lisbon") == "Lisbon"
    assert WORLD_PLACES("PORTUGAL") == "Portugal"
    assert WORLD_PLACES("new york") == "New York"
    assert WORLD_PLACES("texas") == "Texas"
    assert WORLD_PLACES("Georgia") == "Georgia"
    assert WORLD_PLACES("Narnia") is None
    got = understand(
        "skyline in New York", date(2026, 1, 1), known_places([]), gazetteer=WORLD_PLACES
    )
    assert (got.meaning, got.filters.place) == ("skyline", "New York")


def test_a_broken_install_knows_no_place() -> None:
    def broken() -> list[str]:
        raise OSError("data missing")

    assert WorldPlaces(broken)("Lisbon") is None
    assert WorldPlaces(lambda: ["Lisbon", "lisbon"])("LISBON") == "Lisbon"  # the first
