"""Folders and files the person left out (issue #17): never read, never shown.

An exclusion is a pattern, for one watched folder or for all of them:
  - an absolute path ("/home/me/Pictures/private", "~/Photos/tmp"): that folder (and
    everything below it) or that file;
  - a name or a glob without "/" ("node_modules", "*.tmp", "Screenshots", "draft*"): any
    file or folder of that name at any depth; a folder leaves out all below it;
  - a glob with "/" ("2019/raw", "*/cache", "clients/*/invoices"): the path below the
    watched folder ("*" crosses "/"), again with all below a folder it names.
Names and globs match in any case ("screenshots" leaves out "Screenshots"): two folders
whose names differ only in case are rarer than a pattern typed in lower case. Pure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Protocol, TypeVar


@dataclass(frozen=True)
class Exclusion:
    pattern: str  # as normalise() left it
    folder: str | None = None  # the watched folder it applies to; None: every one


class _Found(Protocol):
    @property
    def path(self) -> str: ...


_F = TypeVar("_F", bound=_Found)


class ExclusionError(ValueError):
    """A pattern that cannot be an exclusion (empty, or a path outside its folder)."""


def normalise(pattern: str, folder: str | None = None) -> str:
    """The pattern as stored: an absolute path (~ expanded, no trailing separator, not
    resolved: a link is left out by its own name), or a name or glob with '/' as the
    separator and no leading "./" or trailing "/"."""
    text = pattern.strip()
    if text.startswith("~"):
        text = os.path.expanduser(text)
    if os.path.isabs(text):
        path = os.path.normpath(text)
        if folder is not None and not is_within(path, folder):
            raise ExclusionError(f"{path} is not inside {folder}")
        return path
    text = text.replace(os.sep, "/").removeprefix("./").strip("/")
    if not text or text in (".", ".."):
        raise ExclusionError(f"{pattern!r} names no file or folder")
    return text


def is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class ExcludedPaths:
    """The exclusions of a library, asked about paths below its watched folders."""

    def __init__(self, exclusions: Iterable[Exclusion] = (), roots: Iterable[str] = ()) -> None:
        self.exclusions = tuple(exclusions)
        self.roots = tuple(roots)  # the watched folders, for `hides`
        self._absolute = [e for e in self.exclusions if os.path.isabs(e.pattern)]
        self._names = [
            (e.pattern.lower(), e.folder) for e in self.exclusions if _is_name(e.pattern)
        ]
        self._relative = [
            (e.pattern.lower(), e.folder)
            for e in self.exclusions
            if not os.path.isabs(e.pattern) and not _is_name(e.pattern)
        ]
        self._folders: dict[tuple[str, str], bool] = {}

    def __bool__(self) -> bool:
        return bool(self.exclusions)

    def entry_rule(self, root: str) -> Callable[[str], bool] | None:
        """For a walk of `root` that prunes what is left out: whether an entry (file or
        folder) at this path is left out, its folders having been asked already. None
        when nothing is excluded there."""
        if not any(
            e.folder is None or is_within(e.folder, root) or is_within(root, e.folder)
            for e in self.exclusions
        ):
            return None
        return lambda path: self._entry_excluded(path, root)

    def excludes(self, path: str, root: str) -> bool:
        """Whether `path` (a file or folder at or below the watched folder `root`) is left
        out, itself or by a folder on the way to it. Folders' answers are remembered:
        the files of one folder cost one check each."""
        if not self.exclusions or not is_within(path, root):
            return False
        if path == root:
            return self._entry_excluded(path, root)
        return self._folder_excluded(os.path.dirname(path), root) or self._entry_excluded(
            path, root
        )

    def hides(self, path: str) -> bool:
        """Whether a file found below one of `roots` is left out (a search's results)."""
        if not self.exclusions:
            return False
        return any(self.excludes(path, root) for root in self.roots if is_within(path, root))

    def visible(self, rows: dict[int, _F]) -> dict[int, _F]:
        """`rows` (catalog rows by id) less those of files left out."""
        if not self.exclusions:
            return rows
        return {key: row for key, row in rows.items() if not self.hides(row.path)}

    def kept(self, files: Iterable[_F], root: str) -> Iterator[_F]:
        """`files` (found below the watched folder `root`) less those left out."""
        if self.entry_rule(root) is None:
            yield from files
            return
        for found in files:
            if not self.excludes(found.path, root):
                yield found

    def _folder_excluded(self, folder: str, root: str) -> bool:
        key = (folder, root)
        known = self._folders.get(key)
        if known is None:
            known = self.excludes(folder, root)
            self._folders[key] = known
        return known

    def _entry_excluded(self, path: str, root: str) -> bool:
        for e in self._absolute:
            if is_within(path, e.pattern) and (e.folder is None or is_within(path, e.folder)):
                return True
        if self._names:
            name = os.path.basename(path).lower()
            for pattern, folder in self._names:
                if (folder is None or is_within(path, folder)) and fnmatchcase(name, pattern):
                    return True
        for pattern, folder in self._relative:
            base = folder if folder is not None else root
            if is_within(path, base) and path != base:
                rel = os.path.relpath(path, base).replace(os.sep, "/").lower()
                if fnmatchcase(rel, pattern):
                    return True
        return False


def _is_name(pattern: str) -> bool:
    return "/" not in pattern and not os.path.isabs(pattern)
