"""The watchdog side of watching: which observer follows each folder, and why.

Folders are watched natively (inotify, FSEvents, ReadDirectoryChangesW) where that works,
and polled where it cannot (the inotify limit is reached, a network file system whose
changes made elsewhere are never signalled). Every event that can change what is
indexed is handed to one callback, on the observer's thread.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

from finder.core.ingest.scanner import is_within

log = logging.getLogger(__name__)

# The events that can change what is indexed (not opens, reads or folder mtimes).
EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    DirCreatedEvent,
    FileModifiedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileDeletedEvent,
    DirDeletedEvent,
    FileMovedEvent,
    DirMovedEvent,
]

NATIVE, POLLING, OFFLINE = "native", "polling", "offline"

# File systems where the kernel does not see other machines' changes: poll them.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "fuse.sshfs",
        "sshfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "fuse.glusterfs",
        "davfs",
        "fuse.davfs2",
        "fuse.rclone",
        "fuse.s3fs",
    }
)


@dataclass(frozen=True)
class WatchedRoot:
    path: str
    mode: str  # NATIVE, POLLING or OFFLINE
    reason: str = ""  # why it is polled or offline


class ObserverFactory(Protocol):
    def __call__(self) -> BaseObserver: ...


# (event, whether the observer reports writes and closes: inotify does, polling does not)
EventCallback = Callable[[FileSystemEvent, bool], None]


def native_observer() -> BaseObserver:
    from watchdog.observers import Observer  # picks the platform's observer

    return Observer()


class Observers:
    """The native observer, a polling one made when first needed, and their watches."""

    def __init__(
        self,
        on_event: EventCallback,
        *,
        poll_interval_s: float,
        observer_factory: ObserverFactory = native_observer,
        polling_factory: Callable[[float], BaseObserver] | None = None,
    ) -> None:
        self._poll_interval_s = poll_interval_s
        self._observer_factory = observer_factory
        self._polling_factory = polling_factory or (lambda s: PollingObserver(timeout=s))
        self._native: BaseObserver | None = None
        self._native_error: str | None = None
        self._polling: BaseObserver | None = None
        self._watches: dict[str, tuple[ObservedWatch, BaseObserver]] = {}
        self._native_handler = _Handler(on_event, tracks_writes=True)
        self._polling_handler = _Handler(on_event, tracks_writes=False)

    def start(self) -> None:
        try:
            self._native = self._observer_factory()
            self._native.start()
        except OSError as exc:  # no inotify instance left: poll everything
            self._native, self._native_error = None, reason_of(exc)

    def stop(self, timeout: float | None) -> None:
        """Stop both observers; their threads are joined when this returns."""
        for observer in (self._native, self._polling):
            if observer is not None:
                observer.stop()
        for observer in (self._native, self._polling):
            if observer is not None and observer.is_alive():
                observer.join(timeout)
        self._native = self._polling = None
        self._watches.clear()

    def __contains__(self, path: str) -> bool:
        return path in self._watches

    def paths(self) -> list[str]:
        return list(self._watches)

    def watch(self, path: str) -> WatchedRoot:
        """Watch `path` and everything in it: natively if possible, else by polling."""
        reason = network_fs(path)
        if reason is None and self._native is None:
            reason = f"native watching unavailable ({self._native_error})"
        if reason is None and self._native is not None:
            try:
                watch = self._native.schedule(
                    self._native_handler, path, recursive=True, event_filter=EVENTS
                )
            except OSError as exc:
                reason = f"native watching failed: {reason_of(exc)}"
                log.warning("%s: %s; polling it instead", path, reason)
            else:
                self._watches[path] = (watch, self._native)
                return WatchedRoot(path, NATIVE)
        try:
            if self._polling is None:
                self._polling = self._polling_factory(self._poll_interval_s)
                self._polling.start()
            watch = self._polling.schedule(
                self._polling_handler, path, recursive=True, event_filter=EVENTS
            )
        except OSError as exc:
            return WatchedRoot(path, OFFLINE, f"cannot watch it ({reason_of(exc)})")
        self._watches[path] = (watch, self._polling)
        return WatchedRoot(path, POLLING, f"{reason}; polled every {self._poll_interval_s:g} s")

    def unwatch(self, path: str) -> None:
        watch, observer = self._watches.pop(path)
        try:
            observer.unschedule(watch)
        except (KeyError, OSError, RuntimeError) as exc:  # it may have stopped with the folder
            log.debug("unscheduling %s: %s", path, exc)


class _Handler(FileSystemEventHandler):
    def __init__(self, on_event: EventCallback, *, tracks_writes: bool) -> None:
        self._on_event = on_event
        self._tracks_writes = tracks_writes

    def on_any_event(self, event: FileSystemEvent) -> None:
        if type(event) in EVENTS:
            self._on_event(event, self._tracks_writes)


# watchdog rebuilds its watches when the kernel's inotify queue overflows, and says so
# only in a log message: that is our cue to rescan everything, as events were lost.
OVERFLOW_LOGGER = logging.getLogger("watchdog.observers.inotify_c")


class OverflowListener(logging.Handler):
    """Calls `on_overflow` when watchdog logs that the kernel dropped events."""

    def __init__(self, on_overflow: Callable[[], None]) -> None:
        super().__init__(logging.WARNING)
        self._on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self._on_overflow()

    def attach(self) -> None:
        OVERFLOW_LOGGER.addHandler(self)
        if OVERFLOW_LOGGER.getEffectiveLevel() > logging.WARNING:
            OVERFLOW_LOGGER.setLevel(logging.WARNING)  # or its warning is never made

    def detach(self) -> None:
        OVERFLOW_LOGGER.removeHandler(self)


def reason_of(exc: OSError) -> str:
    """Why a folder cannot be watched natively, in words."""
    if exc.errno == errno.ENOSPC:
        return "the system's inotify watch limit is reached (fs.inotify.max_user_watches)"
    if exc.errno == errno.EMFILE:
        return "the system's inotify instance limit is reached (fs.inotify.max_user_instances)"
    return exc.strerror or str(exc)


def network_fs(path: str) -> str | None:
    """Why `path` must be polled (a network file system), or None. Linux only."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as f:
            mounts = [line.split()[1:3] for line in f if len(line.split()) >= 3]
    except OSError:
        return None
    best, fstype = "", ""
    for point, kind in mounts:
        point = point.replace("\\040", " ")
        if is_within(path, point) and len(point) > len(best):
            best, fstype = point, kind
    if fstype in NETWORK_FILESYSTEMS:
        return f"network file system ({fstype}): changes made elsewhere are not signalled"
    return None
