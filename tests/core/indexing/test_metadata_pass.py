"""Metadata is written with each file's row; files indexed before it was read (an older
data dir) get it on the next index run without being embedded again."""

from __future__ import annotations

from pathlib import Path

from finder.core.library import Library
from finder.core.store.catalog import Catalog
from tests.conftest import CountingEmbedder
from tests.exif_photos import LISBON, exif_for, write_photo
from tests.helpers import draw_photo, write_text


def meta_rows(catalog: Catalog) -> dict[str, tuple[object, ...]]:
    rows = catalog._db.execute(
        "SELECT f.path, m.taken, m.taken_source, m.place, m.camera, m.width "
        "FROM file_meta m JOIN files f ON f.id = m.file_id"
    ).fetchall()
    return {Path(r[0]).name: tuple(r[1:]) for r in rows}


def make_folder(root: Path) -> None:
    write_photo(
        root / "tram.jpg",
        exif=exif_for(
            "2019:07:14 10:11:12",
            offset="+01:00",
            gps=LISBON,
            make="Canon",
            model="Canon EOS R5",
            description="funicular ride",
        ),
    )
    draw_photo(root / "plain.png", "blue")
    write_text(root / "note.txt", "a note about nothing")


def test_index_writes_metadata_and_the_authors_words(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "Photos"
    make_folder(root)
    library.add_folder(root)
    library.index()
    rows = meta_rows(library._catalog)
    assert rows["tram.jpg"] == (
        "2019-07-14T10:11:12+01:00",
        "exif",
        "Lisbon, Portugal",
        "Canon EOS R5",
        320,
    )
    assert rows["plain.png"][1] == "file" and rows["plain.png"][2] is None
    assert rows["note.txt"][1] == "file"
    found = library.search_keyword("funicular")
    assert [Path(r.path).name for r in found] == ["tram.jpg"]


def test_old_data_dirs_get_metadata_without_embedding_again(
    library: Library, counting_embedder: CountingEmbedder, tmp_path: Path
) -> None:
    root = tmp_path / "Photos"
    make_folder(root)
    library.add_folder(root)
    library.index()
    catalog = library._catalog
    with catalog.transaction() as tx:  # as an older finder left it: no metadata at all
        tx.execute("DELETE FROM file_meta")
        tx.execute("UPDATE items SET text = NULL WHERE modality = 'image'")
        # ...but a fingerprint written by the duplicates pass (its own column of the row)
        tx.execute(
            "INSERT INTO file_meta(file_id, phash) SELECT id, 'abcd' FROM files "
            "WHERE path LIKE '%plain.png'"
        )
    assert library.search_keyword("funicular") == []
    counting_embedder.reset()
    report = library.index()
    assert counting_embedder.images == counting_embedder.texts == 0
    assert report.added == report.updated == 0
    rows = meta_rows(catalog)
    assert rows["tram.jpg"][:2] == ("2019-07-14T10:11:12+01:00", "exif")
    assert rows["plain.png"][1] == "file" and rows["note.txt"][1] == "file"
    phash = catalog._db.execute(
        "SELECT m.phash FROM file_meta m JOIN files f ON f.id = m.file_id "
        "WHERE f.path LIKE '%plain.png'"
    ).fetchall()
    assert phash == [("abcd",)]  # the other writer's column is kept
    assert [Path(r.path).name for r in library.search_keyword("funicular")] == ["tram.jpg"]


def test_text_read_in_a_photo_joins_its_authors_words(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "Photos"
    make_folder(root)
    library.add_folder(root)
    library.index()
    catalog = library._catalog
    file_id, item_id = catalog._db.execute(
        "SELECT f.id, i.id FROM files f JOIN items i ON i.file_id = f.id "
        "WHERE f.path LIKE '%tram.jpg'"
    ).fetchone()
    with catalog.transaction() as tx:
        tx.set_ocr(file_id, "text", {item_id: "STOP"})
    body = catalog.fts_rows()[item_id][2]
    assert body is not None and "funicular ride" in body and "STOP" in body
