"""Scan -> diff -> decode (bounded pool) -> embed in batches -> write in transactions.

Unchanged files cost one stat. Changed files are confirmed by content hash; files that
moved keep their vectors. Each batch is one transaction, so a killed run loses at most
the batch in flight, and the next run picks up where it stopped.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path

from finder.core.indexing.attempts import JOURNAL_DIR, STUCK_REASON, Attempts, Suspect
from finder.core.indexing.file_reading import Work
from finder.core.indexing.first_look import FirstLook
from finder.core.indexing.pipeline import IndexerConfig, Pipeline, ProgressCallback
from finder.core.indexing.without_model import load_or_why_not, needing_text
from finder.core.ingest.exclusions import ExcludedPaths
from finder.core.ingest.extract import kind_of
from finder.core.ingest.scanner import (
    ScannedFile,
    SkippedPath,
    content_hash,
    indexable,
    is_within,
    outermost,
    scan,
    scan_subtree,
)
from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.models.embedder import Embedder
from finder.core.store.catalog import Catalog
from finder.core.store.errors import storage_error
from finder.core.store.model_store import ModelStore
from finder.core.store.rows import FileRecord, Root
from finder.core.store.vectors import sync
from finder.core.types import FileError, FileStatus, IndexProgress, IndexReport

__all__ = ["Indexer", "IndexerConfig", "ProgressCallback"]  # the last two live in pipeline

log = logging.getLogger(__name__)


# Errors writing the data dir: the run stops with a clear StorageError.
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT})


class Indexer:
    def __init__(
        self,
        catalog: Catalog,
        models: ModelStore,
        embedder: Embedder,
        config: IndexerConfig | None = None,
        thumbnails: ThumbnailCache | None = None,
    ) -> None:
        self.catalog = catalog
        self.models = models
        self.embedder = embedder
        self.config = config or IndexerConfig()
        self.thumbnails = thumbnails  # photos' previews are saved from the same decode
        self.text_free: set[str] = set()  # photos cleared of text for the OCR pass
        # How a decode clears a photo of text; the library gives it the text detector
        # when the OCR pass is on.
        self.first_look = FirstLook()
        self._run_lock = threading.Lock()  # one run at a time (the app and its watcher)

    def run(
        self,
        roots: Iterable[Path] | None = None,
        *,
        subtrees: Iterable[Path | str] | None = None,
        moves: Sequence[tuple[str, str]] = (),
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        save: bool = True,
        vectors_only: bool = False,
        model_missing: str = "",
        look_for_text: bool = True,
    ) -> IndexReport:
        """Bring the catalog up to date with `roots` (all watched roots when None).

        `subtrees` narrows the scan to these files and folders inside watched roots (what
        a watcher saw change), with the same outcome as a full scan for them. `moves`,
        (source, destination) pairs seen by a watcher, are re-keyed in the catalog first:
        a moved folder keeps its vectors for one stat per file. `save=False` leaves the
        vector index unsaved (it is rebuilt from the catalog if the process dies).
        `vectors_only=True` only adds this model's vectors to unchanged files another
        model indexed, leaving new, changed, moved and deleted files to the indexer that
        follows the folders (a watcher's): two indexers replacing the same file's items
        would drop each other's vectors. `look_for_text=False`: no OCR pass follows, so
        photos are not shown to the text detector (first_look.py). `model_missing`: why
        the model cannot be loaded, known before trying (its weights are not on disk).
        Then, and when loading it fails, names, passages and text are stored without
        vectors (report.model_missing says why); a later run with the model adds only
        the vectors. Raises StorageError when the data dir cannot be written.
        """
        with self._run_lock:
            attempts = Attempts(
                self.catalog.path.parent / JOURNAL_DIR, heartbeat_s=self.config.heartbeat_s
            )
            suspects = attempts.open()  # what runs that died were reading
            try:
                return self._run(
                    roots,
                    subtrees,
                    moves,
                    progress,
                    cancel,
                    save,
                    vectors_only,
                    attempts,
                    suspects,
                    model_missing,
                    self.first_look if look_for_text else FirstLook(),
                )
            except OSError as exc:
                if exc.errno in _STORAGE_ERRNOS:  # reading user files never raises here
                    raise storage_error(self.catalog.path.parent, exc) from exc
                raise
            finally:
                attempts.close()

    def _run(
        self,
        roots: Iterable[Path] | None,
        subtrees: Iterable[Path | str] | None,
        moves: Sequence[tuple[str, str]],
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
        save: bool,
        vectors_only: bool,
        attempts: Attempts,
        suspects: dict[str, Suspect],
        model_missing: str,
        first_look: FirstLook,
    ) -> IndexReport:
        started = time.monotonic()
        report = IndexReport()
        cancel = cancel or threading.Event()
        notify = progress or (lambda p: None)
        notify(IndexProgress("scanning"))

        if moves:
            self._apply_moves(moves, report)
        model_id = self.catalog.find_model_id(self.embedder.key)
        embedded = self.catalog.embedded_file_ids(model_id) if model_id is not None else set()
        # Files another model embedded, or stored while the model was missing: items are
        # model-independent, so an unchanged one only gets this model's vectors (the other
        # models' vectors stay).
        others = (self.catalog.embedded_by_any() | self.catalog.stored_without_vectors()) - embedded

        work: list[Work] = []
        vanished: dict[str, FileRecord] = {}
        excluded = ExcludedPaths(self.catalog.exclusions())  # left out: vanish, unread
        for root, subs in self._targets(roots, subtrees):
            if not self._root_available(root, report):
                continue
            skipped: list[SkippedPath] = []
            leave_out = excluded.entry_rule(root.path)  # excluded folders: not even listed
            if subs is None:
                existing = self.catalog.files_under(root.id)
                found: Iterable[ScannedFile] = scan(Path(root.path), skipped, leave_out)
            else:
                existing = {}
                for sub in subs:
                    existing.update(self.catalog.files_within(root.id, sub))
                found = chain.from_iterable(
                    scan_subtree(Path(root.path), Path(sub), skipped, leave_out) for sub in subs
                )
            for scanned in excluded.kept(found, root.path):
                report.scanned += 1
                record = existing.pop(scanned.path, None)
                if record is not None and _unchanged(record, scanned, embedded):
                    report.unchanged += 1
                    continue
                reuse = record is not None and _unchanged(record, scanned, others)
                work.append(Work(root.id, scanned, record, reuse))
            report.errors += [FileError(s.path, s.reason) for s in skipped]
            # Files in a folder we could not look into are kept as they were.
            unlistable = [s.path for s in skipped if s.unlistable]
            vanished.update(
                (path, record)
                for path, record in existing.items()
                if not any(is_within(path, folder) for folder in unlistable)
            )
            if cancel.is_set():
                break

        if vectors_only:
            work, vanished = [w for w in work if w.reuse], {}
        else:
            work = self._relink_moves_and_touches(work, vanished, embedded, report, others)
        if vanished and not cancel.is_set():
            with self.catalog.transaction() as tx:
                removed_items = tx.delete_files(r.id for r in vanished.values())
            report.removed = len(vanished)
            self._store_remove(removed_items)

        work, deferred = self._triage(work, suspects, vectors_only)
        if (work or deferred) and not cancel.is_set() and not model_missing:
            model_missing = load_or_why_not(self.embedder, vectors_only)
        if model_missing:
            report.model_missing = model_missing
            work, deferred = needing_text(work, report), needing_text(deferred, report)
        if (work or deferred) and not cancel.is_set():
            pipeline = Pipeline(
                self.catalog,
                self.models,
                self.embedder,
                self.config,
                self.thumbnails,
                attempts,
                embed=not model_missing,
                text_free=self.text_free,
                first_look=first_look,
            )
            pipeline.run(work, report, notify, cancel, started, deferred)
        if roots is None and subtrees is None and not vectors_only and not cancel.is_set():
            listed = {w.scanned.path for w in chain(work, deferred)}
            for path in suspects.keys() - listed:  # gone, or changed back: nothing to read
                attempts.resolved(path)
        report.cancelled = cancel.is_set()
        total = len(work) + len(deferred)
        if self.models.is_open and save:
            notify(IndexProgress("saving", total, total, elapsed_s=time.monotonic() - started))
            self.models.save()
        report.elapsed_s = time.monotonic() - started
        notify(IndexProgress("done", total, total, len(report.errors), elapsed_s=report.elapsed_s))
        return report

    def _triage(
        self, work: list[Work], suspects: dict[str, Suspect], vectors_only: bool
    ) -> tuple[list[Work], list[Work]]:
        """(work now, work last). A file that was being read when a run died is skipped
        and recorded as an error if it had stalled that run or was read when two runs died;
        else it is read again, last, once the rest is written."""
        if not suspects:
            return work, []
        now: list[Work] = []
        last: list[Work] = []
        for item in work:
            suspect = suspects.get(item.scanned.path)
            if suspect is None:
                now.append(item)
            elif suspect.skipped(self.config.stalled_after_s):
                log.warning("%s: %s", suspect.path, STUCK_REASON)
                if not vectors_only:  # a switch leaves recording it to the folders' indexer
                    item.skip = STUCK_REASON
                    now.append(item)
            else:
                item.deaths = suspect.deaths
                last.append(item)
        return now, last

    def save(self) -> None:
        """Save the vector index now (after runs with `save=False`)."""
        with self._run_lock:
            try:
                self.models.save()
            except OSError as exc:
                raise storage_error(self.catalog.path.parent, exc) from exc

    # -- what to scan, and whether a folder is there -------------------------------------

    def _targets(
        self, roots: Iterable[Path] | None, subtrees: Iterable[Path | str] | None
    ) -> list[tuple[Root, list[str] | None]]:
        """The roots to scan, each whole (None) or at a few paths inside it."""
        root_rows = self.catalog.roots()
        if roots is not None:
            wanted = {str(r) for r in roots}
            root_rows = [r for r in root_rows if r.path in wanted]
        if subtrees is None:
            return [(root, None) for root in root_rows]
        by_root: dict[int, list[str]] = {}
        for sub in subtrees:
            path = os.path.normpath(os.path.abspath(sub))
            root = next((r for r in root_rows if is_within(path, r.path)), None)
            if root is not None:  # a change outside the watched folders is none of ours
                by_root.setdefault(root.id, []).append(path)
        return [
            (root, None if root.path in by_root[root.id] else outermost(by_root[root.id]))
            for root in root_rows
            if root.id in by_root
        ]

    def _root_available(self, root: Root, report: IndexReport) -> bool:
        """A root that is gone (or an empty mount point) goes offline: its files are kept
        and hidden until it is back, when they return without being embedded again."""
        state = _folder_state(root.path)
        gone = state == "missing" or (state == "empty" and self.catalog.has_files(root.id))
        if gone:
            if not root.offline:
                log.warning("%s is not available: its files are kept, hidden", root.path)
                self._store_remove(self.catalog.set_root_offline(root.id, True))
            report.offline.append(root.path)
            return False
        if root.offline:
            log.info("%s is back", root.path)
            self.catalog.set_root_offline(root.id, False)
            if self.models.is_open:
                sync(self.models.store, self.catalog, self.models.model_id)
            report.back_online.append(root.path)
        return True

    def _apply_moves(self, moves: Sequence[tuple[str, str]], report: IndexReport) -> None:
        """Follow renames by path. The scan that follows checks every moved file's stat,
        so a wrong guess here costs a re-read, never a wrong result."""
        removed: list[int] = []
        with self.catalog.transaction() as tx:
            for src, dst in moves:
                src, dst = os.path.normpath(src), os.path.normpath(dst)
                src_root, dst_root = self.catalog.root_of(src), self.catalog.root_of(dst)
                if (
                    src_root is None
                    or dst_root is None
                    or src_root.offline
                    or dst_root.offline
                    or not indexable(dst, dst_root.path)
                ):
                    continue  # the scans of both ends sort it out
                record = self.catalog.file_by_path(src)
                if record is not None and kind_of(Path(dst)) is not record.kind:
                    continue  # renamed to another kind: a deletion and a new file
                moved, stale = tx.move_path(src, dst, dst_root.id)
                report.moved += moved
                removed += stale
        self._store_remove(removed)

    # -- moves, touches, deletions ---------------------------------------------------

    def _relink_moves_and_touches(
        self,
        work: list[Work],
        vanished: dict[str, FileRecord],
        embedded: set[int],
        report: IndexReport,
        others: set[int] | None = None,
    ) -> list[Work]:
        """Files whose bytes we already have: relink moved ones, accept touched ones.

        Only files whose size matches a candidate are hashed here; the rest are hashed
        during decoding anyway.
        """
        others = others or set()
        by_hash: dict[str, list[FileRecord]] = {}
        for gone in vanished.values():
            if (
                gone.content_hash
                and gone.status is FileStatus.OK
                and (gone.id in embedded or gone.id in others)
            ):
                by_hash.setdefault(gone.content_hash, []).append(gone)
        vanished_sizes = {r.size for recs in by_hash.values() for r in recs}
        remaining: list[Work] = []
        for item in work:
            scanned, record = item.scanned, item.existing
            touched = (
                record is not None
                and record.status is FileStatus.OK
                and (record.id in embedded or record.id in others)
                and record.size == scanned.size
                and record.kind is scanned.kind
            )
            if not touched and (record is not None or scanned.size not in vanished_sizes):
                remaining.append(item)
                continue
            try:
                digest = content_hash(scanned.path)
            except OSError:
                remaining.append(item)  # decoding will record the error
                continue
            if touched and record is not None and digest == record.content_hash:
                with self.catalog.transaction() as tx:
                    tx.touch_file(record.id, scanned.size, scanned.mtime_ns)
                if record.id in embedded:
                    report.unchanged += 1
                else:  # same bytes, embedded with another model: add this one's vectors
                    remaining.append(Work(item.root_id, scanned, record, reuse=True))
                continue
            # The same bytes under a name of another kind (note.txt -> note.jpg) are not a
            # move: the old file is removed, and the new one read as what its name says.
            candidates = (
                [gone for gone in by_hash.get(digest, []) if gone.kind is scanned.kind]
                if record is None
                else []
            )
            if candidates:
                moved = candidates[-1]
                by_hash[digest].remove(moved)
                del vanished[moved.path]
                with self.catalog.transaction() as tx:
                    tx.move_file(
                        moved.id, item.root_id, scanned.path, scanned.size, scanned.mtime_ns
                    )
                report.moved += 1
                if moved.id not in embedded:
                    remaining.append(Work(item.root_id, scanned, moved, reuse=True))
                continue
            remaining.append(item)
        return remaining

    def _store_remove(self, item_ids: list[int]) -> None:
        if item_ids and self.models.is_open:
            self.models.store.remove(item_ids)
        # When the store is not open yet, it syncs with the catalog when it opens.


def _unchanged(record: FileRecord, scanned: ScannedFile, embedded: set[int]) -> bool:
    if record.size != scanned.size or record.mtime_ns != scanned.mtime_ns:
        return False
    if record.kind is not scanned.kind:  # kept under another kind (an older finder's move)
        return False
    # A file that failed stays failed until it changes; a good one needs this model's vectors.
    return record.status is FileStatus.ERROR or record.id in embedded


def _folder_state(path: str) -> str:
    """ "ok", "empty", or "missing" (gone, not a folder, or not readable: a share that is down)."""
    try:
        with os.scandir(path) as entries:
            return "ok" if next(entries, None) is not None else "empty"
    except OSError:
        return "missing"
