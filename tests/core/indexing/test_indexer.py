from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from PIL import Image

from finder.core.indexing import file_reading as file_reading_module
from finder.core.indexing import indexer as indexer_module
from finder.core.library import Library
from finder.core.types import FileKind, FileStatus, IndexProgress, Modality, SearchKind
from tests.conftest import CountingEmbedder
from tests.helpers import draw_photo, write_encrypted_pdf, write_pdf, write_text


def _folder(tmp_path: Path) -> Path:
    root = tmp_path / "Pictures"
    for i, color in enumerate(["red", "green", "blue", "yellow"]):
        draw_photo(root / f"p{i}_{color}.jpg", color)
    draw_photo(root / "sub" / "deep.png", "purple")
    write_text(root / "notes.txt", "receipt from the hardware store: nails, glue, a hammer")
    write_pdf(root / "report.pdf", ["tax return 2023", "page two about deductions"])
    (root / "program.exe").write_bytes(b"MZ")  # unsupported: ignored
    draw_photo(root / ".hidden" / "secret.jpg")  # hidden folder: skipped
    return root


def _index(library: Library, root: Path, **kw: object):  # type: ignore[no-untyped-def]
    library.add_folder(root)
    return library._indexer.run(**kw)  # type: ignore[arg-type]


def test_first_run_indexes_supported_files(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder
) -> None:
    root = _folder(tmp_path)
    report = _index(library, root)
    assert report.added == 7 and not report.errors
    assert counting_embedder.images == 5 + 2  # the photos, and the PDF's pages as pictures
    assert counting_embedder.texts == 3  # one passage for notes, one per PDF page
    counts = library._catalog.counts()
    assert (counts["photos"], counts["documents"]) == (5, 2)
    store = library._models.store
    assert store.count(Modality.IMAGE) == 5 + 2 and store.count(Modality.TEXT) == 3


def test_photos_previews_come_from_the_indexing_decode(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _folder(tmp_path)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    _index(library, root)
    photo = str(root / "p0_red.jpg")
    cached = library.thumbnails.cached_path(photo)
    assert cached is not None and cached.is_file()
    with Image.open(cached) as preview:
        assert max(preview.size) == library.thumbnails.size

    # Showing it decodes nothing more.
    def no_decode(*_: object) -> None:
        raise AssertionError("decoded again")

    monkeypatch.setattr(library.thumbnails, "_render", no_decode)
    assert library.thumbnails.get(photo) == cached
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before  # nothing written


def test_rerun_with_nothing_changed_does_no_work(
    library: Library,
    tmp_path: Path,
    counting_embedder: CountingEmbedder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _folder(tmp_path)
    _index(library, root)
    counting_embedder.reset()
    hashed: list[str] = []
    for module in (indexer_module, file_reading_module):  # where files are hashed
        monkeypatch.setattr(module, "content_hash", lambda p: hashed.append(str(p)) or "")
    monkeypatch.setattr(file_reading_module, "hash_of", lambda d: hashed.append("bytes") or "")
    report = library._indexer.run()
    assert report.unchanged == 7 and report.added == report.updated == 0
    assert counting_embedder.images == counting_embedder.texts == 0
    assert hashed == []  # not even a file was read


def test_edit_reembeds_and_touch_does_not(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder
) -> None:
    root = _folder(tmp_path)
    _index(library, root)
    counting_embedder.reset()
    notes = root / "notes.txt"
    notes.write_text("sunset over the sea, twice as long as before to change the size")
    photo = root / "p0_red.jpg"
    os.utime(photo, ns=(photo.stat().st_atime_ns, photo.stat().st_mtime_ns + 10**9))
    report = library._indexer.run()
    assert report.updated == 1
    assert counting_embedder.texts == 1 and counting_embedder.images == 0
    results = library._search.text("sunset", SearchKind.DOCS, k=5)
    assert any("sunset over the sea" in (r.snippet or "") for r in results)
    assert all("hardware" not in (r.snippet or "") for r in results)


def test_deleted_files_leave_the_index(library: Library, tmp_path: Path) -> None:
    root = _folder(tmp_path)
    _index(library, root)
    (root / "p1_green.jpg").unlink()
    shutil.rmtree(root / "sub")
    report = library._indexer.run()
    assert report.removed == 2
    paths = {r.path for r in library._search.text("green", SearchKind.PHOTOS, k=50)}
    assert paths and not any("green" in p or "deep" in p for p in paths)
    assert library._models.store.count(Modality.IMAGE) == 3 + 2  # and report.pdf's 2 pages


def test_moved_files_keep_their_vectors(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder
) -> None:
    root = _folder(tmp_path)
    _index(library, root)
    before = {r.path: r.score for r in library._search.text("red", SearchKind.ALL, k=50)}
    counting_embedder.reset()
    (root / "archive").mkdir()
    (root / "p0_red.jpg").rename(root / "archive" / "renamed_red.jpg")
    (root / "sub").rename(root / "moved-sub")
    (root / "report.pdf").rename(root / "archive" / "report-2023.pdf")
    report = library._indexer.run()
    assert report.moved == 3 and report.added == 0 and report.removed == 0
    assert counting_embedder.images == counting_embedder.texts == 0
    after = {r.path: r.score for r in library._search.text("red", SearchKind.ALL, k=50)}
    assert after[str(root / "archive" / "renamed_red.jpg")] == pytest.approx(
        before[str(root / "p0_red.jpg")]
    )
    assert str(root / "p0_red.jpg") not in after


def test_bad_files_are_reported_and_skipped(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _folder(tmp_path)
    (root / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 50)
    (root / "empty.png").write_bytes(b"")
    write_encrypted_pdf(root / "locked.pdf", "private")
    unreadable = draw_photo(root / "unreadable.jpg", "black")
    unreadable.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the read fail as it would for a user
        real_open = open

        def guarded_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
            if str(path) == str(unreadable):
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr("builtins.open", guarded_open)
    try:
        report = _index(library, root)
    finally:
        unreadable.chmod(0o644)
    reasons = {Path(e.path).name: e.reason for e in report.errors}
    assert set(reasons) == {"corrupt.jpg", "empty.png", "locked.pdf", "unreadable.jpg"}
    assert "corrupt" in reasons["corrupt.jpg"]
    assert reasons["empty.png"] == "empty file"
    assert reasons["locked.pdf"] == "encrypted PDF (a password is needed)"
    assert reasons["unreadable.jpg"] == "permission denied"
    assert report.added == 7  # the good files all made it
    assert library._catalog.counts()["errors"] == 4
    # Failed files are not retried until they change.
    again = library._indexer.run()
    assert again.unchanged == 11 and not again.errors


def test_progress_and_cancellation_then_resume(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder
) -> None:
    root = tmp_path / "many"
    for i in range(40):
        draw_photo(root / f"{i:03d}.png", ["red", "blue"][i % 2], size=(64, 64))
    library._indexer.config = indexer_module.IndexerConfig(image_batch=8, lookahead=8)
    cancel = threading.Event()
    seen: list[IndexProgress] = []

    def on_progress(p: IndexProgress) -> None:
        seen.append(p)
        if p.phase == "embedding" and p.done >= 8:
            cancel.set()

    report = _index(library, root, progress=on_progress, cancel=cancel)
    assert report.cancelled and 8 <= report.added < 40
    assert seen[0].phase == "scanning" and seen[-1].phase == "done"
    assert all(p.total == 40 for p in seen if p.phase == "embedding")
    first = report.added
    counting_embedder.reset()
    resumed = library._indexer.run()
    assert resumed.added == 40 - first and resumed.unchanged == first
    assert counting_embedder.images == 40 - first


def test_new_model_reembeds_everything(
    library: Library, tmp_path: Path, data_dir: Path, tiny_embedder: object
) -> None:
    root = _folder(tmp_path)
    _index(library, root)
    library.close()

    class OtherModel(CountingEmbedder):
        @property
        def key(self) -> str:
            return "another-model"

    other = OtherModel(tiny_embedder)  # type: ignore[arg-type]
    second = Library(data_dir, other, writable=True)
    try:
        report = second._indexer.run()
        # The items stay; each file gets the new model's vectors (pictures decoded again).
        assert report.reembedded == 7 and report.updated == 0 and other.images == 5 + 2
    finally:
        second.close()


def test_a_second_writer_is_refused(
    library: Library, data_dir: Path, counting_embedder: CountingEmbedder
) -> None:
    from finder.core.store.lock import DataDirLockedError

    with pytest.raises(DataDirLockedError, match=f"pid {os.getpid()}"):
        Library(data_dir, counting_embedder, writable=True)
    reader = Library(data_dir, counting_embedder, writable=False)  # searching is fine
    reader.close()


def test_folder_errors(library: Library, tmp_path: Path, data_dir: Path) -> None:
    from finder.core.library import FolderError

    with pytest.raises(FolderError, match="no such folder"):
        library.add_folder(tmp_path / "missing")
    with pytest.raises(FolderError, match="not a folder"):
        library.add_folder(write_text(tmp_path / "f.txt", "x"))
    with pytest.raises(FolderError, match="not a watched folder"):
        library.remove_folder(tmp_path)


def _items_text(library: Library, path: Path) -> str:
    record = library._catalog.file_by_path(str(path))
    if record is None:
        return ""
    rows = library._catalog.items(library._catalog.item_ids_of_files([record.id]))
    return " ".join(row.text or "" for row in rows.values())


def test_a_changed_extension_is_a_new_file_of_the_new_kind(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder
) -> None:
    root = tmp_path / "Notes"
    write_text(root / "note.txt", "a shopping list: apples and pears")
    draw_photo(root / "photo.png", "red")
    _index(library, root)
    counting_embedder.reset()
    (root / "note.txt").rename(root / "note.jpg")  # the same bytes, now named a picture
    (root / "photo.png").rename(root / "photo.jpg")  # another picture name: still a move
    report = library._indexer.run()
    assert report.moved == 1 and report.removed == 1 and report.added == 0
    reasons = {Path(e.path).name: e.reason for e in report.errors}
    assert reasons == {"note.jpg": "not a readable image (unknown or corrupt format)"}
    note = library._catalog.file_by_path(str(root / "note.jpg"))
    assert note is not None and note.kind is FileKind.PHOTO and note.status is FileStatus.ERROR
    assert note.error and "shopping" not in _items_text(library, root / "note.jpg")
    assert library._catalog.file_by_path(str(root / "note.txt")) is None
    assert counting_embedder.texts == counting_embedder.images == 0
    counts = library._catalog.counts()
    assert (counts["photos"], counts["documents"], counts["errors"]) == (1, 0, 1)
    # And back: a document again, read again.
    (root / "note.jpg").rename(root / "note.md")
    report = library._indexer.run()
    assert report.added == 1 and report.moved == 0 and report.removed == 1
    assert "shopping" in _items_text(library, root / "note.md")


def test_a_file_kept_under_the_wrong_kind_is_read_again(library: Library, tmp_path: Path) -> None:
    """What an earlier finder left after `mv note.txt note.jpg`: the document's row and text
    moved to the new name. A full re-index puts it right."""
    root = tmp_path / "Notes"
    write_text(root / "note.txt", "a shopping list: apples and pears")
    _index(library, root)
    record = library._catalog.file_by_path(str(root / "note.txt"))
    assert record is not None
    moved = (root / "note.txt").rename(root / "note.jpg")
    stat = moved.stat()
    with library._catalog.transaction() as tx:  # the old, kind-blind relink
        tx.move_file(record.id, record.root_id, str(moved), stat.st_size, stat.st_mtime_ns)
    report = library._indexer.run()
    assert [Path(e.path).name for e in report.errors] == ["note.jpg"]
    note = library._catalog.file_by_path(str(moved))
    assert note is not None and note.kind is FileKind.PHOTO and note.status is FileStatus.ERROR
    assert "shopping" not in _items_text(library, moved)
    assert library._catalog.counts()["documents"] == 0
