"""Walk watched folders and list the files finder can index. Read-only."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finder.core.ingest.extract import kind_of
from finder.core.ingest.photo_formats import is_raw, paired_raws, shown_partner
from finder.core.types import FileKind

# Folders that hold no user content, or content the user did not put there.
SKIPPED_DIRS = frozenset(
    {
        "__pycache__",
        "node_modules",
        "$RECYCLE.BIN",
        "System Volume Information",
        "lost+found",
        "@eaDir",
    }
)


@dataclass(frozen=True)
class ScannedFile:
    path: str
    size: int
    mtime_ns: int
    kind: FileKind


@dataclass(frozen=True)
class SkippedPath:
    path: str
    reason: str
    unlistable: bool = False  # a folder we could not look into: what we knew of it is kept


def scan(
    root: Path,
    skipped: list[SkippedPath] | None = None,
    leave_out: Callable[[str], bool] | None = None,
) -> Iterator[ScannedFile]:
    """Every indexable file under `root`, skipping hidden and system folders, and the
    files and folders `leave_out` says the person excluded (not even listed).

    Symlinked folders are not followed (no loops, no leaving the root); symlinked files
    are. Folders that cannot be read are reported through `skipped`. A name that is not
    valid UTF-8 is kept as os.fsdecode gives it (surrogate escapes): the real name.
    """
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            entries = _open_folder(folder)
        except _ClosedFolder as closed:
            # (A root that cannot be listed at all is the indexer's: it goes offline.)
            if skipped is not None and (folder != str(root) or closed.listed):
                skipped.append(SkippedPath(folder, closed.reason, unlistable=True))
            continue
        found: list[ScannedFile] = []
        subfolders = len(stack)
        try:
            for entry in entries:
                if leave_out is not None and leave_out(entry.path):
                    continue
                scanned = _scanned(entry, stack, skipped)
                if scanned is not None:
                    found.append(scanned)
        except PermissionError as exc:
            # Listed but not entered after all: what we knew of the folder is kept.
            del stack[subfolders:]
            if skipped is not None:
                skipped.append(SkippedPath(folder, _closed_reason(exc), unlistable=True))
            continue
        paired = paired_raws(f.path for f in found)  # one photo: its JPEG is read
        yield from (f for f in found if f.path not in paired)


class _ClosedFolder(Exception):
    """A folder that cannot be listed, or listed but not entered."""

    def __init__(self, reason: str, listed: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.listed = listed  # its names could be read (it is there), not its files


def _open_folder(folder: str, *, list_it: bool = True) -> list[os.DirEntry[str]]:
    """The folder's entries (none unless `list_it`); _ClosedFolder saying why not.

    Listing needs read permission; reaching the entries needs execute (search)
    permission too, which a folder of mode 644 lacks: its names list, every look at
    them fails, and its files would seem deleted.
    """
    try:
        with os.scandir(folder) as listing:
            entries = list(listing) if list_it else []
    except OSError as exc:
        raise _ClosedFolder(f"cannot list folder ({exc.strerror or exc})", False) from exc
    try:
        os.stat(os.path.join(folder, os.curdir))  # "." looked up inside: needs execute
    except OSError as exc:
        raise _ClosedFolder(_closed_reason(exc), True) from exc
    return entries


def _closed_reason(exc: OSError) -> str:
    return f"cannot open folder ({exc.strerror or exc})"


def _scanned(
    entry: os.DirEntry[str], stack: list[str], skipped: list[SkippedPath] | None
) -> ScannedFile | None:
    """The entry as a file to index; a folder is pushed on `stack`. PermissionError when
    the entry's own folder cannot be entered."""
    name = entry.name
    if name.startswith(".") or name in SKIPPED_DIRS:
        return None
    try:
        if entry.is_dir(follow_symlinks=False):
            stack.append(entry.path)
            return None
        kind = kind_of(Path(name))
        if kind is None:
            return None
        st = entry.stat(follow_symlinks=True)
    except PermissionError:
        if not entry.is_symlink():
            raise  # a plain entry we listed but may not look at: its folder is closed
        return None  # a symlink into a place we may not enter: nothing to index here
    except OSError:
        return None  # broken symlink, or vanished while we looked: nothing to index
    if not stat.S_ISREG(st.st_mode):
        return None
    return ScannedFile(entry.path, st.st_size, st.st_mtime_ns, kind)


def is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def outermost(paths: Iterable[str]) -> list[str]:
    """The paths that are not inside another one of them."""
    out: list[str] = []
    # With the separator sorting first, a folder's contents follow it directly.
    for path in sorted(set(paths), key=lambda p: p.replace(os.sep, "\0")):
        if not out or not is_within(path, out[-1]):
            out.append(path)
    return out


def indexable(path: str, root: str) -> bool:
    """Whether `scan(root)` would reach `path`: no hidden or system folder on the way,
    no symlinked folder. (The file kind is not checked.)"""
    rel = os.path.relpath(path, root)
    if rel == ".":
        return True
    if rel.startswith(".." + os.sep) or rel == "..":
        return False
    parts = rel.split(os.sep)
    if any(p.startswith(".") or p in SKIPPED_DIRS for p in parts):
        return False
    folder = root
    for part in parts[:-1]:
        folder = os.path.join(folder, part)
        if os.path.islink(folder):
            return False
    return True


def scan_subtree(
    root: Path,
    sub: Path,
    skipped: list[SkippedPath] | None = None,
    leave_out: Callable[[str], bool] | None = None,
) -> Iterator[ScannedFile]:
    """What `scan(root)` would yield at `sub` or below it (a file, or a folder's tree)."""
    if sub == root:
        yield from scan(root, skipped, leave_out)
        return
    if not indexable(str(sub), str(root)):
        return
    try:
        st = os.lstat(sub)
    except OSError:
        return  # gone: nothing there to index
    if stat.S_ISDIR(st.st_mode):
        try:
            _open_folder(str(sub), list_it=False)
        except _ClosedFolder as closed:
            if skipped is not None:
                skipped.append(SkippedPath(str(sub), closed.reason, unlistable=True))
            return
        yield from scan(sub, skipped, leave_out)
        return
    kind = kind_of(sub)
    if kind is None or (is_raw(sub) and shown_partner(str(sub)) is not None):
        return
    try:
        st = os.stat(sub)  # symlinked files are followed, as in scan()
    except OSError:
        return
    if stat.S_ISREG(st.st_mode):
        yield ScannedFile(str(sub), st.st_size, st.st_mtime_ns, kind)


def content_hash(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of the file's bytes, streamed (a file may be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return _catalog_form(digest)


def hash_of(data: bytes) -> str:
    """content_hash of a file already read whole."""
    return _catalog_form(hashlib.sha256(data))


def _catalog_form(digest: Any) -> str:
    """A content hash as the catalog keeps it (the first 128 bits, in hex)."""
    hexdigest: str = digest.hexdigest()
    return hexdigest[:32]
