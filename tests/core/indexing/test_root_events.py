"""Hearing that a watched folder itself ended: unmounted, deleted, moved away."""

from __future__ import annotations

import shutil
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from finder.core.indexing.root_events import (
    IN_DELETE_SELF,
    IN_IGNORED,
    IN_MOVE_SELF,
    IN_Q_OVERFLOW,
    IN_UNMOUNT,
    RootEvents,
    parse_events,
)
from tests.core.indexing.watching import mount_tmpfs, unmount


def _event(wd: int, mask: int, name: bytes = b"") -> bytes:
    padded = name + b"\0" * (-len(name) % 16) if name else b""
    return struct.pack("iIII", wd, mask, 0, len(padded)) + padded


def test_events_are_parsed_with_their_names_skipped() -> None:
    buffer = _event(1, IN_UNMOUNT) + _event(2, 0x100, b"photo.jpg") + _event(1, IN_IGNORED)
    assert parse_events(buffer) == [(1, IN_UNMOUNT), (2, 0x100), (1, IN_IGNORED)]


def test_a_torn_buffer_yields_the_whole_events_only() -> None:
    buffer = _event(3, IN_DELETE_SELF) + _event(4, IN_MOVE_SELF)[:7]
    assert parse_events(buffer) == [(3, IN_DELETE_SELF)]
    assert parse_events(b"") == []


linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


@pytest.fixture
def events() -> Iterator[RootEvents]:
    heard = RootEvents()
    if not heard.available:
        pytest.skip("no inotify instance available")
    yield heard
    heard.close()


@linux_only
def test_nothing_is_heard_while_the_folder_only_changes_inside(
    events: RootEvents, tmp_path: Path
) -> None:
    folder = tmp_path / "Pictures"
    folder.mkdir()
    events.add(str(folder))
    (folder / "a.jpg").write_bytes(b"x")
    (folder / "sub").mkdir()
    (folder / "a.jpg").unlink()
    assert events.ended() == set()


@linux_only
def test_a_deleted_folder_is_heard_once(events: RootEvents, tmp_path: Path) -> None:
    folder = tmp_path / "Pictures"
    folder.mkdir()
    events.add(str(folder))
    shutil.rmtree(folder)
    assert events.ended() == {str(folder)}
    assert events.ended() == set()  # its watch is gone with it


@linux_only
def test_a_folder_moved_away_is_heard(events: RootEvents, tmp_path: Path) -> None:
    folder = tmp_path / "Pictures"
    folder.mkdir()
    events.add(str(folder))
    folder.rename(tmp_path / "Elsewhere")
    assert events.ended() == {str(folder)}


@linux_only
def test_a_removed_folder_is_no_longer_heard(events: RootEvents, tmp_path: Path) -> None:
    folder = tmp_path / "Pictures"
    folder.mkdir()
    events.add(str(folder))
    events.remove(str(folder))
    shutil.rmtree(folder)
    assert events.ended() == set()


@linux_only
def test_a_missing_folder_cannot_be_added(events: RootEvents, tmp_path: Path) -> None:
    events.add(str(tmp_path / "missing"))
    assert events.ended() == set()


@linux_only
def test_an_unmounted_file_system_is_heard(events: RootEvents, mount_point: Path) -> None:
    mount_tmpfs(mount_point)
    events.add(str(mount_point))
    unmount(mount_point)
    assert events.ended() == {str(mount_point)}


def test_closed_it_hears_nothing(tmp_path: Path) -> None:
    events = RootEvents()
    events.close()
    events.add(str(tmp_path))
    assert not events.available and events.ended() == set()


def test_an_overflow_may_have_hidden_any_ending(
    events: RootEvents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "Pictures"
    folder.mkdir()
    events.add(str(folder))
    reads = iter([_event(-1, IN_Q_OVERFLOW)])

    def read(fd: int, size: int) -> bytes:
        try:
            return next(reads)
        except StopIteration:
            raise BlockingIOError from None

    monkeypatch.setattr("finder.core.indexing.root_events.os.read", read)
    assert events.ended() == {str(folder)}
