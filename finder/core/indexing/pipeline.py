"""The embedding half of an index run: decode in a small pool with bounded look-ahead,
embed in batches, write each batch in one transaction.

Without the model (`embed=False`: its weights are missing) the same run stores names,
passages and page/photo items without vectors, so keyword search works at once; a later
run with the model adds only the vectors (the indexer's `reuse`).

One read of a file serves its hash, its decode and its thumbnail. At most `lookahead`
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from finder.core.indexing.attempts import Attempts
from finder.core.indexing.priority import BACKGROUND_NICE, lower_thread_priority
from finder.core.ingest.extract import ExtractError, load_image, read_document, render_pdf_pages
from finder.core.ingest.metadata import FileMeta, keyword_text, metadata_of
from finder.core.ingest.perceptual import fingerprint
from finder.core.ingest.photo_formats import is_raw
from finder.core.ingest.scanner import ScannedFile, content_hash, hash_of
from finder.core.ingest.text_hint import applies as first_look_applies
from finder.core.ingest.text_hint import likely_text
from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.models.embedder import Embedder
from finder.core.store.catalog import Catalog
from finder.core.store.file_meta import save_meta
from finder.core.store.model_store import ModelStore
from finder.core.store.phashes import save_phash
from finder.core.store.rows import FileRecord, NewItem, passages_to_items
from finder.core.store.writes import Tx
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
WHOLE_READ_BYTES = 64 << 20  # a photo up to this size is read into memory once


@dataclass(frozen=True)
class IndexerConfig:
    image_batch: int = 32
    text_batch: int = 64
    decode_workers: int = 2
    lookahead: int = 64  # decoded files waiting for the model, at most
    save_every_s: float = 120.0  # save the vector index this often during long runs
    decode_nice: int = BACKGROUND_NICE  # decode threads yield the CPU to the UI (Linux)
    # A file a killed run had been reading this long is skipped by the next (attempts.py).
    stalled_after_s: float = 5.0
    heartbeat_s: float = 1.0  # how often a run waiting for a file says it is alive


@dataclass
class Work:
    """A file to read and embed."""

    root_id: int
    scanned: ScannedFile
    existing: FileRecord | None
    # Unchanged and embedded with another model: its items only need this model's vectors.
    reuse: bool = False
    deaths: int = 0  # runs that died while reading it (attempts.py)
    skip: str | None = None  # not read: recorded as an error with this reason


@dataclass
class Prepared:
    """A file read and decoded, ready for the model (or the reason it could not be)."""

    work: Work
    digest: str | None = None
    image: Any = None  # the model's input tensor
    passages: list[Any] = field(default_factory=list)
    pages: list[tuple[int, Any]] = field(default_factory=list)  # PDF page pictures, as input
    error: str | None = None
    reuse_ids: list[int] | None = None  # the existing items the inputs above belong to
    phash: str | None = None  # a photo's perceptual fingerprint (duplicates)
    meta: FileMeta | None = None  # date taken, place, camera... (ingest/metadata.py)


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
    ) -> None:
        self.catalog = catalog
        self.models = models
        self.embedder = embedder
        self.config = config
        self.embed = embed  # False: the model is missing; items are stored without vectors
        self.thumbnails = thumbnails  # photos' previews are saved from the same decode
        self.attempts = attempts  # which file is being read, should the process die
        # Camera photos whose decode shows no text: the OCR pass skips them (text_hint.py).
        self.text_free: set[str] = text_free if text_free is not None else set()

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
                        or images >= self.config.image_batch
                        or (not self.embed and len(pending) >= self.config.image_batch)
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
            return self._read(item)
        self.attempts.started(path, item.deaths)
        try:
            return self._read(item)
        finally:
            self.attempts.ended(path)

    def _read(self, item: Work) -> Prepared:
        """Read, hash and decode one file; what fails is recorded as its error."""
        path = item.scanned.path
        prepared = Prepared(item)
        try:
            if item.scanned.size == 0:
                raise ExtractError("empty file")
            if item.reuse and self._prepare_reuse(prepared):
                return prepared
            data = _read_whole(item.scanned)
            prepared.digest = content_hash(path) if data is None else hash_of(data)
            if item.scanned.kind is FileKind.PHOTO:
                picture = load_image(path, data=data)
                prepared.phash = fingerprint(picture).text()
                self._first_look(item.scanned, picture)
                if self.thumbnails is not None:
                    self.thumbnails.put(path, picture)
                if self.embed:
                    prepared.image = self.embedder.preprocess(picture)
            else:
                prepared.passages = read_document(Path(path))
                if Path(path).suffix.lower() == ".pdf":
                    prepared.pages = [
                        (n, self.embedder.preprocess(picture) if self.embed else None)
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
        prepared.meta = metadata_of(item.scanned, readable=not prepared.error)
        return prepared

    def _first_look(self, scanned: ScannedFile, picture: Any) -> None:
        """Whether the OCR pass must look at a photo: cleared here from this decode."""
        if first_look_applies(scanned.path, scanned.size) and not likely_text(picture):
            self.text_free.add(scanned.path)
        else:
            self.text_free.discard(scanned.path)

    def _prepare_reuse(self, prepared: Prepared) -> bool:
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


def _read_whole(scanned: ScannedFile) -> bytes | None:
    """A photo's bytes, read once for its hash and its decode (a phone's JPEG is a few MB);
    None for documents, RAW files (rawpy reads its own) and files too large to hold."""
    if scanned.kind is not FileKind.PHOTO or scanned.size > WHOLE_READ_BYTES:
        return None
    if is_raw(scanned.path):
        return None
    with open(scanned.path, "rb") as f:
        data = f.read(WHOLE_READ_BYTES + 1)
    return data if len(data) <= WHOLE_READ_BYTES else None  # it grew since the scan


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
