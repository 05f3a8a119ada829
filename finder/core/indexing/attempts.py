"""Which files an index run is reading, kept in the data dir, so that a run killed while
reading one (a file that stalls or blows up a decoder, then SIGKILL, the OOM killer or a
crash) does not make every later run start on the same file again.

Each run appends to a journal of its own in `<data dir>/in-progress/` ("start" before a
file is read, "end" after, "alive" now and then while it waits) and holds an OS lock on
it. A journal whose lock can be taken belongs to a run that died: the files it was still
reading are suspects. A suspect that had been read for `stalled_after_s` when the run
died, or was being read when two runs died, is skipped and recorded as an error with
`STUCK_REASON`; any other suspect (a run killed by chance while reading it) is read
again, last, after everything else is written. A file that is read to the end, or
recorded, is no longer a suspect. finder writes nothing into the user's folders for this.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

JOURNAL_DIR = "in-progress"
STUCK_REASON = (
    "indexing stopped while reading this file (it may be too large or malformed); skipped"
)
COMPACT_BYTES = 1 << 20  # a journal is rewritten with just what is open past this size


@dataclass(frozen=True)
class Suspect:
    """A file that was being read when a run died."""

    path: str
    deaths: int  # runs that died while reading it
    stuck_s: float  # how long it had been read when one of them died (the longest)

    def skipped(self, stalled_after_s: float) -> bool:
        """Skip it (and say why), or read it once more, last."""
        return self.deaths >= 2 or self.stuck_s >= stalled_after_s


def merge(a: Suspect | None, b: Suspect) -> Suspect:
    if a is None:
        return b
    return Suspect(b.path, max(a.deaths, b.deaths), max(a.stuck_s, b.stuck_s))


def suspects_in(lines: Iterable[str]) -> dict[str, Suspect]:
    """The suspects a dead run's journal names. Lines that cannot be read (the one being
    written when the process died) are ignored."""
    reading: dict[str, tuple[int, float]] = {}  # path -> (deaths before, started at)
    carried: dict[str, Suspect] = {}
    last = float("-inf")  # the run's last sign of life
    for line in lines:
        try:
            entry = json.loads(line)
            kind = entry[0]
            if kind == "start":
                path, at, deaths = str(entry[1]), float(entry[2]), int(entry[3])
                reading[path] = (deaths, at)
                carried.pop(path, None)
            elif kind == "end":
                path, at = str(entry[1]), float(entry[2])
                reading.pop(path, None)
                carried.pop(path, None)
            elif kind == "alive":
                at = float(entry[1])
            elif kind == "carried":
                path = str(entry[1])
                carried[path] = Suspect(path, int(entry[2]), float(entry[3]))
                continue
            else:
                continue
        except (ValueError, TypeError, IndexError, KeyError):
            continue
        last = max(last, at)
    found = dict(carried)
    for path, (deaths, at) in reading.items():
        found[path] = merge(found.get(path), Suspect(path, deaths + 1, max(0.0, last - at)))
    return found


class Attempts:
    """One run's journal. Best effort: if the data dir cannot take it, the run goes on
    without (and a run that dies then is not followed)."""

    def __init__(self, folder: Path, *, heartbeat_s: float = 1.0) -> None:
        self.folder = folder
        self.heartbeat_s = heartbeat_s
        self._lock = threading.Lock()  # decode threads write too
        self._fd: int | None = None
        self._path: Path | None = None
        self._written = 0
        self._last_alive = float("-inf")
        self._reading: dict[str, tuple[int, float]] = {}
        self._carried: dict[str, Suspect] = {}  # suspects of dead runs, not dealt with yet

    # -- the run's start and end ---------------------------------------------------------

    def open(self) -> dict[str, Suspect]:
        """Start this run's journal; returns the suspects that dead runs left."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._path = self.folder / f"{os.getpid()}-{threading.get_ident()}-{time.time_ns()}"
            self._fd = _open_locked(self._path)
        except OSError as exc:
            log.warning("cannot keep track of the files being read in %s: %s", self.folder, exc)
            self._fd = self._path = None
            return {}
        found: dict[str, Suspect] = {}
        dead: list[Path] = []
        for journal in sorted(self.folder.iterdir()):
            if journal == self._path:
                continue
            lines = _read_if_dead(journal)
            if lines is not None:
                for suspect in suspects_in(lines).values():
                    found[suspect.path] = merge(found.get(suspect.path), suspect)
                dead.append(journal)
        self._carried = dict(found)
        with self._lock:
            self._write([["carried", s.path, s.deaths, s.stuck_s] for s in found.values()])
        for journal in dead:  # only once their suspects are in this run's journal
            journal.unlink(missing_ok=True)
        return found

    def close(self) -> None:
        """The run is over. Its journal stays only while it carries unresolved suspects
        (of a run that only looked at some folders): the next run reads them."""
        with self._lock:
            if self._fd is None or self._path is None:
                return
            os.close(self._fd)  # drops the lock
            if not self._carried and not self._reading:
                self._path.unlink(missing_ok=True)
            self._fd = self._path = None

    # -- while it runs -------------------------------------------------------------------

    def started(self, path: str, deaths: int = 0) -> None:
        """About to read `path` (`deaths`: runs that died reading it before)."""
        now = time.monotonic()
        with self._lock:
            self._reading[path] = (deaths, now)
            self._write([["start", path, now, deaths]])

    def ended(self, path: str) -> None:
        """Done reading `path`, whatever came of it."""
        with self._lock:
            self._reading.pop(path, None)
            self._carried.pop(path, None)
            self._write([["end", path, time.monotonic()]])

    def resolved(self, path: str) -> None:
        """A suspect was dealt with without reading it (recorded as an error, or gone)."""
        with self._lock:
            if self._carried.pop(path, None) is not None:
                self._write([["end", path, time.monotonic()]])

    def alive(self) -> None:
        """Still running (called while waiting for a file being read): how long a file
        had been read when the run died is measured against these."""
        now = time.monotonic()
        if now - self._last_alive < self.heartbeat_s:
            return
        with self._lock:
            self._last_alive = now
            self._write([["alive", now]])

    # -- the file ----------------------------------------------------------------------

    def _write(self, entries: list[list[object]]) -> None:
        """Append entries (under the lock). One write(2) per call: a kill never tears it."""
        if self._fd is None or not entries:
            return
        data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        try:
            self._written += os.write(self._fd, data.encode("utf-8", "surrogateescape"))
            if self._written > COMPACT_BYTES:
                self._compact()
        except OSError as exc:  # disk full: the run goes on, untracked
            log.warning("cannot keep track of the files being read: %s", exc)
            os.close(self._fd)
            self._fd = None

    def _compact(self) -> None:
        """Replace the journal by one with only what is open now (under the lock)."""
        assert self._fd is not None and self._path is not None
        now = time.monotonic()
        entries: list[list[object]] = [["alive", now]]
        entries += [["carried", s.path, s.deaths, s.stuck_s] for s in self._carried.values()]
        entries += [["start", p, at, deaths] for p, (deaths, at) in self._reading.items()]
        data = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries)
        fresh = self._path.with_name(self._path.name + ".new")
        fd = _open_locked(fresh)
        os.write(fd, data.encode("utf-8", "surrogateescape"))
        os.replace(fresh, self._path)  # the lock goes with the file
        os.close(self._fd)
        self._fd, self._written = fd, len(data)


def _open_locked(path: Path) -> int:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
    if not _try_lock(fd):  # a new name: nobody else can hold it
        os.close(fd)
        raise OSError(f"{path} is locked")
    return fd


def _read_if_dead(journal: Path) -> list[str] | None:
    """The journal's lines if the run that wrote it is gone, else None."""
    if journal.suffix == ".new":  # a compaction cut short: its journal is still there
        if not _owner_alive(journal):
            journal.unlink(missing_ok=True)
        return None
    try:
        fd = os.open(journal, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None  # gone meanwhile
    try:
        if not _try_lock(fd, journal):
            return None  # its run is alive
        if os.fstat(fd).st_ino != os.stat(journal).st_ino:
            return None  # taken and replaced by another run meanwhile
        with os.fdopen(os.dup(fd), "rb") as f:
            return f.read().decode("utf-8", "surrogateescape").splitlines()
    except OSError:
        return None
    finally:
        os.close(fd)


def _owner_alive(journal: Path) -> bool:
    try:
        fd = os.open(journal, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        return not _try_lock(fd, journal)
    finally:
        os.close(fd)


def _try_lock(fd: int, journal: Path | None = None) -> bool:
    """Take the OS lock on an open journal; False if another open file holds it. The
    lock dies with the process that holds it, however it dies."""
    if sys.platform == "win32":
        # No flock. One process writes a data dir (the writer lock), so a journal named
        # after another process is a dead run's.
        return journal is None or not journal.name.startswith(f"{os.getpid()}-")
    import fcntl  # POSIX only

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
