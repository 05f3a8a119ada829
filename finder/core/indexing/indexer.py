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
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from finder.core.indexing.priority import BACKGROUND_NICE, lower_thread_priority
from finder.core.ingest.extract import (
    ExtractError,
    kind_of,
    load_image,
    read_document,
    render_pdf_pages,
)
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
from finder.core.store.rows import FileRecord, NewItem, Root, passages_to_items
from finder.core.store.vectors import sync
from finder.core.types import (
    FileError,
    FileKind,
    FileStatus,
    IndexProgress,
    IndexReport,
    Modality,
    Passage,
)

log = logging.getLogger(__name__)

ProgressCallback = Callable[[IndexProgress], None]

# Errors writing the data dir: the run stops with a clear StorageError.
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EROFS, errno.EDQUOT})


@dataclass(frozen=True)
class IndexerConfig:
    image_batch: int = 32
    text_batch: int = 64
    decode_workers: int = 2
    lookahead: int = 64  # decoded files waiting for the model, at most
    save_every_s: float = 120.0  # save the vector index this often during long runs
    decode_nice: int = BACKGROUND_NICE  # decode threads yield the CPU to the UI (Linux)


@dataclass
class _Work:
    root_id: int
    scanned: ScannedFile
    existing: FileRecord | None
    # Unchanged and embedded with another model: its items only need this model's vectors.
    reuse: bool = False


@dataclass
class _Prepared:
    work: _Work
    digest: str | None = None
    image: Any = None  # the model's input tensor
    passages: list[Any] = field(default_factory=list)
    pages: list[tuple[int, Any]] = field(default_factory=list)  # PDF page pictures, as input
    error: str | None = None
    reuse_ids: list[int] | None = None  # the existing items the inputs above belong to


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
        would drop each other's vectors. Raises StorageError when the data dir cannot be
        written.
        """
        with self._run_lock:
            try:
                return self._run(roots, subtrees, moves, progress, cancel, save, vectors_only)
            except OSError as exc:
                if exc.errno in _STORAGE_ERRNOS:  # reading user files never raises here
                    raise storage_error(self.catalog.path.parent, exc) from exc
                raise

    def _run(
        self,
        roots: Iterable[Path] | None,
        subtrees: Iterable[Path | str] | None,
        moves: Sequence[tuple[str, str]],
        progress: ProgressCallback | None,
        cancel: threading.Event | None,
        save: bool,
        vectors_only: bool,
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
        # Files another model embedded: items are model-independent, so an unchanged one
        # only gets this model's vectors (the other models' vectors stay).
        others = self.catalog.embedded_by_any() - embedded

        work: list[_Work] = []
        vanished: dict[str, FileRecord] = {}
        for root, subs in self._targets(roots, subtrees):
            if not self._root_available(root, report):
                continue
            skipped: list[SkippedPath] = []
            if subs is None:
                existing = self.catalog.files_under(root.id)
                found: Iterable[ScannedFile] = scan(Path(root.path), skipped)
            else:
                existing = {}
                for sub in subs:
                    existing.update(self.catalog.files_within(root.id, sub))
                found = chain.from_iterable(
                    scan_subtree(Path(root.path), Path(sub), skipped) for sub in subs
                )
            for scanned in found:
                report.scanned += 1
                record = existing.pop(scanned.path, None)
                if record is not None and _unchanged(record, scanned, embedded):
                    report.unchanged += 1
                    continue
                reuse = record is not None and _unchanged(record, scanned, others)
                work.append(_Work(root.id, scanned, record, reuse))
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

        if work and not cancel.is_set():
            self._embed_all(work, report, notify, cancel, started)
        report.cancelled = cancel.is_set()
        if self.models.is_open and save:
            notify(
                IndexProgress("saving", len(work), len(work), elapsed_s=time.monotonic() - started)
            )
            self.models.save()
        report.elapsed_s = time.monotonic() - started
        notify(
            IndexProgress(
                "done", len(work), len(work), len(report.errors), elapsed_s=report.elapsed_s
            )
        )
        return report

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
        work: list[_Work],
        vanished: dict[str, FileRecord],
        embedded: set[int],
        report: IndexReport,
        others: set[int] | None = None,
    ) -> list[_Work]:
        """Files whose bytes we already have: relink moved ones, accept touched ones.

        Only files whose size matches a candidate are hashed here; the rest are hashed
        during decoding anyway.
        """
        others = others or set()
        by_hash: dict[str, list[FileRecord]] = {}
        for record in vanished.values():
            if (
                record.content_hash
                and record.status is FileStatus.OK
                and (record.id in embedded or record.id in others)
            ):
                by_hash.setdefault(record.content_hash, []).append(record)
        vanished_sizes = {r.size for recs in by_hash.values() for r in recs}
        remaining: list[_Work] = []
        for item in work:
            scanned, record = item.scanned, item.existing
            touched = (
                record is not None
                and record.status is FileStatus.OK
                and (record.id in embedded or record.id in others)
                and record.size == scanned.size
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
                    remaining.append(_Work(item.root_id, scanned, record, reuse=True))
                continue
            candidates = by_hash.get(digest) if record is None else None
            if candidates:
                moved = candidates.pop()
                del vanished[moved.path]
                with self.catalog.transaction() as tx:
                    tx.move_file(
                        moved.id, item.root_id, scanned.path, scanned.size, scanned.mtime_ns
                    )
                report.moved += 1
                if moved.id not in embedded:
                    remaining.append(_Work(item.root_id, scanned, moved, reuse=True))
                continue
            remaining.append(item)
        return remaining

    def _store_remove(self, item_ids: list[int]) -> None:
        if item_ids and self.models.is_open:
            self.models.store.remove(item_ids)
        # When the store is not open yet, it syncs with the catalog when it opens.

    # -- the embedding pipeline --------------------------------------------------------

    def _embed_all(
        self,
        work: list[_Work],
        report: IndexReport,
        notify: ProgressCallback,
        cancel: threading.Event,
        started: float,
    ) -> None:
        self.embedder.load()  # model errors surface before any work starts
        self.models.open()
        total = len(work)
        state = IndexProgress("embedding", total=total)
        pending: list[_Prepared] = []
        last_save = time.monotonic()

        def flush() -> None:
            nonlocal last_save
            if not pending:
                return
            self._write_batch(pending, report)
            state.done += len(pending)
            state.failed = len(report.errors)
            state.elapsed_s = time.monotonic() - started
            pending.clear()
            notify(IndexProgress(**vars(state)))
            if time.monotonic() - last_save > self.config.save_every_s:
                self.models.save()
                last_save = time.monotonic()

        with ThreadPoolExecutor(
            self.config.decode_workers,
            "finder-decode",
            initializer=lower_thread_priority,
            initargs=(self.config.decode_nice,),
        ) as pool:
            in_flight: deque[Future[_Prepared]] = deque()
            queue = iter(work)
            for item in queue:
                in_flight.append(pool.submit(self._prepare, item))
                if len(in_flight) >= self.config.lookahead:
                    break
            while in_flight:
                prepared = in_flight.popleft().result()
                if not cancel.is_set():
                    next_item = next(queue, None)
                    if next_item is not None:
                        in_flight.append(pool.submit(self._prepare, next_item))
                pending.append(prepared)
                state.current = prepared.work.scanned.path
                images = sum((p.image is not None) + len(p.pages) for p in pending)
                passages = sum(len(p.passages) for p in pending)
                if images >= self.config.image_batch or passages >= self.config.text_batch:
                    flush()
                if cancel.is_set():
                    # Finish what is decoded (it is cheap to keep), drop the rest.
                    for future in in_flight:
                        future.cancel()
                    done = [f.result() for f in in_flight if f.done() and not f.cancelled()]
                    pending.extend(done)
                    break
            flush()

    def _prepare(self, item: _Work) -> _Prepared:
        """Runs in a worker thread: read, hash and decode one file. Never raises."""
        path = item.scanned.path
        prepared = _Prepared(item)
        try:
            if item.scanned.size == 0:
                raise ExtractError("empty file")
            if item.reuse and self._prepare_reuse(prepared):
                return prepared
            prepared.digest = content_hash(path)
            if item.scanned.kind is FileKind.PHOTO:
                picture = load_image(path)
                if self.thumbnails is not None:
                    self.thumbnails.put(path, picture)
                prepared.image = self.embedder.preprocess(picture)
            else:
                prepared.passages = read_document(Path(path))
                if Path(path).suffix.lower() == ".pdf":
                    prepared.pages = [
                        (n, self.embedder.preprocess(picture))
                        for n, picture in render_pdf_pages(Path(path))
                    ]
                if not prepared.passages and not prepared.pages:
                    raise ExtractError("no text found")
        except ExtractError as exc:
            prepared.error = str(exc)
        except PermissionError:
            prepared.error = "permission denied"
        except FileNotFoundError:
            prepared.error = "file vanished before it could be read"
        except OSError as exc:
            prepared.error = f"cannot read file ({exc.strerror or exc})"
        except Exception as exc:  # a decoder bug must cost one file, not the whole run
            log.exception("unexpected error reading %s", path)
            prepared.error = f"unexpected error: {type(exc).__name__}: {exc}"
        if prepared.error is not None:
            prepared.image, prepared.passages, prepared.pages = None, [], []
        return prepared

    def _prepare_reuse(self, prepared: _Prepared) -> bool:
        """The model inputs of a file's existing items (passages from the catalog, pictures
        decoded again). False when the items do not have the expected shape: the file is
        then extracted from scratch."""
        work = prepared.work
        assert work.existing is not None
        path = work.scanned.path
        items = self.catalog.file_items(work.existing.id)
        texts = [(i, page, text) for i, modality, page, text in items if modality is Modality.TEXT]
        pictures = [(i, page) for i, modality, page, _ in items if modality is Modality.IMAGE]
        if work.scanned.kind is FileKind.PHOTO:
            if texts or len(pictures) != 1 or pictures[0][1] is not None:
                return False
            prepared.image = self.embedder.preprocess(load_image(path))
            prepared.reuse_ids = [pictures[0][0]]
            return True
        if not items or any(page is None for _, page in pictures):
            return False
        prepared.passages = [Passage(text or "", page) for _, page, text in texts]
        if pictures:
            wanted = [int(page) for _, page in pictures]  # type: ignore[arg-type]
            rendered = dict(render_pdf_pages(Path(path), wanted))
            if set(rendered) != set(wanted):
                prepared.passages = []
                return False
            prepared.pages = [(page, self.embedder.preprocess(rendered[page])) for page in wanted]
        prepared.reuse_ids = [i for i, _, _ in texts] + [i for i, _ in pictures]
        return True

    def _write_batch(self, batch: list[_Prepared], report: IndexReport) -> None:
        pictures = [p.image for p in batch if p.image is not None]
        pictures += [tensor for p in batch for _, tensor in p.pages]
        image_vectors = self.embedder.encode_images(pictures)
        texts = [passage.text for p in batch for passage in p.passages]
        text_vectors = self._encode_texts(texts)
        model_id = self.models.model_id
        added: dict[Modality, tuple[list[int], list[np.ndarray]]] = {m: ([], []) for m in Modality}
        removed: list[int] = []
        image_row = text_row = 0
        page_row = sum(p.image is not None for p in batch)
        with self.catalog.transaction() as tx:
            for p in batch:
                s = p.work.scanned
                existing = p.work.existing if p.reuse_ids is not None else None
                if existing is None:
                    file_id, old_items = tx.upsert_file(
                        root_id=p.work.root_id,
                        path=s.path,
                        size=s.size,
                        mtime_ns=s.mtime_ns,
                        content_hash=p.digest,
                        kind=s.kind,
                        status=FileStatus.ERROR if p.error else FileStatus.OK,
                        error=p.error,
                    )
                    removed += old_items
                if p.error is not None:
                    report.errors.append(FileError(s.path, p.error))
                    continue
                if p.image is not None:
                    new = [NewItem(Modality.IMAGE, image_vectors[image_row])]
                    image_row += 1
                else:
                    count = len(p.passages)
                    new = passages_to_items(p.passages, text_vectors[text_row : text_row + count])
                    text_row += count
                    # Page pictures come after the photos in image_vectors.
                    for number, _ in p.pages:
                        new.append(NewItem(Modality.IMAGE, image_vectors[page_row], page=number))
                        page_row += 1
                if existing is not None and p.reuse_ids is not None:
                    ids = p.reuse_ids
                    if not tx.add_vectors(existing.id, model_id, ids, [i.vector for i in new]):
                        continue  # it changed meanwhile: the next run sees it again
                    report.reembedded += 1
                else:
                    ids = tx.add_items(file_id, model_id, new)
                for item_id, item in zip(ids, new, strict=True):
                    added[item.modality][0].append(item_id)
                    added[item.modality][1].append(item.vector)
                report.items_embedded += len(new)
                if existing is not None:
                    pass
                elif p.work.existing is None:
                    report.added += 1
                else:
                    report.updated += 1
        store = self.models.store
        store.remove(removed)
        for modality, (ids, vectors) in added.items():
            if ids:
                store.add(modality, np.asarray(ids, dtype=np.int64), np.stack(vectors))

    def _encode_texts(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        size = self.config.text_batch
        parts = [
            self.embedder.encode_texts(texts[i : i + size]) for i in range(0, len(texts), size)
        ]
        return np.concatenate(parts)


def _unchanged(record: FileRecord, scanned: ScannedFile, embedded: set[int]) -> bool:
    if record.size != scanned.size or record.mtime_ns != scanned.mtime_ns:
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
