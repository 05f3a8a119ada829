"""Changes seen and not yet indexed: debounce, wait for writers, coalesce. Pure logic.

No threads, no I/O, no watchdog: the watcher feeds it events with the time they arrived
and asks `take(now, roots)` for what is ready; the caller holds the lock.

- A path is ready once no event has touched it for `quiet_s`, and, where the OS tells
  us (inotify), once its writer closed it (or `write_wait_s` passed): a file written in
  50 chunks is indexed once, complete.
- During a long burst (a camera import, a `git checkout`) what is ready is handed out at
  least every `max_delay_s`.
- Many changed paths in one folder of a watched root become that folder; renames are
  kept in order, and the contents of a moved folder are covered by the folder's move.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from finder.core.ingest.scanner import is_within, outermost

# A moved folder's contents are reported as moves too; this many recent moves are
# searched for the folder move that implies them.
IMPLIED_MOVE_WINDOW = 64


@dataclass(frozen=True)
class QueueTiming:
    quiet_s: float = 1.0  # a path is ready once no event touched it for this long
    max_delay_s: float = 10.0  # during a burst, hand out what is ready at least this often
    write_wait_s: float = 60.0  # longest wait for a writer to close a file (inotify)
    folder_paths: int = 32  # more changed paths than this in one folder: scan the folder


@dataclass(frozen=True)
class Batch:
    """What to index in one go."""

    paths: list[str]  # files and folders to scan (empty for a full scan)
    moves: list[tuple[str, str]]  # (source, destination), in the order they happened
    full: bool = False  # scan every folder


@dataclass
class ChangeQueue:
    timing: QueueTiming = field(default_factory=QueueTiming)
    pending: dict[str, float] = field(default_factory=dict)  # path -> its latest event
    writing: set[str] = field(default_factory=set)  # modified, not yet closed (inotify only)
    moves: list[tuple[str, str]] = field(default_factory=list)
    first: float | None = None  # when the oldest pending change arrived
    last: float = 0.0  # the latest event
    full: bool = False  # a scan of every folder was asked for
    marks: int = 0  # changes recorded so far (a waiting worker compares it)

    def __bool__(self) -> bool:
        return bool(self.pending or self.moves or self.full)

    # -- what happened -----------------------------------------------------------------

    def changed(self, path: str, now: float, *, writing: bool | None = None) -> None:
        """`path` changed. `writing`: True when a writer still has it open, False when it
        was closed or deleted, None when the event says nothing about it."""
        self._mark(path, now)
        if writing is True:
            self.writing.add(path)
        elif writing is False:
            self.writing.discard(path)

    def moved(self, src: str, dst: str, now: float) -> None:
        if not self._implied_move(src, dst):
            self.moves.append((src, dst))
        self._mark(src, now)
        self._mark(dst, now)
        self.writing.discard(src)

    def rescan_all(self) -> None:
        self.full = True

    def _mark(self, path: str, now: float) -> None:
        self.marks += 1
        self.pending[path] = now
        self.last = now
        if self.first is None:
            self.first = now

    def _implied_move(self, src: str, dst: str) -> bool:
        """watchdog reports a moved folder's contents as moves too: the folder's covers them."""
        for folder_src, folder_dst in reversed(self.moves[-IMPLIED_MOVE_WINDOW:]):
            if (
                is_within(src, folder_src)
                and src != folder_src
                and dst == folder_dst + src[len(folder_src) :]
            ):
                return True
        return False

    # -- what to index -----------------------------------------------------------------

    def take(self, now: float, roots: Sequence[str] = ()) -> tuple[Batch | None, float]:
        """The batch to index now, or (None, how long to wait before asking again).
        `roots`: the watched folders, inside which many changes become their folder."""
        timing = self.timing
        if self.full:
            moves, self.moves = self.moves, []
            self.pending.clear()
            self.writing.clear()
            self.full, self.first = False, None
            return Batch([], moves, True), 0.0
        if not self.pending and not self.moves:
            return None, float("inf")
        quiet = now - self.last >= timing.quiet_s
        overdue = self.first is not None and now - self.first >= timing.max_delay_s
        if not (quiet or overdue):
            wait = timing.quiet_s - (now - self.last)
            if self.first is not None:
                wait = min(wait, timing.max_delay_s - (now - self.first))
            return None, max(wait, 0.01)
        ready = [path for path, seen in self.pending.items() if self._ready(path, seen, now)]
        if not ready and not self.moves:
            waits = [self._wait(path, seen, now) for path, seen in self.pending.items()]
            self.first = now  # nothing ready: let the burst timer start again
            return None, max(min(waits), 0.01)
        for path in ready:
            del self.pending[path]
            self.writing.discard(path)
        moves, self.moves = self.moves, []
        self.first = min(self.pending.values()) if self.pending else None
        return Batch(self.coalesce(ready, roots), moves), 0.0

    def _ready(self, path: str, seen: float, now: float) -> bool:
        timing = self.timing
        quiet = now - seen >= timing.quiet_s
        return quiet and (path not in self.writing or now - seen >= timing.write_wait_s)

    def _wait(self, path: str, seen: float, now: float) -> float:
        timing = self.timing
        limit = timing.write_wait_s if path in self.writing else timing.quiet_s
        return limit - (now - seen)

    def coalesce(self, paths: Sequence[str], roots: Sequence[str]) -> list[str]:
        """Few paths to scan: many changes in one folder (inside a root) become the folder."""
        by_folder: dict[str, list[str]] = {}
        for path in paths:
            by_folder.setdefault(os.path.dirname(path), []).append(path)
        out: list[str] = []
        for folder, inside in by_folder.items():
            if len(inside) > self.timing.folder_paths and any(
                is_within(folder, root) for root in roots
            ):
                out.append(folder)
            else:
                out += inside
        return outermost(out)

    def requeue(self, batch: Batch, now: float) -> None:
        """Put back a batch that failed (it is tried again after the caller's delay)."""
        self.moves[:0] = batch.moves  # they happened first
        self.full = self.full or batch.full
        for path in batch.paths:
            self.pending.setdefault(path, now)
        if self:
            self.first = self.first or now
            self.last = max(self.last, now)
