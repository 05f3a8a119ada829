"""The second, lower-priority pass after the embeddings: read the text in pictures.

Photos are gated cheaply and read only where they seem to hold text (screenshots, scans,
receipts, whiteboards): photos the index run's first look already cleared (first_look.py:
the stroke count, then this gate's text detector, on the decode that run made) are not
decoded again; the rest (a run without the OCR pass, an older finder's files) go through
the text detector on a small copy here. PDF pages without a text
layer (scans) are rendered larger and read. The text goes into the image item's text,
which the keyword index (FTS5) follows; `files.ocr_state` records that a file was looked
at ("text", "none", "not needed", "failed"), until its content changes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from finder.core.ingest.extract import OCR_PAGE_SIDE, ExtractError, load_image, render_pdf_pages
from finder.core.ingest.ocr import Ocr, OcrUnavailableError, searchable
from finder.core.store.catalog import Catalog
from finder.core.types import FileKind, IndexProgress

log = logging.getLogger(__name__)

OCR_DECODE_SIZE = 640  # photos are decoded with their short side up to twice this
BATCH = 16  # files per transaction


@dataclass
class OcrReport:
    looked_at: int = 0
    read: int = 0  # images (photos or pages) read in full
    cleared: int = 0  # photos the index run's first look cleared: not decoded again
    with_text: int = 0  # files where text was found
    failed: int = 0
    cancelled: bool = False
    elapsed_s: float = 0.0
    unavailable: str | None = None  # why OCR could not run at all


def read_text_in_images(
    catalog: Catalog,
    ocr: Ocr,
    *,
    gate: bool = True,
    cancel: threading.Event | None = None,
    progress: Callable[[IndexProgress], None] | None = None,
    limit: int | None = None,
    cleared: set[str] | None = None,
) -> OcrReport:
    """OCR every file not looked at yet (at most `limit`); returns what it did.

    `cleared`: paths of photos the index run found without text (its first look, from
    the decode it made); they are recorded as "none" without being decoded again, and
    taken out of the set. `gate=False` reads every photo in full (slow; for measurements).
    """
    started = time.monotonic()
    report = OcrReport()
    try:
        return _run(catalog, ocr, gate, cancel, progress, limit, started, report, cleared)
    except OcrUnavailableError as exc:  # files stay pending until OCR can run
        log.warning("%s; text in pictures is not read", exc)
        report.unavailable = str(exc)
        return report


def _run(
    catalog: Catalog,
    ocr: Ocr,
    gate: bool,
    cancel: threading.Event | None,
    progress: Callable[[IndexProgress], None] | None,
    limit: int | None,
    started: float,
    report: OcrReport,
    cleared: set[str] | None,
) -> OcrReport:
    cancel = cancel or threading.Event()
    notify = progress or (lambda p: None)
    while not cancel.is_set() and (limit is None or report.looked_at < limit):
        todo = catalog.ocr_pending(BATCH if limit is None else min(BATCH, limit - report.looked_at))
        if not todo:
            break
        outcomes: list[tuple[int, str, dict[int, str]]] = []
        for file_id, path, kind in todo:
            if cancel.is_set():
                break
            if gate and kind is FileKind.PHOTO and cleared is not None and path in cleared:
                cleared.discard(path)
                outcome: tuple[str, dict[int, str]] | None = ("none", {})
                report.cleared += 1
            else:
                outcome = _read_file(catalog, ocr, file_id, path, kind, gate, report, cancel)
            if outcome is None:
                break  # stopped inside a long PDF: it stays pending, read again next time
            state, texts = outcome
            outcomes.append((file_id, state, texts))
            report.looked_at += 1
            report.with_text += state == "text"
            notify(
                IndexProgress(
                    "reading text",
                    report.looked_at,
                    report.looked_at,
                    report.failed,
                    current=path,
                    elapsed_s=time.monotonic() - started,
                )
            )
        with catalog.transaction() as tx:
            for file_id, state, texts in outcomes:
                tx.set_ocr(file_id, state, texts)
    report.cancelled = cancel.is_set()
    report.elapsed_s = time.monotonic() - started
    return report


def _read_file(
    catalog: Catalog,
    ocr: Ocr,
    file_id: int,
    path: str,
    kind: FileKind,
    gate: bool,
    report: OcrReport,
    cancel: threading.Event,
) -> tuple[str, dict[int, str]] | None:
    """(state, text per item) of one file; None if `cancel` stopped it between pages."""
    targets = catalog.ocr_targets(file_id)
    if not targets:
        return "not needed", {}  # text documents, PDFs whose pages all have text
    texts: dict[int, str] = {}
    try:
        if kind is FileKind.PHOTO:
            # The gate needs a small copy only (JPEGs decode it several times faster).
            if not gate or ocr.has_text(load_image(path)):
                report.read += 1
                texts[targets[0][0]] = ocr.read(load_image(path, OCR_DECODE_SIZE))
        else:
            pages = {page: item for item, page in targets if page is not None}
            for page, picture in render_pdf_pages(Path(path), sorted(pages), OCR_PAGE_SIDE):
                if cancel.is_set():
                    return None
                if not gate or ocr.has_text(picture):
                    report.read += 1
                    texts[pages[page]] = ocr.read(picture)
    except ExtractError as exc:  # changed or gone since it was indexed: the next run sees it
        log.info("cannot read %s for OCR: %s", path, exc)
        report.failed += 1
        return "failed", {}
    texts = {item: searchable(text) for item, text in texts.items() if text.strip()}
    return ("text" if texts else "none"), texts
