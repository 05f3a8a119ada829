"""The watcher with real watchdog observers on temp folders: wait for conditions, never sleep."""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from watchdog.observers import Observer

from finder import cli
from finder.core import indexer as indexer_module
from finder.core.library import Library
from finder.core.types import SearchKind
from finder.core.watcher import NATIVE, OFFLINE, POLLING, WatchBatch, WatchConfig, Watcher
from tests.conftest import CountingEmbedder
from tests.helpers import TINY_CONFIG, draw_photo, write_text

FAST = WatchConfig(quiet_s=0.3, max_delay_s=3.0, recheck_s=0.3, poll_interval_s=0.2,
                   save_every_s=0.5, retry_s=0.2)


def wait_for(condition: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


@pytest.fixture(autouse=True)
def _no_thread_left_behind() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads left running: {left}"


class Recorder:
    def __init__(self) -> None:
        self.batches: list[WatchBatch] = []
        self.errors: list[str] = []

    def batch(self, batch: WatchBatch) -> None:
        self.batches.append(batch)

    def error(self, message: str) -> None:
        self.errors.append(message)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _watch(library: Library, recorder: Recorder, **kw: object) -> Watcher:
    watcher = Watcher(library, on_batch_indexed=recorder.batch, on_error=recorder.error,
                      config=kw.pop("config", FAST), **kw)  # type: ignore[arg-type]
    watcher.start()
    wait_for(lambda: recorder.batches or recorder.errors, what="the reconciliation scan")
    assert not recorder.errors
    return watcher


def _indexed(library: Library, path: Path) -> bool:
    record = library.catalog.file_by_path(str(path))
    return record is not None


def _text_of(library: Library, path: Path) -> str:
    record = library.catalog.file_by_path(str(path))
    if record is None:
        return ""
    rows = library.catalog.items(library.catalog.item_ids_of_files([record.id]))
    return " ".join(row.text or "" for row in rows.values())


def test_reconciles_on_start_then_follows_changes(library: Library, tmp_path: Path,
                                                  counting_embedder: CountingEmbedder,
                                                  recorder: Recorder) -> None:
    root = tmp_path / "Pictures"
    draw_photo(root / "old.jpg", "red")
    write_text(root / "notes.txt", "a shopping list: apples and pears")
    library.add_folder(root)
    library.indexer.run()
    (root / "old.jpg").unlink()  # while finder was not running
    draw_photo(root / "offline-new.png", "blue")
    counting_embedder.reset()
    watcher = _watch(library, recorder)
    try:
        assert recorder.batches[0].full
        assert not _indexed(library, root / "old.jpg")
        assert _indexed(library, root / "offline-new.png")
        assert [r.mode for r in watcher.roots()] == [NATIVE]

        draw_photo(root / "new" / "deep" / "green.jpg", "green")
        wait_for(lambda: _indexed(library, root / "new" / "deep" / "green.jpg"))
        write_text(root / "notes.txt", "sunset over the sea, a longer note than before")
        wait_for(lambda: "sunset" in _text_of(library, root / "notes.txt"))
        (root / "offline-new.png").unlink()
        wait_for(lambda: not _indexed(library, root / "offline-new.png"))
        assert watcher.wait_idle(10)
        assert counting_embedder.images == 2 and counting_embedder.texts == 1
    finally:
        watcher.stop()
    assert not watcher.running


def test_a_file_is_embedded_once_and_only_when_complete(library: Library, tmp_path: Path,
                                                        counting_embedder: CountingEmbedder,
                                                        recorder: Recorder) -> None:
    root = tmp_path / "Downloads"
    root.mkdir()
    library.add_folder(root)
    watcher = _watch(library, recorder)
    try:
        data = draw_photo(tmp_path / "source.png", "purple", size=(400, 300)).read_bytes()
        chunks = [data[i:i + len(data) // 50 + 1] for i in range(0, len(data), len(data) // 50 + 1)]
        target = root / "photo.png"
        with open(target, "wb") as f:
            for chunk in chunks[:25]:
                f.write(chunk)
                f.flush()
            # While it is half written, another file comes and goes through a batch.
            draw_photo(root / "other.jpg", "red")
            wait_for(lambda: _indexed(library, root / "other.jpg"))
            assert not _indexed(library, target), "a half-written file was indexed"
            for chunk in chunks[25:]:
                f.write(chunk)
                f.flush()
        wait_for(lambda: _indexed(library, target))
        assert watcher.wait_idle(10)
        record = library.catalog.file_by_path(str(target))
        assert record is not None and record.error is None
        assert counting_embedder.images == 2  # each file once
    finally:
        watcher.stop()


def test_save_via_rename_reembeds_once(library: Library, tmp_path: Path,
                                       counting_embedder: CountingEmbedder,
                                       recorder: Recorder) -> None:
    root = tmp_path / "Documents"
    write_text(root / "essay.md", "first draft about mountains")
    library.add_folder(root)
    watcher = _watch(library, recorder)
    try:
        counting_embedder.reset()
        # An editor's save: write a temporary file, then rename it over the original.
        tmp = write_text(root / ".essay.md.swp", "second draft about rivers and lakes, longer")
        os.replace(tmp, root / "essay.md")
        wait_for(lambda: "rivers" in _text_of(library, root / "essay.md"))
        assert watcher.wait_idle(10)
        assert counting_embedder.texts == 1
        assert library.catalog.counts()["documents"] == 1
    finally:
        watcher.stop()


def test_a_moved_folder_is_relinked_by_path(library: Library, tmp_path: Path,
                                            counting_embedder: CountingEmbedder,
                                            recorder: Recorder,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "Pictures"
    for i in range(40):
        draw_photo(root / "2023" / "trip" / f"{i:03d}.png", "blue", size=(32, 32))
    library.add_folder(root)
    watcher = _watch(library, recorder)
    try:
        counting_embedder.reset()
        hashed: list[str] = []
        real_hash = indexer_module.content_hash
        monkeypatch.setattr(indexer_module, "content_hash",
                            lambda p: hashed.append(str(p)) or real_hash(p))
        (root / "2023" / "trip").rename(root / "holidays")
        (root / "2023").rename(root / "archive-2023")
        wait_for(lambda: _indexed(library, root / "holidays" / "039.png"))
        assert watcher.wait_idle(10)
        assert library.catalog.counts()["photos"] == 40
        assert not library.catalog.files_within(
            library.catalog.roots()[0].id, str(root / "2023"))
        assert counting_embedder.images == 0 and hashed == []  # not embedded, not even read
        assert sum(b.report.moved for b in recorder.batches) == 40
    finally:
        watcher.stop()


def test_bursts_are_coalesced(library: Library, tmp_path: Path,
                              counting_embedder: CountingEmbedder, recorder: Recorder) -> None:
    root = tmp_path / "Library"
    for i in range(10):
        write_text(root / "docs" / f"chapter{i}.md", f"chapter {i} of the old manual")
    library.add_folder(root)
    watcher = _watch(library, recorder)
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
        wait_for(lambda: library.catalog.counts()["photos"] == 150
                 and _indexed(library, root / "docs" / "appendix.md")
                 and not _indexed(library, root / "docs" / "chapter9.md"), timeout=60)
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


def test_falls_back_to_polling_and_says_so(library: Library, tmp_path: Path, data_dir: Path,
                                           recorder: Recorder) -> None:
    root = tmp_path / "Share"
    draw_photo(root / "a.jpg", "red")
    library.add_folder(root)
    watcher = _watch(library, recorder, observer_factory=_ExhaustedInotify)
    try:
        (mode,) = watcher.roots()
        assert mode.mode == POLLING and "inotify watch limit" in mode.reason
        folder = library.status().folders[0]
        assert folder.watch == POLLING and "inotify watch limit" in folder.watch_reason
        draw_photo(root / "b.jpg", "blue")
        wait_for(lambda: _indexed(library, root / "b.jpg"))
        # `finder status` in another process reads it too.
        import io

        out = io.StringIO()
        code = cli.main(["status", "--data-dir", str(data_dir), "--model", str(TINY_CONFIG),
                         "--pretrained", "none"], stdout=out, stderr=io.StringIO())
        assert code == 0 and "polled: native watching failed" in out.getvalue()
        assert "inotify watch limit" in out.getvalue()
    finally:
        watcher.stop()
    assert library.status().folders[0].watch == ""  # nobody watches any more


def test_an_unplugged_folder_goes_offline_and_comes_back(library: Library, tmp_path: Path,
                                                         counting_embedder: CountingEmbedder,
                                                         recorder: Recorder) -> None:
    usb = tmp_path / "media" / "usb"
    for color in ("red", "green"):
        draw_photo(usb / f"{color}.jpg", color)
    home = tmp_path / "home"
    draw_photo(home / "blue.jpg", "blue")
    library.add_folder(usb)
    library.add_folder(home)
    watcher = _watch(library, recorder)

    def usb_results() -> list[str]:
        return [r.path for r in library.search.text("a photo", SearchKind.PHOTOS, k=10)
                if r.path.startswith(str(usb))]

    try:
        assert len(usb_results()) == 2
        counting_embedder.reset()
        usb.rename(tmp_path / "unplugged")  # the drive goes away
        wait_for(lambda: any(r.offline for r in library.catalog.roots()))
        wait_for(lambda: OFFLINE in [r.mode for r in watcher.roots()])
        assert usb_results() == []
        assert library.catalog.counts()["photos"] == 3  # kept
        status = library.status()
        assert [f.offline for f in status.folders] == [False, True]
        (tmp_path / "unplugged").rename(usb)  # and comes back
        wait_for(lambda: not any(r.offline for r in library.catalog.roots()))
        wait_for(lambda: len(usb_results()) == 2)
        assert [r.mode for r in watcher.roots()] == [NATIVE, NATIVE]
        assert counting_embedder.images == 0  # nothing embedded again
        draw_photo(usb / "yellow.jpg", "yellow")  # and it is watched again
        wait_for(lambda: _indexed(library, usb / "yellow.jpg"))
    finally:
        watcher.stop()
    library.remove_folder(usb)  # only an explicit remove drops them
    assert library.catalog.counts()["photos"] == 1


def test_a_failing_batch_is_reported_and_retried(library: Library, tmp_path: Path,
                                                 recorder: Recorder,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from finder.core.catalog import StorageError

    root = tmp_path / "Pictures"
    root.mkdir()
    library.add_folder(root)
    watcher = _watch(library, recorder)
    try:
        real_run = library.indexer.run
        failures = [StorageError("cannot write the index: the disk is full")]

        def flaky_run(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            if failures:
                raise failures.pop()
            return real_run(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(library.indexer, "run", flaky_run)
        draw_photo(root / "a.jpg")
        wait_for(lambda: _indexed(library, root / "a.jpg"))
        assert recorder.errors == ["cannot write the index: the disk is full"]
        assert watcher.running
    finally:
        watcher.stop()


def test_lost_events_lead_to_a_full_rescan(library: Library, tmp_path: Path,
                                           recorder: Recorder) -> None:
    root = tmp_path / "Pictures"
    draw_photo(root / "a.jpg")
    library.add_folder(root)
    watcher = _watch(library, recorder)
    try:
        before = len(recorder.batches)
        # What watchdog logs when the kernel's inotify queue overflowed.
        logging.getLogger("watchdog.observers.inotify_c").warning(
            "Inotify queue overflowed; filesystem events were lost")
        wait_for(lambda: len(recorder.batches) > before)
        assert recorder.batches[-1].full
    finally:
        watcher.stop()


def test_a_read_only_library_cannot_be_watched(data_dir: Path,
                                              counting_embedder: CountingEmbedder) -> None:
    Library(data_dir, counting_embedder, writable=True).close()
    reader = Library(data_dir, counting_embedder, writable=False)
    try:
        with pytest.raises(ValueError, match="writable"):
            Watcher(reader)
    finally:
        reader.close()
