"""Folders and files the person left out: hidden from searches at once, not read again,
dropped from the index by the next run (scan or watcher), back once the exclusion goes."""

from __future__ import annotations

from pathlib import Path

import pytest

from finder.core.ingest.exclusions import Exclusion, ExclusionError
from finder.core.library import Library
from finder.core.types import SearchKind
from tests.conftest import CountingEmbedder
from tests.helpers import draw_photo, write_text


@pytest.fixture
def folder(library: Library, tmp_path: Path) -> Path:
    root = tmp_path / "pictures"
    draw_photo(root / "beach.png", "blue")
    draw_photo(root / "private" / "beach party.png", "red")
    draw_photo(root / "2019" / "raw" / "beach raw.png", "green")
    write_text(root / "private" / "beach notes.txt", "a day at the beach")
    library.add_folder(root)
    library.index()
    return root.resolve()


def _found(library: Library, query: str = "beach") -> set[str]:
    by_meaning = library.search_text(query, SearchKind.ALL, 20)
    by_words = library.search_keyword(query, SearchKind.ALL, 20)
    return {Path(r.path).name for r in by_meaning + by_words}


def test_an_exclusion_hides_at_once_and_the_next_run_drops_it(
    library: Library, folder: Path, counting_embedder: CountingEmbedder
) -> None:
    assert _found(library) == {"beach.png", "beach party.png", "beach raw.png", "beach notes.txt"}
    assert library.add_exclusion("private", str(folder)) == Exclusion("private", str(folder))
    assert library.add_exclusion("2019/raw") == Exclusion("2019/raw")
    assert library.exclusions() == [Exclusion("2019/raw"), Exclusion("private", str(folder))]
    assert _found(library) == {"beach.png"}  # before any index run
    assert library._catalog.file_by_path(str(folder / "private" / "beach party.png"))

    # Changed since: a run would read it again, were it not left out.
    draw_photo(folder / "private" / "beach party.png", "yellow", size=(200, 100))
    draw_photo(folder / "private" / "new.png", "purple")
    counting_embedder.reset()
    report = library.index()
    assert counting_embedder.images == 0  # nothing under private/ or 2019/raw/ was read
    assert report.removed == 3
    assert library._catalog.file_by_path(str(folder / "private" / "beach party.png")) is None
    assert library._catalog.file_by_path(str(folder / "private" / "new.png")) is None
    assert _found(library) == {"beach.png"}

    assert library.remove_exclusion("private", str(folder)) is True
    assert library.remove_exclusion("private", str(folder)) is False
    library.index()
    back = {"beach.png", "beach party.png", "beach notes.txt", "new.png"}
    assert _found(library) == back  # 2019/raw still left out


def test_a_watchers_run_leaves_excluded_paths_out(
    library: Library, folder: Path, counting_embedder: CountingEmbedder
) -> None:
    library.add_exclusion("*.tmp.png")
    new = draw_photo(folder / "scratch.tmp.png", "red")
    kept = draw_photo(folder / "kept.png", "red")
    counting_embedder.reset()
    report = library._indexer.run(subtrees=[new, kept])  # what a watcher does
    assert counting_embedder.images == 1
    assert report.added == 1
    assert library._catalog.file_by_path(str(new)) is None
    assert library._catalog.file_by_path(str(kept)) is not None


def test_mistakes_are_errors(library: Library, folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ExclusionError):
        library.add_exclusion("private", str(tmp_path / "not watched"))
    with pytest.raises(ExclusionError):
        library.add_exclusion("")
    assert library.exclusions() == []
