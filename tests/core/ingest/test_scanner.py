"""A folder that cannot be listed (mode 000) or listed but not entered (mode 644: read
without execute) is reported with its reason, and what was indexed in it is kept.

The tests run as root here, and root ignores permission bits: the fakes make the file
system answer as it does for a normal user; the real-permission test runs where it can.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from finder.core.ingest import scanner
from finder.core.ingest.scanner import SkippedPath, scan, scan_subtree
from finder.core.library import Library
from tests.helpers import draw_photo

DENIED = PermissionError(errno.EACCES, "Permission denied")


def _tree(root: Path) -> Path:
    draw_photo(root / "top.jpg")
    for name in ("a.jpg", "b.png"):
        draw_photo(root / "closed" / name)
    draw_photo(root / "closed" / "inner" / "c.jpg")
    return root / "closed"


def _not_enterable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """`folder` answers as a mode-644 folder does: its names list, nothing in it can be
    looked at (no execute permission)."""
    real_stat = os.stat

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if not isinstance(path, int) and os.fsdecode(path).startswith(str(folder) + os.sep):
            raise DENIED
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(scanner.os, "stat", stat)


class _ClosedEntry:
    """What os.scandir yields inside a folder listed without execute permission."""

    def __init__(self, entry: os.DirEntry[str]) -> None:
        self.name, self.path = entry.name, entry.path
        self._dir = entry.is_dir(follow_symlinks=False)  # from the listing's d_type

    def is_dir(self, follow_symlinks: bool = True) -> bool:
        return self._dir

    def is_symlink(self) -> bool:
        return False

    def stat(self, follow_symlinks: bool = True) -> os.stat_result:
        raise DENIED


def _entries_unreadable(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    real_scandir = os.scandir

    class Listing:
        def __init__(self, path: Any) -> None:
            with real_scandir(path) as entries:
                self.entries = [_ClosedEntry(e) for e in entries]

        def __enter__(self) -> list[_ClosedEntry]:
            return self.entries

        def __exit__(self, *exc: object) -> None:
            pass

    def scandir(path: Any = ".") -> Any:
        if isinstance(path, int) or os.fspath(path) != str(folder):
            return real_scandir(path)
        return Listing(path)

    monkeypatch.setattr(scanner.os, "scandir", scandir)


@pytest.mark.parametrize("fake", [_not_enterable, _entries_unreadable])
def test_a_folder_listed_but_not_entered_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: Any
) -> None:
    root = tmp_path / "Pictures"
    closed = _tree(root)
    fake(monkeypatch, closed)
    skipped: list[SkippedPath] = []
    found = [f.path for f in scan(root, skipped)]
    assert found == [str(root / "top.jpg")]
    assert skipped == [SkippedPath(str(closed), "cannot open folder (Permission denied)", True)]
    skipped.clear()
    assert list(scan_subtree(root, closed, skipped)) == []
    assert [s.path for s in skipped] == [str(closed)] and skipped[0].unlistable


def test_a_root_listed_but_not_entered_keeps_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "Pictures"
    _tree(root)
    _not_enterable(monkeypatch, root)
    skipped: list[SkippedPath] = []
    assert list(scan(root, skipped)) == []
    assert [(s.path, s.unlistable) for s in skipped] == [(str(root), True)]


@pytest.mark.parametrize("fake", [_not_enterable, _entries_unreadable])
def test_its_indexed_files_are_kept_not_removed(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: Any
) -> None:
    root = tmp_path / "Pictures"
    closed = _tree(root)
    library.add_folder(root)
    library._indexer.run()
    fake(monkeypatch, closed)
    report = library._indexer.run()
    assert report.removed == 0  # it said "3 removed", with no reason
    assert [(e.path, e.reason) for e in report.errors] == [
        (str(closed), "cannot open folder (Permission denied)")
    ]
    assert library._catalog.counts()["photos"] == 4


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permission bits")
@pytest.mark.parametrize("mode", [0o644, 0o000])
def test_real_permissions(library: Library, tmp_path: Path, mode: int) -> None:
    root = tmp_path / "Pictures"
    closed = _tree(root)
    library.add_folder(root)
    library._indexer.run()
    closed.chmod(mode)
    try:
        report = library._indexer.run()
    finally:
        closed.chmod(0o755)
    assert report.removed == 0
    assert [e.path for e in report.errors] == [str(closed)]
    assert "Permission denied" in report.errors[0].reason
    assert library._catalog.counts()["photos"] == 4


def test_what_the_person_left_out_is_not_even_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An excluded folder is pruned from the walk (its files were listed, then dropped)."""
    draw_photo(tmp_path / "keep" / "a.jpg", "red")
    draw_photo(tmp_path / "private" / "deep" / "b.jpg", "blue")
    draw_photo(tmp_path / "c.jpg", "green")
    listed: list[str] = []
    real_open = scanner._open_folder

    def spying(folder: str, **kwargs: Any) -> Any:
        listed.append(os.path.basename(folder))
        return real_open(folder, **kwargs)

    monkeypatch.setattr(scanner, "_open_folder", spying)
    private = str(tmp_path / "private")
    found = scan(tmp_path, leave_out=lambda path: path == private or path.endswith("c.jpg"))
    assert sorted(os.path.basename(f.path) for f in found) == ["a.jpg"]
    assert "private" not in listed and "deep" not in listed
    found_below = scan_subtree(tmp_path, tmp_path, leave_out=lambda path: path == private)
    assert sorted(os.path.basename(f.path) for f in found_below) == ["a.jpg", "c.jpg"]
