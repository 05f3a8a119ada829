"""What finder can read, and reading it: images decoded small, documents as passages.

Every reader raises ExtractError with a reason a person understands; the indexer
records it against the file and moves on. Every reader is bounded: inputs whose decoded
size would be unbounded are refused before decoding, and documents are read under a
Budget (time, text kept).
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageFile, UnidentifiedImageError

from finder.core.ingest.budget import Budget
from finder.core.ingest.errors import ExtractCancelled, ExtractError
from finder.core.ingest.html import html_text
from finder.core.ingest.office import docx_text, odf_text, pptx_slides
from finder.core.ingest.photo_formats import (
    PHOTO_SUFFIXES,
    is_raw,
    needs_heif,
    open_heif_support,
    open_raw,
)
from finder.core.ingest.rtf import rtf_text
from finder.core.types import FileKind, Passage

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff", *PHOTO_SUFFIXES}
)
DOCUMENT_SUFFIXES = frozenset(
    {".txt", ".md", ".markdown", ".pdf", ".html", ".htm", ".docx", ".pptx", ".odt", ".odp", ".rtf"}
)

# Refused before decoding (the README promises it): 100 MP is far beyond any camera we
# expect, and decoding one takes ~300-400 MB. Pillow is told the same limit (its warning
# above it is turned into an error; it refuses outright above twice it).
MAX_IMAGE_PIXELS = 100_000_000
# Refused before decoding too: a 9,900,000 x 10 strip is 99 MP in a 280 KB PNG, and
# scaling its short side to the model's 224 px would take gigabytes. Panoramas stay
# well inside (a 360-degree one is ~2:1 to 10:1; 20000 x 1000 is 20:1).
MAX_ASPECT_RATIO = 50
# The model sees ~224 px; decode JPEGs at a reduced scale of at least this size.
DECODE_SIZE = 256
MAX_TEXT_BYTES = 4 << 20  # a huge text file is read up to this much
MAX_PDF_PAGES = 500
# PDF pages rendered and embedded as pictures (a dropped screenshot finds its page): the
# first few, small (the model sees 224 px); OCR renders image-only pages larger.
MAX_PAGE_IMAGES = 8
PAGE_IMAGE_SIDE = 384
OCR_PAGE_SIDE = 1280
MAX_PASSAGES = 2000
# CLIP's text context is 77 tokens; English averages ~1.3 BPE tokens per word.
PASSAGE_WORDS = 40
PASSAGE_OVERLAP = 10
# A passage also stops at this many characters (40 English words are ~250), and a run
# without spaces longer than MAX_WORD_CHARS (a base64 blob, a 60,000-letter "word") is
# cut into pieces of that length: BPE is quadratic in the length of one word.
PASSAGE_CHARS = 400
MAX_WORD_CHARS = 100

Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False


# PDFium is not thread-safe, not even across documents: one call at a time in the
# process, or it crashes (pypdfium2's docs). Every use of pypdfium2 holds this lock.
PDFIUM_LOCK = threading.RLock()


def kind_of(path: Path) -> FileKind | None:
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return FileKind.PHOTO
    if suffix in DOCUMENT_SUFFIXES:
        return FileKind.DOCUMENT
    return None


# -- images ---------------------------------------------------------------------


def load_image(
    path: Path | str, size: int = DECODE_SIZE, *, data: bytes | None = None
) -> Image.Image:
    """Decode an image to RGB, upright (EXIF), reduced so its short side is >= `size`.
    `data`: the file's bytes when the caller already read them (see read_whole)."""
    try:
        if is_raw(path):  # (turned upright by rawpy)
            rgb, orientation = open_raw(path, MAX_IMAGE_PIXELS), None
            check_dimensions(rgb.width, rgb.height)
        else:
            if needs_heif(path):
                open_heif_support()
            rgb, orientation = _decoded(path if data is None else io.BytesIO(data), size)
    except ExtractError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # (Pillow's own message names its limit, twice ours: say ours.)
        raise ExtractError(
            "image too large to decode safely "
            f"(the limit is {MAX_IMAGE_PIXELS // 1_000_000} megapixels)"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ExtractError("not a readable image (unknown or corrupt format)") from exc
    except PermissionError as exc:
        raise ExtractError("permission denied") from exc
    except FileNotFoundError as exc:
        raise ExtractError("file vanished before it could be read") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncated/corrupt data as OSError (and SyntaxError for some formats).
        raise ExtractError(f"corrupt or truncated image ({exc})") from exc
    short = min(rgb.size)
    if short > size * 2:
        # Keep decoded images small: they wait in the pipeline's look-ahead queue.
        scale = size * 2 / short
        new_size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(new_size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    if orientation in _TRANSPOSE:
        rgb = rgb.transpose(_TRANSPOSE[orientation])
    return rgb


def _decoded(path: Path | str | io.BytesIO, size: int) -> tuple[Image.Image, int | None]:
    """Pillow's decode of `path` reduced for `size`, in RGB, and its EXIF orientation."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            check_dimensions(img.width, img.height)
            if img.format == "JPEG":
                # DCT scaling: decoding at 1/2..1/8 size is several times faster.
                img.draft("RGB", (size, size))
            img.seek(0)  # first frame of GIF/animated WebP/multi-page TIFF
            orientation = img.getexif().get(_ORIENTATION)
            img.load()
            turned = orientation if isinstance(orientation, int) else None
            return _to_rgb(_reduced(img, size)), turned


def check_dimensions(width: int, height: int) -> None:
    """ExtractError unless an image of this size may be decoded (asked before decoding)."""
    if width * height > MAX_IMAGE_PIXELS:
        raise ExtractError(
            f"image too large ({width}x{height} pixels; "
            f"the limit is {MAX_IMAGE_PIXELS // 1_000_000} megapixels)"
        )
    if max(width, height) > MAX_ASPECT_RATIO * max(1, min(width, height)):
        raise ExtractError(
            f"image too elongated to show or search ({width}x{height} pixels; "
            f"the limit is {MAX_ASPECT_RATIO}:1)"
        )


_ORIENTATION = 0x0112  # EXIF: how to turn the stored pixels to display them upright
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_REDUCIBLE_MODES = frozenset({"L", "LA", "RGB", "RGBA", "RGBa", "La", "I", "F"})


def _reduced(img: Image.Image, size: int) -> Image.Image:
    """A decoded image shrunk by a whole factor, keeping its short side >= 2 * size,
    before any conversion: a large picture is then held once at full size, not three
    times (decoded, converted to RGB, turned upright)."""
    factor = min(img.size) // (size * 2)
    if factor < 2:
        return img
    if img.mode not in _REDUCIBLE_MODES:  # palette, 1-bit, CMYK...: one conversion first
        img = img.convert("RGBA" if "transparency" in img.info or img.mode == "PA" else "RGB")
    return img.reduce(factor)


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img.copy()
    if img.mode in ("RGBA", "LA", "P", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return img.convert("RGB")


# -- documents --------------------------------------------------------------------


def read_document(path: Path, budget: Budget | None = None) -> list[Passage]:
    """A document's text as overlapping passages that fit CLIP's context.

    Read under `budget` (by default: EXTRACT_SECONDS, MAX_TEXT_CHARS; give it the run's
    cancel Event to stop between chunks): ExtractError once its time is up.
    """
    budget = budget or Budget()
    pages = document_pages(path, budget)
    passages: list[Passage] = []
    for page, text in pages:
        budget.check()
        chunks = chunk_text(text, limit=MAX_PASSAGES - len(passages))
        passages += [Passage(chunk, page) for chunk in chunks]
        if len(passages) >= MAX_PASSAGES:
            break
    return passages


def document_pages(path: Path, budget: Budget | None = None) -> list[tuple[int | None, str]]:
    """A document's text as read for its passages: (page or slide number, text) of each
    part (the preview shows it). ExtractError saying why it cannot be read."""
    budget = budget or Budget()
    try:
        return _pages(path, path.suffix.lower(), budget)
    except (ExtractError, ExtractCancelled):
        raise
    except PermissionError as exc:
        raise ExtractError("permission denied") from exc
    except FileNotFoundError as exc:
        raise ExtractError("file vanished before it could be read") from exc
    except OSError as exc:
        raise ExtractError(f"cannot read file ({exc})") from exc


def _pages(path: Path, suffix: str, budget: Budget) -> list[tuple[int | None, str]]:
    """(page or slide number, text) of each part of a document."""
    if suffix == ".pdf":
        return _pdf_pages(path, budget)
    if suffix in (".html", ".htm"):
        return [(None, html_text(_read_text(path), budget))]
    if suffix == ".docx":
        return [(None, docx_text(path, budget))]
    if suffix == ".pptx":
        return pptx_slides(path, budget)
    if suffix in (".odt", ".odp"):
        return [(None, odf_text(path, budget))]
    if suffix == ".rtf":
        return [(None, rtf_text(_read_text(path), budget))]
    return [(None, budget.take(_read_text(path)))]


def chunk_text(
    text: str,
    words: int = PASSAGE_WORDS,
    overlap: int = PASSAGE_OVERLAP,
    max_chars: int = PASSAGE_CHARS,
    limit: int | None = None,
) -> list[str]:
    """Split text into passages of at most `words` words and about `max_chars` characters,
    consecutive ones overlapping by about `overlap` words; at most `limit` of them.

    Linear in the text: a run without spaces longer than MAX_WORD_CHARS counts as words
    of that length.
    """
    tokens = _bounded_words(text)
    out: list[str] = []
    start = 0
    while start < len(tokens) and (limit is None or len(out) < limit):
        end, size = start, 0
        while end < len(tokens) and end - start < words:
            size += len(tokens[end]) + 1
            if size > max_chars + 1 and end > start:
                break
            end += 1
        out.append(" ".join(tokens[start:end]))
        if end >= len(tokens):
            break
        taken = end - start
        start += max(1, taken - overlap * taken // words)  # overlap in proportion
    return out


def _bounded_words(text: str) -> list[str]:
    words = text.split()
    if all(len(word) <= MAX_WORD_CHARS for word in words):
        return words
    out: list[str] = []
    for word in words:
        if len(word) <= MAX_WORD_CHARS:
            out.append(word)
        else:
            out += [word[i : i + MAX_WORD_CHARS] for i in range(0, len(word), MAX_WORD_CHARS)]
    return out


def _read_text(path: Path) -> str:
    with open(path, "rb") as f:
        raw = f.read(MAX_TEXT_BYTES)
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractError("binary data, not text")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    return raw.decode("utf-8-sig", errors="replace")


def _open_pdf(path: Path) -> Any:
    """A pypdfium2 PdfDocument, or ExtractError saying why not. Call with PDFIUM_LOCK held."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ExtractError("encrypted PDF (a password is needed)") from exc
        raise ExtractError(f"not a readable PDF ({exc})") from exc


def _pdf_pages(path: Path, budget: Budget) -> list[tuple[int | None, str]]:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = _open_pdf(path)
        pages: list[tuple[int | None, str]] = []
        try:
            for index in range(min(len(pdf), MAX_PDF_PAGES)):
                budget.check()
                if budget.full:
                    break
                page = pdf[index]
                try:
                    textpage = page.get_textpage()
                    try:
                        pages.append((index + 1, budget.take(textpage.get_text_bounded())))
                    finally:
                        textpage.close()
                finally:
                    page.close()
        except pdfium.PdfiumError as exc:
            raise ExtractError(f"damaged PDF ({exc})") from exc
        finally:
            pdf.close()
    return pages


def render_pdf_pages(
    path: Path,
    pages: Sequence[int] | None = None,
    side: int = PAGE_IMAGE_SIDE,
    budget: Budget | None = None,
) -> list[tuple[int, Image.Image]]:
    """PDF pages as RGB pictures whose long side is `side` px: (1-based page, picture).

    `pages` picks pages (1-based); by default the first MAX_PAGE_IMAGES. The budget's
    deadline is checked between pages.
    """
    with PDFIUM_LOCK:
        return _render_pdf_pages_locked(path, pages, side, budget or Budget())


def _render_pdf_pages_locked(
    path: Path, pages: Sequence[int] | None, side: int, budget: Budget
) -> list[tuple[int, Image.Image]]:
    import pypdfium2 as pdfium

    pdf = _open_pdf(path)
    out: list[tuple[int, Image.Image]] = []
    try:
        wanted = list(pages) if pages is not None else range(1, MAX_PAGE_IMAGES + 1)
        for number in wanted:
            budget.check()
            if not 1 <= number <= min(len(pdf), MAX_PDF_PAGES):
                continue
            page = pdf[number - 1]
            try:
                width, height = page.get_size()
                scale = side / max(width, height, 1.0)
                bitmap = page.render(scale=scale)
                out.append((number, bitmap.to_pil().convert("RGB")))
                bitmap.close()
            finally:
                page.close()
    except pdfium.PdfiumError as exc:
        raise ExtractError(f"damaged PDF ({exc})") from exc
    finally:
        pdf.close()
    return out
