"""Filters narrow a search before ranking (dates, place, camera, folder), keyword search
honours them, results carry their date, place and camera, and sort by date."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from finder.core.library import Library
from finder.core.search import scope
from finder.core.search.filters import Filters, Sort
from finder.core.types import SearchResult
from tests.exif_photos import LISBON, PARIS, TOKYO, exif_for, write_photo
from tests.helpers import write_text


@pytest.fixture(scope="module")
def indexed(
    tmp_path_factory: pytest.TempPathFactory, tiny_embedder: object
) -> Iterator[tuple[Library, Path]]:
    tmp = tmp_path_factory.mktemp("scope")
    root = tmp / "Photos"
    trip = root / "trip"
    write_photo(
        trip / "holiday-lisbon.jpg",
        "red",
        exif_for("2019:07:14 10:11:12", "+01:00", LISBON, "Canon", "Canon EOS R5"),
        seed=1,
    )
    write_photo(
        root / "holiday-paris.jpg",
        "red",
        exif_for("2021:03:05 18:00:00", "+01:00", PARIS, "Apple", "iPhone 13"),
        seed=2,
    )
    write_photo(
        root / "holiday-tokyo.heic",
        "blue",
        exif_for("2018:12:31 23:30:00", "+09:00", TOKYO, "FUJIFILM", "X-T4"),
        seed=3,
    )
    plain = write_photo(root / "holiday-plain.png", "red", seed=4)
    os.utime(plain, (1_270_000_000, 1_270_000_000))  # 2010: its date is the file's
    note = write_text(root / "notes.txt", "holiday notes about a red circle")
    os.utime(note, (1_430_000_000, 1_430_000_000))  # 2015
    library = Library(tmp / "data", tiny_embedder, writable=True)  # type: ignore[arg-type]
    library.add_folder(root)
    library.index()
    yield library, root
    library.close()


def names(results: list[SearchResult]) -> list[str]:
    return [Path(r.path).name for r in results]


def test_date_range_narrows_before_ranking(indexed: tuple[Library, Path]) -> None:
    library, _ = indexed
    in_2019 = Filters(after=date(2019, 1, 1), before=date(2019, 12, 31))
    assert names(library.search_text("a red circle", filters=in_2019)) == ["holiday-lisbon.jpg"]
    # The same picture is the strongest match of itself; outside the range it never shows,
    # and the one photo inside is still found however weak.
    paris = str(indexed[1] / "holiday-paris.jpg")
    assert names(library.search_similar(paris, k=5, filters=in_2019)) == ["holiday-lisbon.jpg"]
    # Bounds are days of the photo's own local time: 23:30 on Dec 31 in Tokyo is 2018.
    in_2018 = Filters(after=date(2018, 1, 1), before=date(2018, 12, 31))
    assert names(library.search_text("blue", filters=in_2018)) == ["holiday-tokyo.heic"]
    since_2019 = Filters(after=date(2019, 1, 1))
    assert set(names(library.search_text("holiday", k=10, filters=since_2019))) == {
        "holiday-lisbon.jpg",
        "holiday-paris.jpg",
    }
    assert library.search_text("red", filters=Filters(after=date(2030, 1, 1))) == []


def test_large_scopes_use_the_filtered_graph_search(
    indexed: tuple[Library, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    library, _ = indexed
    monkeypatch.setattr(scope, "EXACT_AMONG", 0)  # every scope counts as large
    in_2019 = Filters(after=date(2019, 1, 1), before=date(2019, 12, 31))
    assert names(library.search_text("a red circle", filters=in_2019)) == ["holiday-lisbon.jpg"]
    since_2018 = Filters(after=date(2018, 1, 1))
    assert set(names(library.search_text("holiday", k=10, filters=since_2018))) == {
        "holiday-lisbon.jpg",
        "holiday-paris.jpg",
        "holiday-tokyo.heic",
    }


def test_place_camera_and_folder(indexed: tuple[Library, Path]) -> None:
    library, root = indexed
    by_place = library.search_text("red", k=10, filters=Filters(place="lisbon"))
    assert names(by_place) == ["holiday-lisbon.jpg"]
    assert names(library.search_text("red", k=10, filters=Filters(place="France"))) == [
        "holiday-paris.jpg"
    ]
    assert names(library.search_text("red", k=10, filters=Filters(place="Portugal"))) == [
        "holiday-lisbon.jpg"
    ]
    assert library.search_text("red", k=10, filters=Filters(place="Lis")) == []  # whole names
    assert names(library.search_text("red", k=10, filters=Filters(place="Lisbõn"))) == [
        "holiday-lisbon.jpg"  # diacritics typed or not
    ]
    assert names(library.search_text("red", k=10, filters=Filters(camera="iphone"))) == [
        "holiday-paris.jpg"
    ]
    in_trip = Filters(folder=str(root / "trip"))
    assert names(library.search_text("holiday", k=10, filters=in_trip)) == ["holiday-lisbon.jpg"]


def test_keyword_search_honours_filters(indexed: tuple[Library, Path]) -> None:
    library, _ = indexed
    everything = library.search_keyword("holiday", k=10)
    assert len(everything) == 5
    assert names(library.search_keyword("holiday", k=10, filters=Filters(place="Tokyo"))) == [
        "holiday-tokyo.heic"
    ]
    before_2016 = Filters(before=date(2015, 12, 31))
    assert set(names(library.search_keyword("holiday", k=10, filters=before_2016))) == {
        "holiday-plain.png",
        "notes.txt",
    }


def test_results_carry_date_place_camera_and_sort_by_date(indexed: tuple[Library, Path]) -> None:
    library, _ = indexed
    newest = library.search_keyword("holiday", k=10, filters=Filters(sort=Sort.DATE))
    assert names(newest) == [
        "holiday-paris.jpg",
        "holiday-lisbon.jpg",
        "holiday-tokyo.heic",
        "notes.txt",
        "holiday-plain.png",
    ]
    oldest = library.search_text("holiday", k=10, filters=Filters(sort=Sort.DATE_ASC))
    assert names(oldest)[:2] == ["holiday-plain.png", "notes.txt"]
    lisbon = next(r for r in newest if r.path.endswith("lisbon.jpg"))
    assert lisbon.to_json()["taken"] == "2019-07-14T10:11:12+01:00"
    assert lisbon.to_json()["taken_source"] == "exif"
    assert lisbon.to_json()["place"] == "Lisbon, Portugal"
    assert lisbon.to_json()["camera"] == "Canon EOS R5"
    plain = next(r for r in newest if r.path.endswith("plain.png")).to_json()
    assert plain["taken_source"] == "file" and "place" not in plain and "camera" not in plain


def test_image_search_stages_are_narrowed_and_dated(indexed: tuple[Library, Path]) -> None:
    library, root = indexed
    stages = list(
        library.search_image_stages(
            root / "holiday-paris.jpg", filters=Filters(camera="fujifilm x-t4")
        )
    )
    assert stages and all(names(stage) == ["holiday-tokyo.heic"] for stage in stages)
    assert stages[-1][0].place == "Tokyo, Japan"


def test_years_and_places(indexed: tuple[Library, Path]) -> None:
    library, _ = indexed
    assert library.years() == [(2010, 1), (2015, 1), (2018, 1), (2019, 1), (2021, 1)]
    assert library.places("lis") == ["Lisbon, Portugal"]
    assert set(library.places("p")) == {"Paris, France", "Portugal"}
    assert set(library.places()) == {
        "Lisbon, Portugal",
        "Portugal",
        "Paris, France",
        "France",
        "Tokyo, Japan",
        "Japan",
    }
    assert library.places("zz") == []


def test_copies_outside_the_filters_are_not_counted(tmp_path: Path, tiny_embedder: object) -> None:
    """A photo copied to another folder is one result with a copy; narrowed to one
    folder, it has none there (it said "+8 copies" when 7 photos matched)."""
    from finder.core.types import SearchKind

    original = write_photo(tmp_path / "Photos" / "a" / "shot.jpg", "red", seed=4)
    copy = tmp_path / "Photos" / "b" / "shot.jpg"
    copy.parent.mkdir(parents=True)
    copy.write_bytes(original.read_bytes())
    library = Library(tmp_path / "data", tiny_embedder, writable=True)  # type: ignore[arg-type]
    try:
        library.add_folder(tmp_path / "Photos")
        library.index()
        everywhere = library.search_text("a red circle", SearchKind.PHOTOS, k=5)
        assert [len(r.copies) for r in everywhere] == [1]
        in_a = library.search_text(
            "a red circle", SearchKind.PHOTOS, k=5, filters=Filters(folder=str(original.parent))
        )
        assert [(Path(r.path).parent.name, r.copies) for r in in_a] == [("a", ())]
    finally:
        library.close()
