"""Which of the library's folders are watched, and how.

Follows the catalog's folders: watches new ones, drops removed ones, and notices folders
that went away or came back (a drive plugged in over an empty mount point). The watcher
calls `follow` every few seconds from its worker thread and rescans what it returns.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from finder.core.indexing.observers import OFFLINE, Observers, WatchedRoot
from finder.core.store.rows import Root


@dataclass
class RootCheck:
    """What one look at the folders found."""

    modes: dict[str, WatchedRoot]  # how each folder is watched now
    rescan: list[str] = field(default_factory=list)  # folders to scan again


class RootWatches:
    def __init__(self, observers: Observers) -> None:
        self.observers = observers
        self.modes: dict[str, WatchedRoot] = {}  # what the last `follow` found

    def follow(self, roots: Sequence[Root]) -> RootCheck:
        """Bring the watches in line with `roots` (the catalog's folders)."""
        observers = self.observers
        check = RootCheck(dict(self.modes))
        modes = check.modes
        wanted = {root.path for root in roots}
        for path in observers.paths():
            if path not in wanted:
                observers.unwatch(path)
        for path in list(modes):
            if path not in wanted:
                del modes[path]
        for root in roots:
            present = _has_entries(root.path) if root.offline else os.path.isdir(root.path)
            watched = root.path in observers
            was_offline = root.path in modes and modes[root.path].mode == OFFLINE
            if present and (not watched or (root.offline and was_offline)):
                if watched:  # the old watch sees the empty mount point, not the drive
                    observers.unwatch(root.path)
                modes[root.path] = observers.watch(root.path)
                if root.offline or was_offline:
                    check.rescan.append(root.path)  # the indexer brings it back
            elif not present:
                if watched:
                    observers.unwatch(root.path)
                    check.rescan.append(root.path)  # the indexer marks it offline
                modes[root.path] = WatchedRoot(root.path, OFFLINE, "folder not found")
        self.modes = dict(modes)
        return check


def _has_entries(path: str) -> bool:
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is not None
    except OSError:
        return False
