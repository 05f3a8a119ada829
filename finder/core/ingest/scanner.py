"""Walk watched folders and list the files finder can index. Read-only."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from finder.core.ingest.extract import kind_of
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


def scan(root: Path, skipped: list[SkippedPath] | None = None) -> Iterator[ScannedFile]:
    """Every indexable file under `root`, skipping hidden and system folders.

    Symlinked folders are not followed (no loops, no leaving the root); symlinked files
    are. Paths that cannot be stored (names that are not valid Unicode) or read are
    reported through `skipped`.
    """
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            if skipped is not None and folder != str(root):
                skipped.append(
                    SkippedPath(folder, f"cannot list folder ({exc.strerror})", unlistable=True)
                )
            continue
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name in SKIPPED_DIRS:
                continue
            if not _storable(entry.path):
                if skipped is not None:
                    skipped.append(
                        SkippedPath(
                            repr(entry.path)[1:-1],
                            "file name is not valid Unicode; rename it to index it",
                        )
                    )
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    continue
                kind = kind_of(Path(name))
                if kind is None:
                    continue
                st = entry.stat(follow_symlinks=True)
            except OSError:
                continue  # broken symlink, or vanished while we looked: nothing to index
            if not stat.S_ISREG(st.st_mode):
                continue
            yield ScannedFile(entry.path, st.st_size, st.st_mtime_ns, kind)


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
    no symlinked folder, and a name we can store. (The file kind is not checked.)"""
    rel = os.path.relpath(path, root)
    if rel == ".":
        return True
    if rel.startswith(".." + os.sep) or rel == ".." or not _storable(path):
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
    root: Path, sub: Path, skipped: list[SkippedPath] | None = None
) -> Iterator[ScannedFile]:
    """What `scan(root)` would yield at `sub` or below it (a file, or a folder's tree)."""
    if sub == root:
        yield from scan(root, skipped)
        return
    if not indexable(str(sub), str(root)):
        return
    try:
        st = os.lstat(sub)
    except OSError:
        return  # gone: nothing there to index
    if stat.S_ISDIR(st.st_mode):
        try:
            os.scandir(sub).close()
        except OSError as exc:
            if skipped is not None:
                skipped.append(
                    SkippedPath(str(sub), f"cannot list folder ({exc.strerror})", unlistable=True)
                )
            return
        yield from scan(sub, skipped)
        return
    kind = kind_of(sub)
    if kind is None:
        return
    try:
        st = os.stat(sub)  # symlinked files are followed, as in scan()
    except OSError:
        return
    if stat.S_ISREG(st.st_mode):
        yield ScannedFile(str(sub), st.st_size, st.st_mtime_ns, kind)


def _storable(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def content_hash(path: str | Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of the file's bytes, streamed (a file may be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()[:32]
