"""A watched folder that becomes another folder under the same path (unmounted, mounted
over, replaced) is watched again and rescanned: the watcher does not go deaf."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from finder.core.indexing.observers import NATIVE, OFFLINE
from finder.core.indexing.roots import RootIdentity, identity_of, replaced
from finder.core.library import Library
from finder.core.types import SearchKind
from tests.conftest import CountingEmbedder
from tests.core.indexing.watching import (
    Recorder,
    indexed,
    mount_tmpfs,
    start_watching,
    unmount,
    wait_for,
)
from tests.helpers import draw_photo

pytestmark = pytest.mark.usefixtures("no_thread_left_behind")


# -- detecting it ------------------------------------------------------------------------


def _stat(device: int, inode: int) -> os.stat_result:
    # (mode, ino, dev, nlink, uid, gid, size, atime, mtime, ctime)
    return os.stat_result((0o40755, inode, device, 2, 0, 0, 4096, 0, 0, 0))


def test_the_identity_of_a_folder_is_its_device_and_inode() -> None:
    assert identity_of(_stat(40, 7)) == RootIdentity(device=40, inode=7)


@pytest.mark.parametrize(
    ("watched", "now", "expected"),
    [
        ((40, 7), (40, 7), False),  # the same folder
        ((40, 7), (41, 7), True),  # another file system mounted over it, or unmounted
        ((40, 7), (40, 8), True),  # the folder replaced by another one
        ((40, 7), (41, 8), True),
        ((40, 7), None, False),  # gone: it goes offline instead
        (None, (40, 7), False),  # never seen: nothing to compare with
        (None, None, False),
    ],
)
def test_a_replaced_folder_is_told_apart(
    watched: tuple[int, int] | None, now: tuple[int, int] | None, expected: bool
) -> None:
    before = identity_of(_stat(*watched)) if watched else None
    after = identity_of(_stat(*now)) if now else None
    assert replaced(before, after) is expected


# -- following it ------------------------------------------------------------------------


def _photos(library: Library) -> set[str]:
    return {Path(r.path).name for r in library._search.text("a photo", SearchKind.PHOTOS, k=50)}


def test_a_folder_replaced_under_its_path_is_watched_again(
    library: Library, tmp_path: Path, recorder: Recorder
) -> None:
    root = tmp_path / "Pictures"
    draw_photo(root / "old.jpg", "red")
    library.add_folder(root)
    watcher = start_watching(library, recorder)
    try:
        assert _photos(library) == {"old.jpg"}
        root.rename(tmp_path / "Pictures.old")  # the watch follows the renamed folder
        root.mkdir()  # a new folder (another inode) under the watched path
        draw_photo(root / "new.jpg", "blue")
        wait_for(lambda: indexed(library, root / "new.jpg"), what="the file in the new folder")
        wait_for(lambda: not indexed(library, root / "old.jpg"), what="the old file to go")
        assert _photos(library) == {"new.jpg"}
        draw_photo(root / "later.jpg", "green")  # and it is followed from now on
        wait_for(lambda: indexed(library, root / "later.jpg"))
        # Changes in the old folder, wherever it is now, are none of ours.
        draw_photo(tmp_path / "Pictures.old" / "elsewhere.jpg", "yellow")
        assert watcher.wait_idle(10)
        assert not indexed(library, root / "elsewhere.jpg")
        assert [r.mode for r in watcher.roots()] == [NATIVE]
        assert not recorder.errors
    finally:
        watcher.stop()


def test_a_folder_deleted_and_made_again_is_watched_again(
    library: Library, tmp_path: Path, recorder: Recorder
) -> None:
    root = tmp_path / "Pictures"
    draw_photo(root / "old.jpg", "red")
    library.add_folder(root)
    watcher = start_watching(library, recorder)
    try:
        shutil.rmtree(root)  # its inode may well be reused by the next folder
        root.mkdir()
        draw_photo(root / "new.jpg", "blue")
        wait_for(lambda: indexed(library, root / "new.jpg"), what="the file in the new folder")
        wait_for(lambda: not indexed(library, root / "old.jpg"), what="the old file to go")
        draw_photo(root / "later.jpg", "green")
        wait_for(lambda: indexed(library, root / "later.jpg"))
        wait_for(lambda: [r.mode for r in watcher.roots()] == [NATIVE])
    finally:
        watcher.stop()


# -- real mounts (root only) -------------------------------------------------------------


def test_a_file_system_unmounted_and_another_mounted(
    library: Library,
    tmp_path: Path,
    counting_embedder: CountingEmbedder,
    recorder: Recorder,
    mount_point: Path,
) -> None:
    mount_tmpfs(mount_point)
    draw_photo(mount_point / "first.jpg", "red")
    library.add_folder(mount_point)
    watcher = start_watching(library, recorder)
    try:
        assert _photos(library) == {"first.jpg"}
        unmount(mount_point)
        mount_tmpfs(mount_point)
        draw_photo(mount_point / "second.jpg", "blue")
        wait_for(
            lambda: indexed(library, mount_point / "second.jpg"),
            what="the file on the new file system",
        )
        wait_for(lambda: _photos(library) == {"second.jpg"}, what="the removed file to go")
        wait_for(lambda: [r.mode for r in watcher.roots()] == [NATIVE])
        draw_photo(mount_point / "third.jpg", "green")  # and it is followed from now on
        wait_for(lambda: indexed(library, mount_point / "third.jpg"))
        assert library.status().folders[0].watch == NATIVE
    finally:
        watcher.stop()


def test_an_empty_file_system_mounted_over_the_folder_hides_its_files(
    library: Library, tmp_path: Path, recorder: Recorder, mount_point: Path
) -> None:
    draw_photo(mount_point / "under.jpg", "red")
    library.add_folder(mount_point)
    watcher = start_watching(library, recorder)
    try:
        assert _photos(library) == {"under.jpg"}
        mount_tmpfs(mount_point)  # over it: the folder now looks empty
        wait_for(lambda: library._catalog.roots()[0].offline, what="the folder to go offline")
        assert _photos(library) == set()  # hidden, not deleted
        wait_for(lambda: [r.mode for r in watcher.roots()] == [OFFLINE])
        assert library._catalog.counts()["photos"] == 1
        unmount(mount_point)  # the files are back
        wait_for(lambda: not library._catalog.roots()[0].offline, what="the folder to come back")
        wait_for(lambda: _photos(library) == {"under.jpg"})
        draw_photo(mount_point / "after.jpg", "blue")
        wait_for(lambda: indexed(library, mount_point / "after.jpg"))
    finally:
        watcher.stop()
