"""Watch the library's folders and keep the index following them.

watchdog observer -> debounced, coalesced change queue -> one worker thread -> indexer.

- Every event only marks a path as changed (and remembers renames, in order). A path
  is indexed once no event has touched it for `quiet_s`, and, where the OS tells us
  (inotify), once the writer has closed it: a file written in 50 chunks is embedded
  once, complete. During a long burst (a camera import, a `git checkout`), what is ready
  is indexed at least every `max_delay_s`.
- Changed paths are coalesced (a folder stands for everything in it, many changes in
  one folder become that folder) and handed to `Indexer.run(subtrees=...)`, which
  scans just those with the same outcome as a full scan. Renames are re-keyed by path
  first, so a moved folder of 5,000 photos costs 5,000 stats, no embedding.
- On start, a full reconciliation run catches what changed while finder was not running.
- With `read_text`, the OCR pass (text in new screenshots and scans) runs once nothing
  is waiting to be indexed, after batches that changed something; a new change stops it
  after the page in hand, and it goes on once that change is indexed. It runs on the
  worker thread, so it never races the indexer over a file's items.
- A folder that cannot be watched natively (inotify limit reached, network file system)
  is polled instead, and `roots()` says so. A folder that disappears goes offline (its
  files kept, hidden); it is looked for every `recheck_s` and comes back without
  re-embedding.

Callbacks run on the watcher's worker thread; a GUI forwards them to its own thread.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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

from finder.core.indexing.ocr_pass import OcrReport
from finder.core.ingest.scanner import is_within, outermost
from finder.core.library import Library, write_watch_state
from finder.core.models.embedder import Embedder
from finder.core.store.errors import CatalogError
from finder.core.types import IndexReport

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
class WatchConfig:
    quiet_s: float = 1.0  # a path is ready once no event touched it for this long
    max_delay_s: float = 10.0  # during a burst, index what is ready at least this often
    write_wait_s: float = 60.0  # longest wait for a writer to close a file (inotify)
    poll_interval_s: float = 5.0  # folders that are polled instead of watched
    recheck_s: float = 5.0  # look for offline folders coming back, and for new folders
    save_every_s: float = 60.0  # save the vector index at most this often while watching
    folder_paths: int = 32  # more changed paths than this in one folder: scan the folder
    retry_s: float = 5.0  # after a failed batch (disk full...), first wait before retrying


@dataclass(frozen=True)
class WatchedRoot:
    path: str
    mode: str  # NATIVE, POLLING or OFFLINE
    reason: str = ""  # why it is polled or offline


@dataclass
class WatchBatch:
    """What the watcher indexed in one go."""

    paths: list[str]  # the changed files and folders scanned (empty for a full scan)
    moves: list[tuple[str, str]]
    report: IndexReport
    full: bool = False  # a reconciliation of every folder

    @property
    def changed(self) -> bool:
        r = self.report
        return bool(
            r.added or r.updated or r.moved or r.removed or r.errors or r.offline or r.back_online
        )


BatchCallback = Callable[[WatchBatch], None]
ErrorCallback = Callable[[str], None]
RootsCallback = Callable[[list[WatchedRoot]], None]
TextCallback = Callable[[OcrReport], None]


class ObserverFactory(Protocol):
    def __call__(self) -> BaseObserver: ...


def _native_observer() -> BaseObserver:
    from watchdog.observers import Observer

    return Observer()


@dataclass
class _Queue:
    """Changes seen and not yet indexed. Guarded by the watcher's condition."""

    pending: dict[str, float] = field(default_factory=dict)  # path -> last event (monotonic)
    writing: set[str] = field(default_factory=set)  # modified, not yet closed (inotify only)
    moves: list[tuple[str, str]] = field(default_factory=list)
    first: float | None = None  # when the oldest pending change arrived
    last: float = 0.0  # the latest event
    full: bool = False  # a full rescan was asked for

    def __bool__(self) -> bool:
        return bool(self.pending or self.moves or self.full)


class Watcher:
    """Keeps a writable Library's index following its folders until `stop()`."""

    def __init__(
        self,
        library: Library,
        *,
        on_batch_indexed: BatchCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_roots_changed: RootsCallback | None = None,
        read_text: bool = False,
        on_text_read: TextCallback | None = None,
        config: WatchConfig | None = None,
        observer_factory: ObserverFactory = _native_observer,
        polling_factory: Callable[[float], BaseObserver] | None = None,
    ) -> None:
        if not library.writable:
            raise ValueError("watching needs a writable library (it holds the writer lock)")
        self.library = library
        self.config = config or WatchConfig()
        self._on_batch = on_batch_indexed or (lambda batch: None)
        self._on_error = on_error or (lambda message: log.error("%s", message))
        self._on_roots = on_roots_changed or (lambda roots: None)
        self._on_text = on_text_read or (lambda report: None)
        self.read_text = read_text
        self._text_due = False  # something changed since the last complete OCR pass
        self._text_cancel = threading.Event()  # a new change or stop() interrupts OCR
        self._observer_factory = observer_factory
        self._polling_factory = polling_factory or (lambda s: PollingObserver(timeout=s))
        self._cond = threading.Condition()
        self._queue = _Queue()
        self._stop = threading.Event()
        self._busy = False
        self._events = 0  # changes seen: the worker checks it before sleeping
        self._thread: threading.Thread | None = None
        self._native: BaseObserver | None = None
        self._native_error: str | None = None
        self._polling: BaseObserver | None = None
        self._watches: dict[str, tuple[ObservedWatch, BaseObserver]] = {}
        self._modes: dict[str, WatchedRoot] = {}
        self._overflow = _OverflowListener(self)
        self._native_handler = _Handler(self, tracks_writes=True)
        self._polling_handler = _Handler(self, tracks_writes=False)
        self._last_save = time.monotonic()
        self._dirty = False
        self.batches = 0  # batches indexed so far (tests and the CLI read it)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start watching; the worker first reconciles every folder with the catalog."""
        if self._thread is not None:
            raise RuntimeError("the watcher is already running")
        self._stop.clear()
        _OVERFLOW_LOGGER.addHandler(self._overflow)
        if _OVERFLOW_LOGGER.getEffectiveLevel() > logging.WARNING:
            _OVERFLOW_LOGGER.setLevel(logging.WARNING)  # or its warning is never made
        try:
            self._native = self._observer_factory()
            self._native.start()
        except OSError as exc:  # no inotify instance left: poll everything
            self._native, self._native_error = None, _reason(exc)
        with self._cond:
            self._queue.full = True  # the reconciliation scan
            self._text_due = self.read_text  # also what earlier runs left unread
        self._thread = threading.Thread(target=self._run, name="finder-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop after the batch in progress; every thread is joined when this returns."""
        self._stop.set()
        self._text_cancel.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the watcher did not stop within %s s", timeout)
            self._thread = None
        for observer in (self._native, self._polling):
            if observer is not None:
                observer.stop()
        for observer in (self._native, self._polling):
            if observer is not None and observer.is_alive():
                observer.join(timeout)
        self._native = self._polling = None
        self._watches.clear()
        _OVERFLOW_LOGGER.removeHandler(self._overflow)
        write_watch_state(self.library.data_dir, None)

    def __enter__(self) -> Watcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- requests ------------------------------------------------------------------------

    def rescan(self, paths: list[str] | None = None) -> None:
        """Ask for a scan of some paths, or of every folder (None); the latest wins."""
        with self._cond:
            if paths is None:
                self._queue.full = True
                self._text_cancel.set()
            else:
                now = time.monotonic()
                for path in paths:
                    self._mark(os.path.normpath(os.path.abspath(path)), now)
            self._cond.notify_all()

    def use_embedder(self, embedder: Embedder) -> None:
        """Index with another model from the next batch on (a model switch took over).
        A full rescan then gives it the files the old model indexed meanwhile (a stat
        per file; only those are embedded)."""
        old = self.library.indexer
        self.library.use_embedder(embedder)
        try:
            old.save()  # after its batch in flight, if any
        except (CatalogError, OSError) as exc:  # a cache: rebuilt from the catalog
            self._on_error(str(exc))
        self.rescan(None)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until nothing is queued or being indexed (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or not self.running:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    def roots(self) -> list[WatchedRoot]:
        """How each folder is watched: natively, by polling (and why), or offline."""
        with self._cond:
            return sorted(self._modes.values(), key=lambda r: r.path)

    # -- events (observer threads) ---------------------------------------------------------

    def _event(self, event: FileSystemEvent, tracks_writes: bool) -> None:
        src = os.fsdecode(event.src_path)
        now = time.monotonic()
        with self._cond:
            queue = self._queue
            if isinstance(event, FileMovedEvent | DirMovedEvent):
                dst = os.fsdecode(event.dest_path)
                if not self._implied_move(src, dst):
                    queue.moves.append((src, dst))
                self._mark(src, now)
                self._mark(dst, now)
                queue.writing.discard(src)
            else:
                self._mark(src, now)
                if tracks_writes and isinstance(event, FileModifiedEvent):
                    queue.writing.add(src)
                elif isinstance(event, FileClosedEvent | FileDeletedEvent):
                    queue.writing.discard(src)
            self._cond.notify_all()

    def _mark(self, path: str, now: float) -> None:
        self._events += 1
        self._text_cancel.set()  # index the change first; reading text goes on later
        queue = self._queue
        queue.pending[path] = now
        queue.last = now
        if queue.first is None:
            queue.first = now

    def _implied_move(self, src: str, dst: str) -> bool:
        """watchdog reports a moved folder's contents as moves too: the folder's covers them."""
        for folder_src, folder_dst in reversed(self._queue.moves[-64:]):
            if (
                is_within(src, folder_src)
                and src != folder_src
                and dst == folder_dst + src[len(folder_src) :]
            ):
                return True
        return False

    # -- the worker ----------------------------------------------------------------------

    def _run(self) -> None:
        next_check = 0.0
        failures = 0
        retry_at = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_check:
                    self._check_roots()
                    next_check = now + self.config.recheck_s
                with self._cond:
                    seen = self._events
                    batch, wait = self._take(now) if now >= retry_at else (None, retry_at - now)
                    self._busy = batch is not None
                if batch is None:
                    self._maybe_save()
                    if self._text_due and self._read_text():
                        continue  # something may have arrived meanwhile
                    with self._cond:
                        self._cond.notify_all()  # wait_idle() callers
                        if self._events == seen and not self._stop.is_set():
                            self._cond.wait(min(wait, max(0.0, next_check - now)) + 0.01)
                    continue
                try:
                    ok = self._index(*batch)
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
                if ok:
                    failures, retry_at = 0, 0.0
                else:
                    failures += 1
                    delay = min(self.config.retry_s * 2 ** (failures - 1), 300.0)
                    retry_at = time.monotonic() + delay
                    self._requeue(batch, delay)
        except Exception as exc:  # a bug must be seen, not kill watching silently
            log.exception("the watcher stopped")
            self._on_error(f"watching stopped: {type(exc).__name__}: {exc}")
        finally:
            self._maybe_save(force=True)

    def _take(
        self, now: float
    ) -> tuple[tuple[list[str], list[tuple[str, str]], bool] | None, float]:
        """The batch to index now, or (None, how long to wait). Called under the lock."""
        queue, cfg = self._queue, self.config
        if queue.full:
            moves, queue.moves = queue.moves, []
            queue.pending.clear()
            queue.writing.clear()
            queue.full, queue.first = False, None
            return ([], moves, True), 0.0
        if not queue.pending and not queue.moves:
            return None, cfg.recheck_s
        quiet = now - queue.last >= cfg.quiet_s
        overdue = queue.first is not None and now - queue.first >= cfg.max_delay_s
        if not (quiet or overdue):
            wait = cfg.quiet_s - (now - queue.last)
            if queue.first is not None:
                wait = min(wait, cfg.max_delay_s - (now - queue.first))
            return None, max(wait, 0.01)
        ready = [
            path
            for path, seen in queue.pending.items()
            if now - seen >= cfg.quiet_s
            and (path not in queue.writing or now - seen >= cfg.write_wait_s)
        ]
        if not ready and not queue.moves:
            waits = [
                cfg.quiet_s - (now - seen)
                if path not in queue.writing
                else cfg.write_wait_s - (now - seen)
                for path, seen in queue.pending.items()
            ]
            queue.first = now  # nothing ready: let the burst timer start again
            return None, max(min(waits), 0.01)
        for path in ready:
            del queue.pending[path]
            queue.writing.discard(path)
        moves, queue.moves = queue.moves, []
        queue.first = min(queue.pending.values()) if queue.pending else None
        return (self._coalesce(ready), moves, False), 0.0

    def _coalesce(self, paths: list[str]) -> list[str]:
        """Few paths to scan: many changes in one folder become the folder."""
        roots = [r for r in self._modes if self._modes[r].mode != OFFLINE] or list(self._modes)
        by_folder: dict[str, list[str]] = {}
        for path in paths:
            by_folder.setdefault(os.path.dirname(path), []).append(path)
        out: list[str] = []
        for folder, inside in by_folder.items():
            if len(inside) > self.config.folder_paths and any(
                is_within(folder, root) for root in roots
            ):
                out.append(folder)
            else:
                out += inside
        return outermost(out)

    def _requeue(self, batch: tuple[list[str], list[tuple[str, str]], bool], delay: float) -> None:
        paths, moves, full = batch
        with self._cond:
            now = time.monotonic()
            self._queue.moves[:0] = moves  # they happened first
            self._queue.full = self._queue.full or full
            for path in paths:
                self._queue.pending.setdefault(path, now)
            if self._queue:
                self._queue.first = self._queue.first or now
                self._queue.last = max(self._queue.last, now)

    def _index(self, paths: list[str], moves: list[tuple[str, str]], full: bool) -> bool:
        """Run the indexer for one batch; False if it failed (it is retried later)."""
        indexer = self.library.indexer
        log.debug("indexing %s, %d moves", "everything" if full else paths, len(moves))
        try:
            report = indexer.run(
                subtrees=None if full else paths, moves=moves, cancel=self._stop, save=False
            )
        except (CatalogError, OSError) as exc:  # disk full, read-only: keep serving
            self._on_error(str(exc))
            return False
        except Exception as exc:  # e.g. the model cannot load: say so, keep watching
            log.exception("indexing a batch failed")
            self._on_error(f"indexing failed: {type(exc).__name__}: {exc}")
            return False
        self.batches += 1
        batch = WatchBatch(paths, moves, report, full)
        if batch.changed:
            self._dirty = True
            self._text_due = self.read_text
        if report.offline or report.back_online:
            self._check_roots()
        try:
            self._on_batch(batch)
        except Exception:  # the callback's bug is not the watcher's
            log.exception("on_batch_indexed callback failed")
        return True

    def _read_text(self) -> bool:
        """The OCR pass over what is not read yet, while nothing waits to be indexed.
        False when it did not start (a change is queued)."""
        with self._cond:
            if self._queue or self._stop.is_set():
                return False
            self._text_cancel.clear()
        try:
            report = self.library.read_text_in_images(cancel=self._text_cancel)
        except (CatalogError, OSError) as exc:  # disk full: try again after the next change
            self._text_due = False
            self._on_error(f"reading text in pictures: {exc}")
            return True
        # Interrupted by a change: go on after it. OCR missing: say so once, not per batch.
        self._text_due = report.cancelled and not self._stop.is_set()
        if report.unavailable:
            self.read_text = False
        if report.looked_at or report.unavailable:
            try:
                self._on_text(report)
            except Exception:
                log.exception("on_text_read callback failed")
        return True

    def _maybe_save(self, force: bool = False) -> None:
        """Save the vector index now and then (the catalog already has everything)."""
        if not self._dirty:
            return
        if not force and time.monotonic() - self._last_save < self.config.save_every_s:
            return
        try:
            self.library.indexer.save()
        except (CatalogError, OSError) as exc:
            self._on_error(str(exc))
        self._dirty = False
        self._last_save = time.monotonic()

    # -- which folders, watched how -------------------------------------------------------

    def _check_roots(self) -> None:
        """Follow the catalog's folders: watch new ones, drop removed ones, notice folders
        that went away or came back (a drive plugged in over an empty mount point)."""
        modes = dict(self._modes)
        roots = self.library.catalog.roots()
        wanted = {root.path for root in roots}
        for path in list(self._watches):
            if path not in wanted:
                self._unwatch(path)
        for path in list(modes):
            if path not in wanted:
                del modes[path]
        for root in roots:
            present = _has_entries(root.path) if root.offline else os.path.isdir(root.path)
            watched = root.path in self._watches
            was_offline = root.path in modes and modes[root.path].mode == OFFLINE
            if present and (not watched or (root.offline and was_offline)):
                if watched:  # the old watch sees the empty mount point, not the drive
                    self._unwatch(root.path)
                modes[root.path] = self._watch(root.path)
                if root.offline or was_offline:
                    self.rescan([root.path])  # the indexer brings it back
            elif not present:
                if watched:
                    self._unwatch(root.path)
                    self.rescan([root.path])  # the indexer marks it offline
                modes[root.path] = WatchedRoot(root.path, OFFLINE, "folder not found")
        if modes != self._modes:
            with self._cond:
                self._modes = modes
            roots_now = self.roots()
            write_watch_state(self.library.data_dir, roots_now)
            try:
                self._on_roots(roots_now)
            except Exception:
                log.exception("on_roots_changed callback failed")

    def _watch(self, path: str) -> WatchedRoot:
        reason = _network_fs(path)
        if reason is None and self._native is None:
            reason = f"native watching unavailable ({self._native_error})"
        if reason is None and self._native is not None:
            try:
                watch = self._native.schedule(
                    self._native_handler, path, recursive=True, event_filter=EVENTS
                )
            except OSError as exc:
                reason = f"native watching failed: {_reason(exc)}"
                log.warning("%s: %s; polling it instead", path, reason)
            else:
                self._watches[path] = (watch, self._native)
                return WatchedRoot(path, NATIVE)
        try:
            if self._polling is None:
                self._polling = self._polling_factory(self.config.poll_interval_s)
                self._polling.start()
            watch = self._polling.schedule(
                self._polling_handler, path, recursive=True, event_filter=EVENTS
            )
        except OSError as exc:
            return WatchedRoot(path, OFFLINE, f"cannot watch it ({_reason(exc)})")
        self._watches[path] = (watch, self._polling)
        return WatchedRoot(
            path, POLLING, f"{reason}; polled every {self.config.poll_interval_s:g} s"
        )

    def _unwatch(self, path: str) -> None:
        watch, observer = self._watches.pop(path)
        try:
            observer.unschedule(watch)
        except (KeyError, OSError, RuntimeError) as exc:  # it may have stopped with the folder
            log.debug("unscheduling %s: %s", path, exc)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher, *, tracks_writes: bool) -> None:
        self._watcher = watcher
        self._tracks_writes = tracks_writes

    def on_any_event(self, event: FileSystemEvent) -> None:
        if type(event) in EVENTS:
            self._watcher._event(event, self._tracks_writes)


# watchdog rebuilds its watches when the kernel's inotify queue overflows, and says so
# only in a log message: that is our cue to rescan everything, as events were lost.
_OVERFLOW_LOGGER = logging.getLogger("watchdog.observers.inotify_c")


class _OverflowListener(logging.Handler):
    def __init__(self, watcher: Watcher) -> None:
        super().__init__(logging.WARNING)
        self._watcher = watcher

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self._watcher.rescan(None)


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the system's inotify watch limit is reached (fs.inotify.max_user_watches)"
    if exc.errno == errno.EMFILE:
        return "the system's inotify instance limit is reached (fs.inotify.max_user_instances)"
    return exc.strerror or str(exc)


def _has_entries(path: str) -> bool:
    try:
        with os.scandir(path) as entries:
            return next(entries, None) is not None
    except OSError:
        return False


def _network_fs(path: str) -> str | None:
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
