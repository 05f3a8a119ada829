"""Watch the library's folders and keep the index following them.

observers (watchdog) -> change queue (debounce, coalesce) -> one worker thread -> indexer.

- Every event only marks a path as changed (and remembers renames, in order); the
  change queue (change_queue.py) decides when a path is ready: quiet for `quiet_s` and
  closed by its writer, and during a long burst at least every `max_delay_s`.
- Ready paths are handed to `Indexer.run(subtrees=...)`, which scans just those with the
  same outcome as a full scan. Renames are re-keyed by path first, so a moved folder of
  5,000 photos costs 5,000 stats, no embedding.
- On start, a full reconciliation run catches what changed while finder was not running.
- With `read_text`, the OCR pass (text in new screenshots and scans) runs once nothing
  is waiting to be indexed, after batches that changed something; a new change stops it
  after the page in hand, and it goes on once that change is indexed. It runs on the
  worker thread, so it never races the indexer over a file's items.
- A folder that cannot be watched natively (inotify limit reached, network file system)
  is polled instead (observers.py), and `roots()` says so. A folder that disappears goes
  offline (its files kept, hidden); it is looked for every `recheck_s` and comes back
  without re-embedding. A folder that is another one now under the same path (its file
  system unmounted or mounted over, the folder replaced) is watched again and rescanned
  (roots.py): a watch would go on following the old one, or nothing.

The watcher sits below the service: it gets what it needs (catalog, indexer, the OCR
pass) through a `WatchedLibrary`, which `finder.core.library.Library` is.
Callbacks run on the watcher's worker thread; a GUI forwards them to its own thread.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from watchdog.events import (
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
)
from watchdog.observers.api import BaseObserver

from finder.core.indexing.change_queue import Batch, ChangeQueue
from finder.core.indexing.observers import (
    NATIVE,
    OFFLINE,
    POLLING,
    ObserverFactory,
    Observers,
    OverflowListener,
    WatchedRoot,
    native_observer,
)
from finder.core.indexing.roots import RootWatches
from finder.core.indexing.watch_state import write_watch_state
from finder.core.indexing.watch_types import (
    BatchCallback,
    ErrorCallback,
    RootsCallback,
    TextCallback,
    WatchBatch,
    WatchConfig,
    WatchedLibrary,
)
from finder.core.models.embedder import Embedder
from finder.core.store.errors import CatalogError

log = logging.getLogger(__name__)

__all__ = [
    "NATIVE",
    "OFFLINE",
    "POLLING",
    "WatchBatch",
    "WatchConfig",
    "WatchedLibrary",
    "WatchedRoot",
    "Watcher",
]


class Watcher:
    """Keeps a writable library's index following its folders until `stop()`."""

    def __init__(
        self,
        library: WatchedLibrary,
        *,
        on_batch_indexed: BatchCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_roots_changed: RootsCallback | None = None,
        read_text: bool = False,
        on_text_read: TextCallback | None = None,
        config: WatchConfig | None = None,
        observer_factory: ObserverFactory = native_observer,
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
        self._cond = threading.Condition()
        self._queue = ChangeQueue(self.config.timing)  # guarded by _cond
        self._stop = threading.Event()
        self._busy = False
        self._thread: threading.Thread | None = None
        self._observers = Observers(
            self._event,
            poll_interval_s=self.config.poll_interval_s,
            observer_factory=observer_factory,
            polling_factory=polling_factory,
        )
        self._roots = RootWatches(self._observers)  # the worker's; made anew by start()
        self._modes: dict[str, WatchedRoot] = {}  # what roots() says; guarded by _cond
        self._roots_due = False  # look at the folders before the next batch
        self._overflow = OverflowListener(lambda: self.rescan(None))
        self._last_save = time.monotonic()
        self._dirty = False
        self.batches = 0  # batches indexed so far (tests and the CLI read it)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start watching; the worker first reconciles every folder with the catalog."""
        if self._thread is not None:
            raise RuntimeError("the watcher is already running")
        self._stop.clear()
        self._overflow.attach()
        self._observers.start()
        self._roots = RootWatches(self._observers)
        with self._cond:
            self._queue.rescan_all()  # the reconciliation scan
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
        self._observers.stop(timeout)
        self._roots.close()
        self._overflow.detach()
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
                self._queue.rescan_all()
            else:
                now = time.monotonic()
                for path in paths:
                    self._queue.changed(os.path.normpath(os.path.abspath(path)), now)
            self._text_cancel.set()  # index the change first; reading text goes on later
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
            if isinstance(event, FileMovedEvent | DirMovedEvent):
                self._queue.moved(src, os.fsdecode(event.dest_path), now)
            else:
                writing: bool | None = None
                if tracks_writes and isinstance(event, FileModifiedEvent):
                    writing = True
                elif isinstance(event, FileClosedEvent | FileDeletedEvent):
                    writing = False
                self._queue.changed(src, now, writing=writing)
            if isinstance(event, DirDeletedEvent) and src in self._modes:
                self._roots.lost(src)  # its watch ended with it: look again at once
                self._roots_due = True
            self._text_cancel.set()  # index the change first; reading text goes on later
            self._cond.notify_all()

    # -- the worker ----------------------------------------------------------------------

    def _run(self) -> None:
        next_check = 0.0
        failures = 0
        retry_at = 0.0
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= next_check or self._roots_due:
                    self._roots_due = False
                    self._check_roots()
                    next_check = now + self.config.recheck_s
                with self._cond:
                    seen = self._queue.marks
                    batch, wait = (
                        self._queue.take(now, self._online_roots())
                        if now >= retry_at
                        else (None, retry_at - now)
                    )
                    self._busy = batch is not None
                if batch is None:
                    self._maybe_save()
                    if self._text_due and self._read_text():
                        continue  # something may have arrived meanwhile
                    with self._cond:
                        self._cond.notify_all()  # wait_idle() callers
                        if self._queue.marks == seen and not self._stop.is_set():
                            self._cond.wait(min(wait, max(0.0, next_check - now)) + 0.01)
                    continue
                try:
                    ok = self._index(batch)
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
                    with self._cond:
                        self._queue.requeue(batch, time.monotonic())
        except Exception as exc:  # a bug must be seen, not kill watching silently
            log.exception("the watcher stopped")
            self._on_error(f"watching stopped: {type(exc).__name__}: {exc}")
        finally:
            self._maybe_save(force=True)

    def _online_roots(self) -> list[str]:
        """The folders inside which many changes may become their folder. Under the lock."""
        modes = self._modes
        return [r for r in modes if modes[r].mode != OFFLINE] or list(modes)

    def _index(self, batch: Batch) -> bool:
        """Run the indexer for one batch; False if it failed (it is retried later)."""
        indexer = self.library.indexer
        full = batch.full
        log.debug("indexing %s, %d moves", "everything" if full else batch.paths, len(batch.moves))
        try:
            report = indexer.run(
                subtrees=None if full else batch.paths,
                moves=batch.moves,
                cancel=self._stop,
                save=False,
                look_for_text=self.read_text,
            )
        except (CatalogError, OSError) as exc:  # disk full, read-only: keep serving
            self._on_error(str(exc))
            return False
        except Exception as exc:  # e.g. the model cannot load: say so, keep watching
            log.exception("indexing a batch failed")
            self._on_error(f"indexing failed: {type(exc).__name__}: {exc}")
            return False
        self.batches += 1
        indexed = WatchBatch(batch.paths, batch.moves, report, full)
        if indexed.changed:
            self._dirty = True
            self._text_due = self.read_text
        if report.offline or report.back_online:
            self._check_roots()
        try:
            self._on_batch(indexed)
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
        """Follow the catalog's folders (roots.py); rescan those that went or came back."""
        check = self._roots.follow(self.library.catalog.roots())
        if check.rescan:
            self.rescan(check.rescan)
        if check.modes != self._modes:
            with self._cond:
                self._modes = check.modes
            roots_now = self.roots()
            write_watch_state(self.library.data_dir, roots_now)
            try:
                self._on_roots(roots_now)
            except Exception:
                log.exception("on_roots_changed callback failed")
