"""Photos indexed before finder kept fingerprints get one on the next index run, without
being embedded again."""

from __future__ import annotations

from pathlib import Path

from finder.core.ingest.perceptual import Fingerprint, colour_distance, hash_distance
from finder.core.library import Library
from tests.conftest import CountingEmbedder
from tests.helpers import draw_photo, write_text


def _phashes(library: Library) -> dict[str, str | None]:
    rows = library._catalog._db.execute(
        "SELECT f.path, m.phash FROM files f LEFT JOIN file_meta m ON m.file_id = f.id"
    ).fetchall()
    return {Path(path).name: phash for path, phash in rows}


def test_index_run_stores_fingerprints_of_photos_only(library: Library, tmp_path: Path) -> None:
    draw_photo(tmp_path / "p" / "red.png", "red")
    draw_photo(tmp_path / "p" / "blue.jpg", "blue")
    write_text(tmp_path / "p" / "notes.txt", "garden notes")
    library.add_folder(tmp_path / "p")
    library.index()
    found = _phashes(library)
    assert Fingerprint.parse(found["red.png"]) is not None
    assert Fingerprint.parse(found["blue.jpg"]) is not None
    assert found["notes.txt"] is None


def test_an_older_data_dir_gets_fingerprints_without_embedding_again(
    library: Library, counting_embedder: CountingEmbedder, tmp_path: Path
) -> None:
    for colour in ("red", "green", "blue"):
        draw_photo(tmp_path / "p" / f"{colour}.png", colour)
    library.add_folder(tmp_path / "p")
    library.index()
    before = _phashes(library)
    with library._catalog.transaction() as tx:  # as an older finder left it
        tx.execute("UPDATE file_meta SET phash = NULL")
    assert set(_phashes(library).values()) == {None}
    counting_embedder.reset()
    report = library.index()
    assert counting_embedder.images == 0 and report.unchanged == 3
    after = _phashes(library)
    assert after.keys() == before.keys()
    for name, text in after.items():  # from a smaller decode: the same within a little
        old, new = Fingerprint.parse(before[name]), Fingerprint.parse(text)
        assert old is not None and new is not None
        assert hash_distance(old, new) <= 2 and colour_distance(old, new) <= 2.0
