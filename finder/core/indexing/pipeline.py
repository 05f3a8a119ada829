"""The embedding half of an index run: decode in a small pool with bounded look-ahead,
embed in batches, write each batch in one transaction.

Without the model (`embed=False`: its weights are missing) the same run stores names,
passages and page/photo items without vectors, so keyword search works at once; a later
run with the model adds only the vectors (the indexer's `reuse`).

Files are read in file_reading.py (one read of a photo serves its hash, its decode and
its preview). At most `lookahead`
decoded files wait for the model, so memory stays flat however many files there are;
a killed run loses at most the batch in flight.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

import numpy as np

from finder.core.indexing.attempts import Attempts
from finder.core.indexing.file_reading import FileReader, Prepared, Work
from finder.core.indexing.first_look import FirstLook
from finder.core.indexing.priority import BACKGROUND_NICE, lower_thread_priority
from finder.core.ingest.metadata import keyword_text
from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.models.embedder import Embedder, image_batch_of
from finder.core.store.catalog import Catalog
from finder.core.store.file_meta import save_meta
from finder.core.store.model_store import ModelStore
from finder.core.store.phashes import save_phash
from finder.core.store.rows import NewItem, passages_to_items
from finder.core.store.writes import Tx
from finder.core.types import (
    FileError,
    FileKind,
    FileStatus,
    IndexProgress,
    IndexReport,
    Modality,
)

log = logging.getLogger(__name__)

ProgressCallback = Callable[[IndexProgress], None]


@dataclass(frozen=True)
class IndexerConfig:
    image_batch: int | None = None  # None: the model's device's (Embedder.image_batch)
    text_batch: int = 64
    decode_workers: int = 2
    lookahead: int = 64  # decoded files waiting for the model, at most
    save_every_s: float = 120.0  # save the vector index this often during long runs
    decode_nice: int = BACKGROUND_NICE  # decode threads yield the CPU to the UI (Linux)
    # A file a killed run had been reading this long is skipped by the next (attempts.py).
    stalled_after_s: float = 5.0
    heartbeat_s: float = 1.0  # how often a run waiting for a file says it is alive


class Pipeline:
    """Reads, embeds and stores a list of files with one model."""

    def __init__(
        self,
        catalog: Catalog,
        models: ModelStore,
        embedder: Embedder,
        config: IndexerConfig,
        thumbnails: ThumbnailCache | None = None,
        attempts: Attempts | None = None,
        *,
        embed: bool = True,
        text_free: set[str] | None = None,
        first_look: FirstLook | None = None,
    ) -> None:
        self.catalog = catalog
        self.models = models
        self.embedder = embedder
        self.config = config
        self.embed = embed  # False: the model is missing; items are stored without vectors
        self.attempts = attempts  # which file is being read, should the process die
        # Photos whose decode shows no text: the OCR pass skips them (first_look.py).
        self.text_free: set[str] = text_free if text_free is not None else set()
        self.reader = FileReader(
            catalog,
            embedder,
            embed=embed,
            thumbnails=thumbnails,
            text_free=self.text_free,
            first_look=first_look,
        )

    def run(
        self,
        work: list[Work],
        report: IndexReport,
        notify: ProgressCallback,
        cancel: threading.Event,
        started: float,
        deferred: Sequence[Work] = (),
    ) -> None:
        """Read, embed and store `work`, then `deferred` (files a run was reading when it
        died: read last, once everything else is written)."""
        if self.embed:
            self.embedder.load()  # model errors surface before any work starts
            self.models.open()
        image_batch = self.config.image_batch or image_batch_of(self.embedder)  # device known
        total = len(work) + len(deferred)
        state = IndexProgress("embedding", total=total)
        pending: list[Prepared] = []
        last_save = time.monotonic()

        def flush() -> None:
            nonlocal last_save
            if not pending:
                return
            self._write_batch(pending, report)
            if self.attempts is not None:
                for p in pending:
                    if p.work.skip is not None:  # recorded: no longer a suspect
                        self.attempts.resolved(p.work.scanned.path)
            state.done += len(pending)
            state.failed = len(report.errors)
            state.elapsed_s = time.monotonic() - started
            pending.clear()
            notify(IndexProgress(**vars(state)))
            if self.embed and time.monotonic() - last_save > self.config.save_every_s:
                self.models.save()
                last_save = time.monotonic()

        with ThreadPoolExecutor(
            self.config.decode_workers,
            "finder-decode",
            initializer=lower_thread_priority,
            initargs=(self.config.decode_nice,),
        ) as pool:
            # Suspects go one at a time, each written before the next is read: should one
            # kill the process again, no other file was being read with it.
            for items, lookahead in ((work, self.config.lookahead), (deferred, 1)):
                if not items or cancel.is_set():
                    continue
                in_flight: deque[Future[Prepared]] = deque()
                queue = iter(items)
                for item in queue:
                    in_flight.append(pool.submit(self._prepare, item))
                    if len(in_flight) >= lookahead:
                        break
                while in_flight:
                    prepared = self._result(in_flight.popleft())
                    pending.append(prepared)
                    state.current = prepared.work.scanned.path
                    images = sum((p.image is not None) + len(p.pages) for p in pending)
                    passages = sum(len(p.passages) for p in pending)
                    if (
                        lookahead == 1
                        or images >= image_batch
                        or (not self.embed and len(pending) >= image_batch)
                        or passages >= self.config.text_batch
                    ):
                        flush()
                    if not cancel.is_set():
                        next_item = next(queue, None)
                        if next_item is not None:
                            in_flight.append(pool.submit(self._prepare, next_item))
                    if cancel.is_set():
                        # Finish what is decoded (it is cheap to keep), drop the rest.
                        for future in in_flight:
                            future.cancel()
                        done = [f.result() for f in in_flight if f.done() and not f.cancelled()]
                        pending.extend(done)
                        break
                flush()

    def _result(self, future: Future[Prepared]) -> Prepared:
        """Wait for a file being read, saying now and then that the run is alive: how long
        it had been read is known should the process be killed meanwhile."""
        if self.attempts is None:
            return future.result()
        while True:
            try:
                return future.result(timeout=self.config.heartbeat_s)
            except FutureTimeout:
                self.attempts.alive()

    def _prepare(self, item: Work) -> Prepared:
        """Runs in a worker thread: one file read (its reading kept in the journal, should
        the process die meanwhile), or its skip. Never raises."""
        path = item.scanned.path
        if item.skip is not None:
            return Prepared(item, error=item.skip)
        if self.attempts is None:
            return self.reader.read(item)
        self.attempts.started(path, item.deaths)
        try:
            return self.reader.read(item)
        finally:
            self.attempts.ended(path)

    def _write_batch(self, batch: list[Prepared], report: IndexReport) -> None:
        if not self.embed:
            self._write_unembedded(batch, report)
            return
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
                    file_id, old_items = _record_file(tx, p)
                    removed += old_items
                if p.error is not None:
                    report.errors.append(FileError(s.path, p.error))
                    continue
                if p.image is not None:
                    new = [
                        NewItem(Modality.IMAGE, image_vectors[image_row], text=keyword_text(p.meta))
                    ]
                    image_row += 1
                else:
                    count = len(p.passages)
                    new = passages_to_items(
                        p.passages,
                        text_vectors[text_row : text_row + count],
                        unique=existing is None,
                    )
                    text_row += count
                    # Page pictures come after the photos in image_vectors.
                    for number, _ in p.pages:
                        new.append(NewItem(Modality.IMAGE, image_vectors[page_row], page=number))
                        page_row += 1
                vectors = [i.vector for i in new if i.vector is not None]
                if existing is not None and p.reuse_ids is not None:
                    ids = p.reuse_ids
                    if not tx.add_vectors(existing.id, model_id, ids, vectors):
                        continue  # it changed meanwhile: the next run sees it again
                    report.reembedded += 1
                else:
                    ids = tx.add_items(file_id, model_id, new)
                for item_id, item, vector in zip(ids, new, vectors, strict=True):
                    added[item.modality][0].append(item_id)
                    added[item.modality][1].append(vector)
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

    def _write_unembedded(self, batch: list[Prepared], report: IndexReport) -> None:
        """The model is missing: each file's items (its photo, passages, PDF pages) are
        stored without vectors; names and text are searchable, OCR can read the pictures."""
        removed: list[int] = []
        with self.catalog.transaction() as tx:
            for p in batch:
                s = p.work.scanned
                file_id, old_items = _record_file(tx, p)
                removed += old_items
                if p.error is not None:
                    report.errors.append(FileError(s.path, p.error))
                    continue
                if s.kind is FileKind.PHOTO:
                    new = [NewItem(Modality.IMAGE, None, text=keyword_text(p.meta))]
                else:
                    new = passages_to_items(p.passages, None)
                    new += [NewItem(Modality.IMAGE, None, page=n) for n, _ in p.pages]
                tx.add_items(file_id, None, new)
                if p.work.existing is None:
                    report.added += 1
                else:
                    report.updated += 1
        if removed and self.models.is_open:
            self.models.store.remove(removed)

    def _encode_texts(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        size = self.config.text_batch
        parts = [
            self.embedder.encode_texts(texts[i : i + size]) for i in range(0, len(texts), size)
        ]
        return np.concatenate(parts)


def _record_file(tx: Tx, p: Prepared) -> tuple[int, list[int]]:
    """The file's catalog row, as read now (OK, or ERROR with its reason): its id and the
    ids of the items it had before."""
    s = p.work.scanned
    ids = tx.upsert_file(
        root_id=p.work.root_id,
        path=s.path,
        size=s.size,
        mtime_ns=s.mtime_ns,
        content_hash=p.digest,
        kind=s.kind,
        status=FileStatus.ERROR if p.error else FileStatus.OK,
        error=p.error,
    )
    save_phash(tx, ids[0], p.phash)
    save_meta(tx, ids[0], p.meta)
    return ids
