"""A file whose name is not valid UTF-8 (b'caf\\xe9.jpg', from an old drive or an archive)
is indexed, found and given back by its real name."""

from __future__ import annotations

import os
from pathlib import Path

from finder.core.library import Library
from finder.core.types import FileStatus, SearchKind, display_path
from tests.helpers import draw_photo

BAD_NAME = b"caf\xe9.jpg"


def make_folder(root: Path) -> bytes:
    """A folder with a normal photo and one whose name is not UTF-8: its bytes path."""
    draw_photo(root / "blue.jpg", "blue")
    draw_photo(root / "tmp.jpg", "red")
    bad = os.path.join(os.fsencode(root), BAD_NAME)
    os.rename(os.fsencode(root / "tmp.jpg"), bad)
    return bad


def test_an_undecodable_name_is_indexed_and_found(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "old-drive"
    bad = make_folder(root)
    library.add_folder(root)
    report = library.index()
    assert report.errors == []
    assert report.added == 2
    status = library.status()
    assert status.photos == 2 and status.errors == 0

    record = library._catalog.file_by_path(os.fsdecode(bad))
    assert record is not None and record.status is FileStatus.OK

    by_meaning = library.search_text("a red circle", SearchKind.PHOTOS, k=10)
    by_name = library.search_keyword("caf", SearchKind.ALL, k=10)
    for results in (by_meaning, by_name):
        paths = [r.path for r in results]
        found = [p for p in paths if os.fsencode(p) == bad]
        assert found, paths
        assert os.path.exists(found[0])


def test_an_undecodable_name_survives_a_second_run(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "old-drive"
    make_folder(root)
    library.add_folder(root)
    library.index()
    again = library.index()
    assert again.added == 0 and again.removed == 0 and again.unchanged == 2


def test_display_path_shows_replacement_characters() -> None:
    assert display_path(os.fsdecode(b"/old/caf\xe9.jpg")) == "/old/caf\ufffd.jpg"
    assert display_path("/fotos/\u00e9t\u00e9.jpg") == "/fotos/\u00e9t\u00e9.jpg"
