"""What finder can read, and reading it: images decoded small, documents as passages.

Every reader raises ExtractError with a reason a person understands; the indexer
records it against the file and moves on.
"""

from __future__ import annotations

import re
import threading
import warnings
import zipfile
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from finder.core.types import FileKind, Passage

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"})
DOCUMENT_SUFFIXES = frozenset(
    {".txt", ".md", ".markdown", ".pdf", ".html", ".htm", ".docx", ".pptx", ".odt", ".odp", ".rtf"}
)

# Refuse decompression bombs: 100 MP is far beyond any camera we expect; Pillow raises
# DecompressionBombError above twice this, and we turn its warning into an error too.
MAX_IMAGE_PIXELS = 100_000_000
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

Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False


# PDFium is not thread-safe, not even across documents: one call at a time in the
# process, or it crashes (pypdfium2's docs). Every use of pypdfium2 holds this lock.
PDFIUM_LOCK = threading.RLock()


class ExtractError(Exception):
    """A file could not be read; str(exc) is the reason shown to the user."""


def kind_of(path: Path) -> FileKind | None:
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return FileKind.PHOTO
    if suffix in DOCUMENT_SUFFIXES:
        return FileKind.DOCUMENT
    return None


# -- images ---------------------------------------------------------------------


def load_image(path: Path | str, size: int = DECODE_SIZE) -> Image.Image:
    """Decode an image to RGB, upright (EXIF), reduced so its short side is >= `size`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.width * img.height > MAX_IMAGE_PIXELS:
                    raise ExtractError(
                        f"image too large ({img.width}x{img.height} pixels; "
                        f"the limit is {MAX_IMAGE_PIXELS // 1_000_000} megapixels)"
                    )
                if img.format == "JPEG":
                    # DCT scaling: decoding at 1/2..1/8 size is several times faster.
                    img.draft("RGB", (size, size))
                img.seek(0)  # first frame of GIF/animated WebP/multi-page TIFF
                img.load()
                upright = ImageOps.exif_transpose(img)
                rgb = _to_rgb(upright)
    except ExtractError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ExtractError(f"image too large to decode safely ({exc})") from exc
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
    return rgb


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode == "RGB":
        return img.copy()
    if img.mode in ("RGBA", "LA", "P", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return img.convert("RGB")


# -- documents --------------------------------------------------------------------


def read_document(path: Path) -> list[Passage]:
    """A document's text as overlapping passages that fit CLIP's context."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            pages = _pdf_pages(path)
        elif suffix in (".html", ".htm"):
            pages = [(None, _html_text(_read_text(path)))]
        elif suffix == ".docx":
            pages = [(None, _docx_text(path))]
        elif suffix == ".pptx":
            pages = _pptx_slides(path)
        elif suffix in (".odt", ".odp"):
            pages = [(None, _odf_text(path))]
        elif suffix == ".rtf":
            pages = [(None, _rtf_text(_read_text(path)))]
        else:
            pages = [(None, _read_text(path))]
    except ExtractError:
        raise
    except PermissionError as exc:
        raise ExtractError("permission denied") from exc
    except FileNotFoundError as exc:
        raise ExtractError("file vanished before it could be read") from exc
    except OSError as exc:
        raise ExtractError(f"cannot read file ({exc})") from exc
    passages: list[Passage] = []
    for page, text in pages:
        for chunk in chunk_text(text):
            passages.append(Passage(chunk, page))
            if len(passages) >= MAX_PASSAGES:
                return passages
    return passages


def chunk_text(text: str, words: int = PASSAGE_WORDS, overlap: int = PASSAGE_OVERLAP) -> list[str]:
    """Split text into passages of about `words` words, consecutive ones overlapping."""
    tokens = text.split()
    if not tokens:
        return []
    step = max(1, words - overlap)
    out = []
    for start in range(0, len(tokens), step):
        out.append(" ".join(tokens[start : start + words]))
        if start + words >= len(tokens):
            break
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


def _pdf_pages(path: Path) -> list[tuple[int, str]]:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        pdf = _open_pdf(path)
        pages: list[tuple[int, str]] = []
        try:
            for index in range(min(len(pdf), MAX_PDF_PAGES)):
                page = pdf[index]
                try:
                    textpage = page.get_textpage()
                    try:
                        pages.append((index + 1, textpage.get_text_bounded()))
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
    path: Path, pages: Sequence[int] | None = None, side: int = PAGE_IMAGE_SIDE
) -> list[tuple[int, Image.Image]]:
    """PDF pages as RGB pictures whose long side is `side` px: (1-based page, picture).

    `pages` picks pages (1-based); by default the first MAX_PAGE_IMAGES.
    """
    with PDFIUM_LOCK:
        return _render_pdf_pages_locked(path, pages, side)


def _render_pdf_pages_locked(
    path: Path, pages: Sequence[int] | None, side: int
) -> list[tuple[int, Image.Image]]:
    import pypdfium2 as pdfium

    pdf = _open_pdf(path)
    out: list[tuple[int, Image.Image]] = []
    try:
        wanted = list(pages) if pages is not None else range(1, MAX_PAGE_IMAGES + 1)
        for number in wanted:
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


class _TextOfHtml(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    return " ".join(parser.parts)


_W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_text(path: Path) -> str:
    """Paragraph text of a .docx (a zip of XML); the stdlib is enough for reading text."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > 64 * MAX_TEXT_BYTES:
                raise ExtractError("document.xml is implausibly large")
            root = ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise ExtractError(f"not a readable .docx ({exc})") from exc
    paragraphs = []
    for para in root.iter(f"{_W_NS}p"):
        paragraphs.append("".join(t.text or "" for t in para.iter(f"{_W_NS}t")))
    return re.sub(r"\n{2,}", "\n", "\n".join(paragraphs))


def _zip_xml(path: Path, member: str, what: str) -> ElementTree.Element:
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(member)
            if info.file_size > 64 * MAX_TEXT_BYTES:
                raise ExtractError(f"{member} is implausibly large")
            return ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise ExtractError(f"not a readable {what} ({exc})") from exc


_A_NS = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def _pptx_slides(path: Path) -> list[tuple[int | None, str]]:
    """Text of each slide of a .pptx (a zip of XML, like .docx): slide n is page n."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)]
    except zipfile.BadZipFile as exc:
        raise ExtractError(f"not a readable .pptx ({exc})") from exc
    slides: list[tuple[int | None, str]] = []
    for name in sorted(names, key=lambda n: int(re.sub(r"\D", "", n))):
        root = _zip_xml(path, name, ".pptx")
        paragraphs = [
            "".join(t.text or "" for t in para.iter(f"{_A_NS}t")) for para in root.iter(f"{_A_NS}p")
        ]
        slides.append((int(re.sub(r"\D", "", name)), "\n".join(paragraphs)))
    return slides


_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


def _odf_text(path: Path) -> str:
    """Paragraphs and headings of an OpenDocument text or presentation (content.xml)."""
    root = _zip_xml(path, "content.xml", "OpenDocument file")
    parts = [
        " ".join("".join(el.itertext()).split())
        for el in root.iter()
        if el.tag in (f"{_TEXT_NS}p", f"{_TEXT_NS}h")
    ]
    return "\n".join(p for p in parts if p)


def _rtf_text(rtf: str) -> str:
    from striprtf.striprtf import rtf_to_text

    if not rtf.lstrip().startswith("{\\rtf"):
        raise ExtractError("not an RTF document")
    try:
        return str(rtf_to_text(rtf, errors="ignore"))
    except (ValueError, IndexError) as exc:
        raise ExtractError(f"not a readable RTF document ({exc})") from exc
