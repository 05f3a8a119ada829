"""Hear that a watched folder itself ended: its file system unmounted, the folder deleted
or moved away. Linux only (inotify); elsewhere it hears nothing.

watchdog's inotify observer drops the kernel's IN_UNMOUNT and IN_IGNORED silently, and
then hears nothing more from that folder, while a new file system mounted at the same
path can have the same device and inode numbers as the old one (tmpfs, for one). So each
folder gets one more inotify watch of its own, for these events only, read without
blocking whenever the watcher looks at its folders. One watch per folder, one inotify
instance in all.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import struct
import sys

log = logging.getLogger(__name__)

IN_DELETE_SELF = 0x00000400
IN_MOVE_SELF = 0x00000800
IN_UNMOUNT = 0x00002000
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000  # the kernel removed the watch (after any of the above)
IN_ONLYDIR = 0x01000000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

ENDED = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len (then `len` bytes of name)


def parse_events(buffer: bytes) -> list[tuple[int, int]]:
    """(watch descriptor, mask) of each event in what read(2) returned on an inotify fd."""
    events = []
    offset = 0
    while offset + _EVENT.size <= len(buffer):
        wd, mask, _cookie, length = _EVENT.unpack_from(buffer, offset)
        events.append((wd, mask))
        offset += _EVENT.size + length
    return events


class RootEvents:
    """One inotify instance watching the folders themselves (not their contents)."""

    def __init__(self) -> None:
        self._fd: int | None = None
        self._libc: ctypes.CDLL | None = None
        self._paths: dict[int, str] = {}  # watch descriptor -> folder
        if not sys.platform.startswith("linux"):
            return
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        except (OSError, AttributeError) as exc:  # no libc or no inotify here
            log.debug("cannot hear unmounts: %s", exc)
            return
        if fd < 0:  # the inotify instance limit: the periodic checks still run
            log.debug("cannot hear unmounts: %s", os.strerror(ctypes.get_errno()))
            return
        self._libc, self._fd = libc, fd

    @property
    def available(self) -> bool:
        return self._fd is not None

    def add(self, path: str) -> None:
        if self._fd is None or self._libc is None:
            return
        wd = self._libc.inotify_add_watch(
            self._fd, os.fsencode(path), IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR
        )
        if wd < 0:  # gone already, or the watch limit: the periodic checks still run
            log.debug("cannot hear %s end: %s", path, os.strerror(ctypes.get_errno()))
            return
        self._paths[wd] = path

    def remove(self, path: str) -> None:
        for wd, watched in list(self._paths.items()):
            if watched == path:
                del self._paths[wd]
                if self._fd is not None and self._libc is not None:
                    self._libc.inotify_rm_watch(self._fd, wd)  # an ended one: EINVAL, fine

    def ended(self) -> set[str]:
        """The folders that ended since the last call (their watches are gone too)."""
        if self._fd is None:
            return set()
        found: set[str] = set()
        while True:
            try:
                buffer = os.read(self._fd, 64 * 1024)
            except BlockingIOError:
                break
            except OSError as exc:
                log.debug("reading folder events: %s", exc)
                break
            if not buffer:
                break
            for wd, mask in parse_events(buffer):
                if mask & IN_Q_OVERFLOW:  # events were lost: any folder may have ended
                    found.update(self._paths.values())
                elif mask & ENDED and wd in self._paths:
                    found.add(self._paths[wd])
                    if mask & IN_IGNORED:
                        del self._paths[wd]
        return found

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._paths.clear()
