"""Text of Office and OpenDocument files (zips of XML), read streaming and bounded.

A 610 KB .docx can hold 200 MB of XML: parsing it whole took 2.8 GB. Here members are
refused from their zip header when too large or compressed like a bomb, then parsed as
they are decompressed (a header can lie: the bytes read are counted too), each paragraph
dropped once its text is taken. The archive is opened once per file (a .pptx reopened
it per slide: quadratic in slides).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from finder.core.ingest.budget import Budget
from finder.core.ingest.errors import ExtractError

# XML decompressed and parsed per file, all members together: far beyond the text of
# any real document (a 1000-page .docx has ~30 MB), and bounded in time and memory.
MAX_XML_BYTES = 50 << 20
# Members larger than this are refused when compressed more than MAX_ZIP_RATIO times:
# a document's XML compresses 5-20x (tables of empty cells, some tens); a zip bomb
# 300-1000x (200 MB of XML in 610 KB).
ZIP_RATIO_FLOOR = 1 << 20
MAX_ZIP_RATIO = 200
_READ_CHUNK = 1 << 16

_W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A_NS = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_SLIDE = re.compile(r"ppt/slides/slide(\d+)\.xml")


def docx_text(path: Path, budget: Budget) -> str:
    """Paragraph text of a .docx."""
    with _open(path, ".docx") as archive:
        paragraphs = _paragraphs(archive, "word/document.xml", ".docx", budget, _DOCX)
        return "\n".join(p for p in paragraphs if p)


def pptx_slides(path: Path, budget: Budget) -> list[tuple[int | None, str]]:
    """Text of each slide of a .pptx: slide n is page n."""
    with _open(path, ".pptx") as archive:
        numbered = []
        for name in archive.namelist():
            match = _SLIDE.fullmatch(name)
            if match:
                numbered.append((int(match.group(1)), name))
        slides: list[tuple[int | None, str]] = []
        for number, name in sorted(numbered):
            if budget.full:
                break
            paragraphs = _paragraphs(archive, name, ".pptx", budget, _PPTX)
            slides.append((number, "\n".join(paragraphs)))
        return slides


def odf_text(path: Path, budget: Budget) -> str:
    """Paragraphs and headings of an OpenDocument text or presentation (content.xml)."""
    with _open(path, "OpenDocument file") as archive:
        paragraphs = _paragraphs(archive, "content.xml", "OpenDocument file", budget, _ODF)
        return "\n".join(p for p in paragraphs if p)


class _Archive:
    """An open zip and the XML bytes still allowed from it."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.zip = archive
        self.xml_left = MAX_XML_BYTES

    def namelist(self) -> list[str]:
        return self.zip.namelist()

    def __enter__(self) -> _Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()


def _open(path: Path, what: str) -> _Archive:
    try:
        return _Archive(zipfile.ZipFile(path))
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise ExtractError(f"not a readable {what} ({exc})") from exc


@dataclass(frozen=True)
class _Format:
    """Which elements are paragraphs, and which text in them counts."""

    paragraphs: frozenset[str]
    text_tag: str | None  # only the text of these elements (runs); None: all text
    normalise: bool  # runs of whitespace made one space (ODF keeps its layout in spaces)


_DOCX = _Format(frozenset({f"{_W_NS}p"}), f"{_W_NS}t", normalise=False)
_PPTX = _Format(frozenset({f"{_A_NS}p"}), f"{_A_NS}t", normalise=False)
_ODF = _Format(frozenset({f"{_TEXT_NS}p", f"{_TEXT_NS}h"}), None, normalise=True)


def _paragraphs(
    archive: _Archive, member: str, what: str, budget: Budget, form: _Format
) -> list[str]:
    """The text of each outermost paragraph, in document order, until the budget's text is
    full. The tree never holds more than the open elements and one child of each: each
    element is dropped once its text and the text after it have been taken."""
    try:
        info = archive.zip.getinfo(member)
    except KeyError as exc:
        raise ExtractError(f"not a readable {what} (no {member} inside)") from exc
    _refuse_bombs(info, archive.xml_left)
    out: list[str] = []
    parts: list[str] = []  # the open paragraph's text so far
    opened: list[ElementTree.Element] = []
    last_child: dict[ElementTree.Element, ElementTree.Element] = {}
    inside = 0  # depth inside the outermost open paragraph
    try:
        with archive.zip.open(info) as raw:  # streaming: nothing is decompressed ahead
            for event, element in ElementTree.iterparse(
                _Counted(raw, archive, budget), events=("start", "end")
            ):
                if event == "start":
                    parent = opened[-1] if opened else None
                    before = last_child.pop(parent, None) if parent is not None else None
                    if inside and form.text_tag is None and parent is not None:
                        parts.append((before.tail if before is not None else parent.text) or "")
                    if before is not None and parent is not None:
                        parent.remove(before)  # done with, the text after it too
                    if parent is not None:
                        last_child[parent] = element
                    opened.append(element)
                    if inside or element.tag in form.paragraphs:
                        inside += 1
                    continue
                opened.pop()
                last = last_child.pop(element, None)
                if inside:
                    if form.text_tag is None:
                        parts.append((last.tail if last is not None else element.text) or "")
                    elif element.tag == form.text_tag:
                        parts.append(element.text or "")
                    inside -= 1
                    if not inside:
                        text = "".join(parts)
                        parts = []
                        out.append(budget.take(" ".join(text.split()) if form.normalise else text))
                        if budget.full:
                            break
                if last is not None:
                    element.remove(last)
    except ElementTree.ParseError as exc:
        raise ExtractError(f"not a readable {what} ({exc})") from exc
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise ExtractError(f"damaged {what} ({exc})") from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted, or an unknown compression
        raise ExtractError(f"not a readable {what} ({exc})") from exc
    return out


def _refuse_bombs(info: zipfile.ZipInfo, allowed: int) -> None:
    size, packed = info.file_size, info.compress_size
    if size > allowed:
        raise ExtractError(
            f"{info.filename} is too large to read ({size / 2**20:.0f} MB of XML; "
            f"the limit is {MAX_XML_BYTES >> 20} MB per file)"
        )
    if size > ZIP_RATIO_FLOOR and size > MAX_ZIP_RATIO * max(packed, 1):
        raise ExtractError(
            f"{info.filename} looks like a zip bomb (compressed {size // max(packed, 1)} times)"
        )


class _Counted:
    """The member's bytes for the parser: counted against the archive's allowance (a zip
    header may understate them) and the budget's deadline checked between chunks."""

    def __init__(self, raw: IO[bytes], archive: _Archive, budget: Budget) -> None:
        self.raw = raw
        self.archive = archive
        self.budget = budget

    def read(self, size: int = -1) -> bytes:
        self.budget.check()
        data = self.raw.read(min(size, _READ_CHUNK) if size > 0 else _READ_CHUNK)
        self.archive.xml_left -= len(data)
        if self.archive.xml_left < 0:
            raise ExtractError(f"too much XML to read (over {MAX_XML_BYTES >> 20} MB)")
        return data
