"""Reading one file for an index run: its hash, its decode or text, its metadata, and the
model's inputs, in a decode thread (the pipeline's pool); what fails is recorded as the
file's error. One read of a photo serves its hash, its decode, its preview, its perceptual
hash and the first look for text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finder.core.indexing.first_look import FirstLook
from finder.core.ingest.extract import ExtractError, load_image, read_document, render_pdf_pages
from finder.core.ingest.metadata import FileMeta, metadata_of
from finder.core.ingest.perceptual import fingerprint
from finder.core.ingest.photo_formats import is_raw
from finder.core.ingest.scanner import ScannedFile, content_hash, hash_of
from finder.core.ingest.thumbnails import ThumbnailCache
from finder.core.models.embedder import Embedder
from finder.core.store.catalog import Catalog
from finder.core.store.rows import FileRecord
from finder.core.types import FileKind, Modality, Passage

log = logging.getLogger(__name__)

WHOLE_READ_BYTES = 64 << 20  # a photo up to this size is read into memory once


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


class FileReader:
    """Reads files for one model (or none: `embed=False` stores items without vectors)."""

    def __init__(
        self,
        catalog: Catalog,
        embedder: Embedder,
        *,
        embed: bool,
        thumbnails: ThumbnailCache | None,
        text_free: set[str],
        first_look: FirstLook | None = None,
    ) -> None:
        self.catalog = catalog
        self.embedder = embedder
        self.embed = embed
        self.thumbnails = thumbnails  # photos' previews are saved from the same decode
        # Photos whose decode shows no text: the OCR pass skips them (first_look.py).
        self.text_free = text_free
        self.first_look = first_look or FirstLook()

    def read(self, item: Work) -> Prepared:
        """Read, hash and decode one file; what fails is recorded as its error."""
        path = item.scanned.path
        prepared = Prepared(item)
        data: bytes | None = None
        try:
            if item.scanned.size == 0:
                raise ExtractError("empty file")
            if item.reuse and self._prepare_reuse(prepared):
                return prepared
            data = read_whole(item.scanned)
            prepared.digest = content_hash(path) if data is None else hash_of(data)
            if item.scanned.kind is FileKind.PHOTO:
                picture = load_image(path, data=data)
                prepared.phash = fingerprint(picture).text()
                if self.first_look.clears(item.scanned, picture):
                    self.text_free.add(path)
                else:
                    self.text_free.discard(path)
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
        prepared.meta = metadata_of(item.scanned, readable=not prepared.error, data=data)
        return prepared

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


def read_whole(scanned: ScannedFile) -> bytes | None:
    """A photo's bytes, read once for its hash and its decode (a phone's JPEG is a few MB);
    None for documents, RAW files (rawpy reads its own) and files too large to hold."""
    if scanned.kind is not FileKind.PHOTO or scanned.size > WHOLE_READ_BYTES:
        return None
    if is_raw(scanned.path):
        return None
    with open(scanned.path, "rb") as f:
        data = f.read(WHOLE_READ_BYTES + 1)
    return data if len(data) <= WHOLE_READ_BYTES else None  # it grew since the scan
