"""Which of the library's folders are watched, and how.

Follows the catalog's folders: watches new ones, drops removed ones, and notices folders
that went away or came back (a drive plugged in over an empty mount point), or that are
another folder now under the same path: a file system unmounted, or mounted over it, or
the folder replaced. A watch follows the folder it was set on (inotify watches an inode;
after an unmount it is silently dropped), so such a folder is watched again and rescanned.
The watcher calls `follow` every few seconds from its worker thread and rescans what it
returns.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from finder.core.indexing.observers import OFFLINE, Observers, WatchedRoot
from finder.core.indexing.root_events import RootEvents
from finder.core.store.rows import Root


@dataclass(frozen=True)
class RootIdentity:
    """Which folder a path names: another device or inode is another folder."""

    device: int
    inode: int


def identity_of(stat: os.stat_result) -> RootIdentity:
    return RootIdentity(stat.st_dev, stat.st_ino)


def current_identity(path: str) -> RootIdentity | None:
    try:
        return identity_of(os.stat(path))
    except OSError:
        return None


def replaced(watched: RootIdentity | None, now: RootIdentity | None) -> bool:
    """Whether the folder at a path is no longer the one that was watched. Unknown
    (None) on either side is not a replacement: a folder that is gone goes offline."""
    return watched is not None and now is not None and watched != now


@dataclass
class RootCheck:
    """What one look at the folders found."""

    modes: dict[str, WatchedRoot]  # how each folder is watched now
    rescan: list[str] = field(default_factory=list)  # folders to scan again


class RootWatches:
    def __init__(self, observers: Observers, root_events: RootEvents | None = None) -> None:
        self.observers = observers
        self._events = root_events  # opened at the first look
        self.modes: dict[str, WatchedRoot] = {}  # what the last `follow` found
        self._identities: dict[str, RootIdentity | None] = {}  # of each folder when watched
        self._lost: set[str] = set()  # folders whose watch saw the folder itself deleted

    def lost(self, path: str) -> None:
        """The watch on `path` ended (the folder itself was deleted or unmounted): watch
        it again at the next `follow`. Any thread."""
        self._lost.add(path)

    def follow(self, roots: Sequence[Root]) -> RootCheck:
        """Bring the watches in line with `roots` (the catalog's folders)."""
        observers = self.observers
        if self._events is None:
            self._events = RootEvents()
        self._lost.update(self._events.ended())
        check = RootCheck(dict(self.modes))
        modes = check.modes
        wanted = {root.path for root in roots}
        for path in observers.paths():
            if path not in wanted:
                self._unwatch(path)
        for path in list(modes):
            if path not in wanted:
                del modes[path]
        for root in roots:
            present = _has_entries(root.path) if root.offline else os.path.isdir(root.path)
            watched = root.path in observers
            was_offline = root.path in modes and modes[root.path].mode == OFFLINE
            lost = self._take_lost(root.path)
            identity = current_identity(root.path)
            before = self._identities.get(root.path)
            if present and watched and (lost or replaced(before, identity)):
                # Another folder under the same path, or the old watch ended: watch this
                # one, and scan it (the indexer sees a new drive, or an empty one).
                self._unwatch(root.path)
                modes[root.path] = self._watch(root.path, identity)
                check.rescan.append(root.path)
            elif present and (not watched or (root.offline and was_offline)):
                if watched:  # the old watch sees the empty mount point, not the drive
                    self._unwatch(root.path)
                modes[root.path] = self._watch(root.path, identity)
                if root.offline or was_offline:
                    check.rescan.append(root.path)  # the indexer brings it back
            elif not present:
                if watched:
                    self._unwatch(root.path)
                    check.rescan.append(root.path)  # the indexer marks it offline
                modes[root.path] = WatchedRoot(root.path, OFFLINE, "folder not found")
        self.modes = dict(modes)
        return check

    def _take_lost(self, path: str) -> bool:
        try:
            self._lost.remove(path)  # one step: `lost()` may run meanwhile
        except KeyError:
            return False
        return True

    def _watch(self, path: str, identity: RootIdentity | None) -> WatchedRoot:
        # The identity is taken before the watch is set: a replacement in between is
        # seen at the next look.
        self._identities[path] = identity
        if self._events is not None:
            self._events.add(path)
        return self.observers.watch(path)

    def _unwatch(self, path: str) -> None:
        self.observers.unwatch(path)
        if self._events is not None:
            self._events.remove(path)
        self._identities.pop(path, None)

    def close(self) -> None:
        if self._events is not None:
            self._events.close()


def _has_entries(path: str) -> bool:
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is not None
    except OSError:
        return False
