"""Duplicate groups over an indexed library: the same bytes, resized and recompressed
copies grouped; other pictures (other colours, other shapes) not; the keeper chosen;
search results collapsed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from finder.core.library import Library
from finder.core.search.duplicates import CopyFinder, choose_keeper, collapse, same_moment
from finder.core.store.phashes import CopyCandidate
from finder.core.types import FileKind, SearchResult
from tests.helpers import draw_photo


def make_copies(folder: Path) -> dict[str, Path]:
    """An original photo and its copies, beside unrelated pictures."""
    original = draw_photo(folder / "trip" / "beach.png", "red", size=(640, 480))
    picture = Image.open(original)
    copies = folder / "copies"
    copies.mkdir(parents=True)
    picture.resize((320, 240), Image.Resampling.LANCZOS).save(copies / "beach-small.jpg")
    picture.save(copies / "beach-q40.jpg", quality=40)
    shutil.copyfile(original, copies / "beach-again.png")
    files = {
        "original": original,
        "small": copies / "beach-small.jpg",
        "q40": copies / "beach-q40.jpg",
        "same": copies / "beach-again.png",
    }
    for colour in ("blue", "green"):
        files[colour] = draw_photo(folder / "other" / f"{colour}.png", colour, size=(640, 480))
    files["square"] = draw_photo(
        folder / "other" / "square.png", "red", size=(640, 480), shape="rectangle"
    )
    return files


def finder_of(library: Library) -> CopyFinder:
    return CopyFinder(
        library._catalog, library._models, random_weights=library._search.random_weights
    )


@pytest.fixture
def indexed(library: Library, tmp_path: Path) -> tuple[Library, dict[str, Path]]:
    files = make_copies(tmp_path / "Pictures")
    library.add_folder(tmp_path / "Pictures")
    report = library.index()
    assert not report.errors
    return library, files


def test_copies_form_one_group_and_others_none(indexed: tuple[Library, dict[str, Path]]) -> None:
    library, files = indexed
    groups = finder_of(library).groups()
    assert len(groups) == 1
    group = groups[0]
    paths = {f.path for f in group.files}
    assert paths == {str(files[n].resolve()) for n in ("original", "small", "q40", "same")}
    assert not group.exact
    # the largest, original format, earliest: the PNG at full size (two of them: the
    # same bytes; the one modified first, else the shorter path)
    assert group.keeper.file_format == "PNG" and group.keeper.width == 640
    assert group.keeper.keep and not any(f.keep for f in group.files[1:])
    assert group.reclaimable == sum(f.size for f in group.files[1:])


def test_exact_copies_only_make_an_exact_group(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "Docs"
    folder.mkdir()
    (folder / "a.txt").write_text("the same notes about the garden shed")
    shutil.copyfile(folder / "a.txt", folder / "b.txt")
    draw_photo(folder / "p.png", "red")
    shutil.copyfile(folder / "p.png", folder / "q.png")
    library.add_folder(folder)
    library.index()
    groups = finder_of(library).groups()
    assert sorted(sorted(Path(f.path).name for f in g.files) for g in groups) == [
        ["a.txt", "b.txt"],
        ["p.png", "q.png"],
    ]
    assert all(g.exact for g in groups)


def test_search_shows_one_result_per_group(indexed: tuple[Library, dict[str, Path]]) -> None:
    library, files = indexed
    results = library.search_text("a red circle", k=20)
    shown = [r.path for r in results]
    copies = {str(files[n].resolve()) for n in ("original", "small", "q40", "same")}
    members = [r for r in results if r.path in copies]
    assert len(members) == 1, shown
    assert set(members[0].copies) == copies - {members[0].path}
    assert members[0].to_json()["copies"]
    others = [r for r in results if r.path not in copies]
    assert len(others) == 3 and all(not r.copies and "copies" not in r.to_json() for r in others)


def test_collapse_keeps_the_best_ranked() -> None:
    def result(file_id: int) -> SearchResult:
        return SearchResult(
            f"/p/{file_id}.jpg", FileKind.PHOTO, 1.0 - file_id / 10, file_id=file_id
        )

    def candidate(file_id: int) -> CopyCandidate:
        return CopyCandidate(
            file_id, f"/p/{file_id}.jpg", FileKind.PHOTO, 1, 0, None, None, None, None, None, None
        )

    copies = {2: [candidate(4), candidate(9)], 4: [candidate(2), candidate(9)]}
    out = collapse([result(1), result(2), result(3), result(4)], copies)
    assert [r.file_id for r in out] == [1, 2, 3]
    assert out[1].copies == ("/p/4.jpg", "/p/9.jpg")


def test_keeper_largest_then_original_format_then_earliest(tmp_path: Path) -> None:
    def candidate(name: str, width: int, taken: str) -> CopyCandidate:
        return CopyCandidate(
            0, str(tmp_path / name), FileKind.PHOTO, 100, 0, None, None, width, width, taken, None
        )

    assert choose_keeper([candidate("a.jpg", 10, "2020"), candidate("b.jpg", 20, "2021")])[
        0
    ].path.endswith("b.jpg")
    assert choose_keeper([candidate("a.jpg", 20, "2020"), candidate("b.heic", 20, "2021")])[
        0
    ].path.endswith("b.heic")
    assert choose_keeper([candidate("a.cr2", 20, "2022"), candidate("b.png", 20, "2021")])[
        0
    ].path.endswith("a.cr2")
    assert choose_keeper([candidate("a.jpg", 20, "2022"), candidate("b.jpg", 20, "2021")])[
        0
    ].path.endswith("b.jpg")


def test_without_a_model_the_fingerprint_groups_copies(
    tmp_path: Path, counting_embedder: object
) -> None:
    make_copies(tmp_path / "Pictures")
    library = Library(tmp_path / "data", counting_embedder, writable=True)  # type: ignore[arg-type]
    try:
        library.add_folder(tmp_path / "Pictures")
        report = library._indexer.run(model_missing="no weights here")
        assert report.model_missing
        groups = CopyFinder(library._catalog, library._models, random_weights=True).groups()
        assert [len(g.files) for g in groups] == [4]
        assert os.path.basename(groups[0].keeper.path) in {"beach.png", "beach-again.png"}
    finally:
        library.close()


def test_excluded_copies_are_in_no_group_and_no_result(
    indexed: tuple[Library, dict[str, Path]], tmp_path: Path
) -> None:
    library, files = indexed
    library.add_exclusion("copies")
    assert library.duplicates() == []  # the original's copies all left out
    for result in library.search_text("a red circle", k=20):
        assert not any("/copies/" in path for path in result.copies)
        assert "/copies/" not in result.path


def _taken(path: Path, when: str) -> Path:
    """The picture at `path` again, its EXIF saying when it was taken."""
    picture = Image.open(path)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = when  # DateTimeOriginal
    picture.save(path, exif=exif)
    return path


def test_look_alikes_taken_at_other_times_are_two_shots(library: Library, tmp_path: Path) -> None:
    folder = tmp_path / "Pictures"
    for name, when in (
        ("monday.jpg", "2019:07:01 10:00:00"),
        ("tuesday.jpg", "2019:07:02 10:00:00"),
        ("monday-copy.jpg", "2019:07:01 10:00:00"),
    ):
        _taken(draw_photo(folder / name, "red"), when)
    Image.open(folder / "monday.jpg").resize((160, 120)).save(folder / "monday-small.jpg")
    library.add_folder(folder)
    library.index()
    groups = library.duplicates()
    assert [sorted(Path(f.path).name for f in g.files) for g in groups] == [
        ["monday-copy.jpg", "monday-small.jpg", "monday.jpg"]
    ]


def test_same_moment_by_time_and_place() -> None:
    def photo(taken: float | None, lat: float | None = None, lon: float | None = None):  # type: ignore[no-untyped-def]
        return CopyCandidate(
            1, "/p.jpg", FileKind.PHOTO, 1, 0, None, None, None, None, None, None, taken, lat, lon
        )

    assert same_moment(photo(1000.0), photo(1002.0))  # a burst
    assert not same_moment(photo(1000.0), photo(1000.0 + 86400))
    assert same_moment(photo(1000.0), photo(None))  # a copy without EXIF
    lisbon, porto = (38.72, -9.14), (41.15, -8.61)
    assert same_moment(photo(None, *lisbon), photo(None, 38.7201, -9.1401))
    assert not same_moment(photo(None, *lisbon), photo(None, *porto))
    assert same_moment(photo(None, *lisbon), photo(None))
