"""The watcher with real watchdog observers on temp folders: wait for conditions, never sleep."""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from pathlib import Path

import pytest
from PIL import Image
from watchdog.observers import Observer

from finder import cli
from finder.core import library as library_module
from finder.core.indexing import file_reading as file_reading_module
from finder.core.indexing import indexer as indexer_module
from finder.core.indexing.first_look import FirstLook
from finder.core.indexing.ocr_pass import OcrReport, read_text_in_images
from finder.core.indexing.watcher import NATIVE, OFFLINE, POLLING, WatchBatch
from finder.core.library import Library
from finder.core.models.spec import resolve_model_spec
from finder.core.models.switching import ModelChoice, begin_switch, load_state
from finder.core.models.torch_runtime import ClipEmbedder
from finder.core.types import FileKind, FileStatus, SearchKind
from tests.conftest import CountingEmbedder
from tests.core.indexing.watching import FAST, Recorder, indexed, start_watching, wait_for
from tests.helpers import TINY_CONFIG, draw_photo, write_text

TINY24_CONFIG = TINY_CONFIG.with_name("tiny-random-24.json")

pytestmark = pytest.mark.usefixtures("no_thread_left_behind")


def _text_of(library: Library, path: Path) -> str:
    record = library._catalog.file_by_path(str(path))
    if record is None:
        return ""
    rows = library._catalog.items(library._catalog.item_ids_of_files([record.id]))
    return " ".join(row.text or "" for row in rows.values())


def test_reconciles_on_start_then_follows_changes(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder, recorder: Recorder
) -> None:
    root = tmp_path / "Pictures"
    draw_photo(root / "old.jpg", "red")
    write_text(root / "notes.txt", "a shopping list: apples and pears")
    library.add_folder(root)
    library._indexer.run()
    (root / "old.jpg").unlink()  # while finder was not running
    draw_photo(root / "offline-new.png", "blue")
    counting_embedder.reset()
    watcher = start_watching(library, recorder)
    try:
        assert recorder.batches[0].full
        assert not indexed(library, root / "old.jpg")
        assert indexed(library, root / "offline-new.png")
        assert [r.mode for r in watcher.roots()] == [NATIVE]

        draw_photo(root / "new" / "deep" / "green.jpg", "green")
        wait_for(lambda: indexed(library, root / "new" / "deep" / "green.jpg"))
        write_text(root / "notes.txt", "sunset over the sea, a longer note than before")
        wait_for(lambda: "sunset" in _text_of(library, root / "notes.txt"))
        (root / "offline-new.png").unlink()
        wait_for(lambda: not indexed(library, root / "offline-new.png"))
        assert watcher.wait_idle(10)
        assert counting_embedder.images == 2 and counting_embedder.texts == 1
    finally:
        watcher.stop()
    assert not watcher.running


def test_a_file_is_embedded_once_and_only_when_complete(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder, recorder: Recorder
) -> None:
    root = tmp_path / "Downloads"
    root.mkdir()
    library.add_folder(root)
    watcher = start_watching(library, recorder)
    try:
        data = draw_photo(tmp_path / "source.png", "purple", size=(400, 300)).read_bytes()
        chunks = [
            data[i : i + len(data) // 50 + 1] for i in range(0, len(data), len(data) // 50 + 1)
        ]
        target = root / "photo.png"
        with open(target, "wb") as f:
            for chunk in chunks[:25]:
                f.write(chunk)
                f.flush()
            # While it is half written, another file comes and goes through a batch.
            draw_photo(root / "other.jpg", "red")
            wait_for(lambda: indexed(library, root / "other.jpg"))
            assert not indexed(library, target), "a half-written file was indexed"
            for chunk in chunks[25:]:
                f.write(chunk)
                f.flush()
        wait_for(lambda: indexed(library, target))
        assert watcher.wait_idle(10)
        record = library._catalog.file_by_path(str(target))
        assert record is not None and record.error is None
        assert counting_embedder.images == 2  # each file once
    finally:
        watcher.stop()


def test_save_via_rename_reembeds_once(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder, recorder: Recorder
) -> None:
    root = tmp_path / "Documents"
    write_text(root / "essay.md", "first draft about mountains")
    library.add_folder(root)
    watcher = start_watching(library, recorder)
    try:
        counting_embedder.reset()
        # An editor's save: write a temporary file, then rename it over the original.
        tmp = write_text(root / ".essay.md.swp", "second draft about rivers and lakes, longer")
        os.replace(tmp, root / "essay.md")
        wait_for(lambda: "rivers" in _text_of(library, root / "essay.md"))
        assert watcher.wait_idle(10)
        assert counting_embedder.texts == 1
        assert library._catalog.counts()["documents"] == 1
    finally:
        watcher.stop()


def test_a_moved_folder_is_relinked_by_path(
    library: Library,
    tmp_path: Path,
    counting_embedder: CountingEmbedder,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "Pictures"
    for i in range(40):
        draw_photo(root / "2023" / "trip" / f"{i:03d}.png", "blue", size=(32, 32))
    library.add_folder(root)
    watcher = start_watching(library, recorder)
    try:
        counting_embedder.reset()
        hashed: list[str] = []
        real_hash = indexer_module.content_hash
        for module in (indexer_module, file_reading_module):  # where files are hashed
            monkeypatch.setattr(
                module, "content_hash", lambda p: hashed.append(str(p)) or real_hash(p)
            )
        real_hash_of = file_reading_module.hash_of
        monkeypatch.setattr(
            file_reading_module, "hash_of", lambda d: hashed.append("bytes") or real_hash_of(d)
        )
        (root / "2023" / "trip").rename(root / "holidays")
        (root / "2023").rename(root / "archive-2023")
        wait_for(lambda: indexed(library, root / "holidays" / "039.png"))
        assert watcher.wait_idle(10)
        assert library._catalog.counts()["photos"] == 40
        assert not library._catalog.files_within(library._catalog.roots()[0].id, str(root / "2023"))
        assert counting_embedder.images == 0 and hashed == []  # not embedded, not even read
        assert sum(b.report.moved for b in recorder.batches) == 40
    finally:
        watcher.stop()


def test_a_rename_to_another_kind_is_not_a_move(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder, recorder: Recorder
) -> None:
    root = tmp_path / "Notes"
    write_text(root / "note.txt", "a shopping list: apples and pears")
    library.add_folder(root)
    watcher = start_watching(library, recorder)
    try:
        counting_embedder.reset()
        (root / "note.txt").rename(root / "note.jpg")

        def kind_and_status() -> tuple[object, object] | None:
            record = library._catalog.file_by_path(str(root / "note.jpg"))
            return None if record is None else (record.kind, record.status)

        wait_for(
            lambda: kind_and_status() == (FileKind.PHOTO, FileStatus.ERROR),
            what="note.jpg read as a picture (and failing)",
        )
        assert watcher.wait_idle(10)
        assert not indexed(library, root / "note.txt")
        assert "shopping" not in _text_of(library, root / "note.jpg")
        assert sum(b.report.moved for b in recorder.batches) == 0
        errors = [e for b in recorder.batches for e in b.report.errors]
        assert [(Path(e.path).name, e.reason) for e in errors] == [
            ("note.jpg", "not a readable image (unknown or corrupt format)")
        ]
        assert counting_embedder.texts == counting_embedder.images == 0
    finally:
        watcher.stop()


def test_bursts_are_coalesced(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder, recorder: Recorder
) -> None:
    root = tmp_path / "Library"
    for i in range(10):
        write_text(root / "docs" / f"chapter{i}.md", f"chapter {i} of the old manual")
    library.add_folder(root)
    watcher = start_watching(library, recorder)
    try:
        counting_embedder.reset()
        before = len(recorder.batches)
        # A camera import...
        for i in range(150):
            draw_photo(root / "DCIM" / f"IMG_{i:04d}.png", "yellow", size=(24, 24))
        # ... and a `git checkout` of the docs: files replaced, one removed, one added.
        for i in range(9):
            write_text(root / "docs" / f"chapter{i}.md", f"chapter {i} of the new manual, v2")
        (root / "docs" / "chapter9.md").unlink()
        write_text(root / "docs" / "appendix.md", "appendix of the new manual")
        wait_for(
            lambda: (
                library._catalog.counts()["photos"] == 150
                and indexed(library, root / "docs" / "appendix.md")
                and not indexed(library, root / "docs" / "chapter9.md")
            ),
            timeout=60,
        )
        assert watcher.wait_idle(10)
        assert counting_embedder.images == 150  # each photo once
        assert counting_embedder.texts == 10  # nine edits and one new file
        batches = len(recorder.batches) - before
        assert batches <= 8, f"{batches} batches for one burst"
    finally:
        watcher.stop()


class _ExhaustedInotify(Observer):  # type: ignore[misc,valid-type]
    """The native observer, on a system whose inotify watch limit is used up."""

    def schedule(self, *args: object, **kwargs: object) -> object:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_falls_back_to_polling_and_says_so(
    library: Library, tmp_path: Path, data_dir: Path, recorder: Recorder
) -> None:
    root = tmp_path / "Share"
    draw_photo(root / "a.jpg", "red")
    library.add_folder(root)
    watcher = start_watching(library, recorder, observer_factory=_ExhaustedInotify)
    try:
        (mode,) = watcher.roots()
        assert mode.mode == POLLING and "inotify watch limit" in mode.reason
        folder = library.status().folders[0]
        assert folder.watch == POLLING and "inotify watch limit" in folder.watch_reason
        draw_photo(root / "b.jpg", "blue")
        wait_for(lambda: indexed(library, root / "b.jpg"))
        # `finder status` in another process reads it too.
        import io

        out = io.StringIO()
        code = cli.main(
            [
                "status",
                "--data-dir",
                str(data_dir),
                "--model",
                str(TINY_CONFIG),
                "--pretrained",
                "none",
            ],
            stdout=out,
            stderr=io.StringIO(),
        )
        assert code == 0 and "polled: native watching failed" in out.getvalue()
        assert "inotify watch limit" in out.getvalue()
    finally:
        watcher.stop()
    assert library.status().folders[0].watch == ""  # nobody watches any more


def test_an_unplugged_folder_goes_offline_and_comes_back(
    library: Library, tmp_path: Path, counting_embedder: CountingEmbedder, recorder: Recorder
) -> None:
    usb = tmp_path / "media" / "usb"
    for color in ("red", "green"):
        draw_photo(usb / f"{color}.jpg", color)
    home = tmp_path / "home"
    draw_photo(home / "blue.jpg", "blue")
    library.add_folder(usb)
    library.add_folder(home)
    watcher = start_watching(library, recorder)

    def usb_results() -> list[str]:
        return [
            r.path
            for r in library._search.text("a photo", SearchKind.PHOTOS, k=10)
            if r.path.startswith(str(usb))
        ]

    try:
        assert len(usb_results()) == 2
        counting_embedder.reset()
        usb.rename(tmp_path / "unplugged")  # the drive goes away
        wait_for(lambda: any(r.offline for r in library._catalog.roots()))
        wait_for(lambda: OFFLINE in [r.mode for r in watcher.roots()])
        assert usb_results() == []
        assert library._catalog.counts()["photos"] == 3  # kept
        status = library.status()
        assert [f.offline for f in status.folders] == [False, True]
        (tmp_path / "unplugged").rename(usb)  # and comes back
        wait_for(lambda: not any(r.offline for r in library._catalog.roots()))
        wait_for(lambda: len(usb_results()) == 2)
        assert [r.mode for r in watcher.roots()] == [NATIVE, NATIVE]
        assert counting_embedder.images == 0  # nothing embedded again
        draw_photo(usb / "yellow.jpg", "yellow")  # and it is watched again
        wait_for(lambda: indexed(library, usb / "yellow.jpg"))
    finally:
        watcher.stop()
    library.remove_folder(usb)  # only an explicit remove drops them
    assert library._catalog.counts()["photos"] == 1


def test_a_failing_batch_is_reported_and_retried(
    library: Library, tmp_path: Path, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from finder.core.store.errors import StorageError

    root = tmp_path / "Pictures"
    root.mkdir()
    library.add_folder(root)
    watcher = start_watching(library, recorder)
    try:
        real_run = library._indexer.run
        failures = [StorageError("cannot write the index: the disk is full")]

        def flaky_run(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            if failures:
                raise failures.pop()
            return real_run(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(library._indexer, "run", flaky_run)
        draw_photo(root / "a.jpg")
        wait_for(lambda: indexed(library, root / "a.jpg"))
        assert recorder.errors == ["cannot write the index: the disk is full"]
        assert watcher.running
    finally:
        watcher.stop()


def test_lost_events_lead_to_a_full_rescan(
    library: Library, tmp_path: Path, recorder: Recorder
) -> None:
    root = tmp_path / "Pictures"
    draw_photo(root / "a.jpg")
    library.add_folder(root)
    watcher = start_watching(library, recorder)
    try:
        before = len(recorder.batches)
        # What watchdog logs when the kernel's inotify queue overflowed.
        logging.getLogger("watchdog.observers.inotify_c").warning(
            "Inotify queue overflowed; filesystem events were lost"
        )
        wait_for(lambda: len(recorder.batches) > before)
        assert recorder.batches[-1].full
    finally:
        watcher.stop()


def test_a_read_only_library_cannot_be_watched(
    data_dir: Path, counting_embedder: CountingEmbedder
) -> None:
    Library(data_dir, counting_embedder, writable=True).close()
    reader = Library(data_dir, counting_embedder, writable=False)
    try:
        with pytest.raises(ValueError, match="writable"):
            reader.watch()
    finally:
        reader.close()


# -- reading the text in new pictures (OCR) ---------------------------------------------


def test_new_pictures_get_their_text_read(
    library: Library, tmp_path: Path, recorder: Recorder
) -> None:
    pytest.importorskip("rapidocr_onnxruntime", reason="OCR is not installed")
    from tests.core.test_hybrid import _text_picture

    root = tmp_path / "Pictures"
    draw_photo(root / "plain.png", "blue")
    library.add_folder(root)
    reports: list[OcrReport] = []
    watcher = start_watching(library, recorder, read_text=True, on_text_read=reports.append)
    try:
        _text_picture(["Walrus lighthouse"]).save(root / "shot.jpg", quality=90)
        wait_for(
            lambda: library._catalog.ocr_state(str(root / "shot.jpg")) == "text",
            timeout=120,
            what="the text in the new picture to be read",
        )
        found = library._search.keyword("walrus", SearchKind.PHOTOS)
        assert [Path(r.path).name for r in found] == ["shot.jpg"]
        assert library._catalog.ocr_state(str(root / "plain.png")) == "none"
        assert not any(r.unavailable for r in reports) and not recorder.errors
    finally:
        watcher.stop()


def test_a_change_stops_reading_text_until_it_is_indexed(
    library: Library, tmp_path: Path, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked: list[int] = []

    class SlowOcr:  # sees no text, slowly
        def __init__(self, threads: int = 0) -> None:
            pass

        def has_text(self, image: object) -> bool:
            looked.append(1)
            time.sleep(0.3)
            return False

        def read(self, image: object) -> str:
            return ""

    monkeypatch.setattr(library_module, "Ocr", SlowOcr)
    # The index run's first look asks no detector: every picture is the OCR pass's.
    library._indexer.first_look = FirstLook()
    root = tmp_path / "Pictures"
    for i in range(10):
        draw_photo(root / f"p{i}.png", "red")
    library.add_folder(root)
    looked_when_indexed: list[int] = []

    def on_batch(batch: WatchBatch) -> None:
        recorder.batch(batch)
        if any(p.endswith("late.png") for p in batch.paths):
            looked_when_indexed.append(len(looked))

    watcher = library.watch(
        on_batch_indexed=on_batch, on_error=recorder.error, read_text=True, config=FAST
    )
    watcher.start()
    try:
        wait_for(lambda: looked, what="the OCR pass after the first scan")
        draw_photo(root / "late.png", "blue")
        wait_for(lambda: looked_when_indexed, what="the new picture to be indexed")
        assert looked_when_indexed[0] < 10  # it did not wait for the whole pass
        paths = [root / f"p{i}.png" for i in range(10)] + [root / "late.png"]
        wait_for(
            lambda: all(library._catalog.ocr_state(str(p)) == "none" for p in paths),
            what="the pass to go on and finish",
        )
        assert len(looked) == 11 and not recorder.errors  # each picture looked at once
    finally:
        watcher.stop()


def test_reading_text_stops_between_the_pages_of_a_scan(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "Scans"
    root.mkdir()
    pages = [Image.new("RGB", (300, 400), shade) for shade in ("white", "gray", "black")]
    pages[0].save(root / "scan.pdf", save_all=True, append_images=pages[1:])
    library.add_folder(root)
    library._indexer.run()
    cancel = threading.Event()

    class StoppingOcr:  # a stop arrives while the first page is looked at
        def has_text(self, image: object) -> bool:
            cancel.set()
            return False

    report = read_text_in_images(
        library._catalog,
        StoppingOcr(),  # type: ignore[arg-type]
        cancel=cancel,
    )
    assert report.cancelled and report.looked_at == 0
    assert library._catalog.ocr_state(str(root / "scan.pdf")) is None  # read next time


# -- a model switch beside the watcher -----------------------------------------------------


def test_a_switch_beside_the_watcher_leaves_changed_files_to_it(
    data_dir: Path, counting_embedder: CountingEmbedder, tmp_path: Path, recorder: Recorder
) -> None:
    b = ClipEmbedder(resolve_model_spec(str(TINY24_CONFIG), "none"), threads=1)
    root = tmp_path / "Pictures"
    draw_photo(root / "a.png", "red")
    write_text(root / "note.txt", "a note about the harbour")
    library = Library(data_dir, counting_embedder, writable=True, ocr=False)
    try:
        library.add_folder(root)
        library._indexer.run()
        begin_switch(
            data_dir,
            library._catalog,
            ModelChoice.of(counting_embedder.inner.spec),
            ModelChoice.of(b.spec),
        )
        write_text(root / "note.txt", "a longer note about the harbour and its boats")
        # The switch does not touch the changed file (the watcher re-indexes it): it
        # would drop the active model's vectors.
        assert library.embed_with(b, vectors_only=True).reembedded == 1
        assert load_state(data_dir).target == ModelChoice.of(b.spec)  # not complete
        library._indexer.run(subtrees=[str(root / "note.txt")])  # the watcher's batch
        assert library.embed_with(b, vectors_only=True).reembedded == 1
        assert load_state(data_dir).active == ModelChoice.of(b.spec)  # took over
        for key in (counting_embedder.key, b.key):
            assert _embedded(library, key) == {"a.png", "note.txt"}

        watcher = start_watching(library, recorder)
        try:
            watcher.use_embedder(b)  # as `finder watch` does once the switch took over
            draw_photo(root / "later.png", "green")
            wait_for(
                lambda: "later.png" in _embedded(library, b.key),
                what="the new model to index a new picture",
            )
            assert "later.png" not in _embedded(library, counting_embedder.key)
        finally:
            watcher.stop()
    finally:
        library.close()


def _embedded(library: Library, key: str) -> set[str]:
    model_id = library._catalog.find_model_id(key)
    assert model_id is not None
    ids = library._catalog.embedded_file_ids(model_id)
    return {
        Path(r.path).name
        for r in library._catalog.files_under(library._catalog.roots()[0].id).values()
        if r.id in ids
    }
