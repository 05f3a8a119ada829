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
from collections.abc import Callable, Collection
from pathlib import Path
from typing import IO
from xml.etree import ElementTree

from finder.core.ingest.budget import Budget
from finder.core.ingest.errors import ExtractError

# XML decompressed and parsed per file, all members together: far beyond the text of
# any real document (a 1000-page .docx has ~30 MB), and bounded in time and memory.
MAX_XML_BYTES = 50 << 20
# Members larger than this are refused when compressed more than MAX_ZIP_RATIO times:
# XML compresses 5-20x; a zip bomb, hundreds of times.
ZIP_RATIO_FLOOR = 1 << 20
MAX_ZIP_RATIO = 100
_READ_CHUNK = 1 << 16

_W_NS = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A_NS = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_TEXT_NS = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_SLIDE = re.compile(r"ppt/slides/slide(\d+)\.xml")


def docx_text(path: Path, budget: Budget) -> str:
    """Paragraph text of a .docx."""
    with _open(path, ".docx") as archive:
        paragraphs = _paragraphs(archive, "word/document.xml", ".docx", budget, *_DOCX)
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
            paragraphs = _paragraphs(archive, name, ".pptx", budget, *_PPTX)
            slides.append((number, "\n".join(paragraphs)))
        return slides


def odf_text(path: Path, budget: Budget) -> str:
    """Paragraphs and headings of an OpenDocument text or presentation (content.xml)."""
    with _open(path, "OpenDocument file") as archive:
        paragraphs = _paragraphs(archive, "content.xml", "OpenDocument file", budget, *_ODF)
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


def _paragraphs(
    archive: _Archive,
    member: str,
    what: str,
    budget: Budget,
    tags: Collection[str],
    text_of: Callable[[ElementTree.Element], str],
) -> list[str]:
    """`text_of` each outermost element whose tag is in `tags`, in document order, until
    the budget's text is full. Elements are dropped from the tree as soon as they end."""
    try:
        info = archive.zip.getinfo(member)
    except KeyError as exc:
        raise ExtractError(f"not a readable {what} (no {member} inside)") from exc
    _refuse_bombs(info, archive.xml_left)
    out: list[str] = []
    try:
        with archive.zip.open(info) as raw:  # streaming: nothing is decompressed ahead
            stream = _Counted(raw, archive, budget)
            open_elements: list[ElementTree.Element] = []
            inside = 0  # depth inside elements whose text is being taken
            for event, element in ElementTree.iterparse(stream, events=("start", "end")):
                if event == "start":
                    open_elements.append(element)
                    if inside or element.tag in tags:
                        inside += 1
                    continue
                open_elements.pop()
                if inside:
                    inside -= 1
                    if inside:
                        continue  # part of a paragraph still open: read with it
                    out.append(budget.take(text_of(element)))
                    if budget.full:
                        break
                element.clear()
                if open_elements:
                    open_elements[-1].remove(element)  # the last child: found at once
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


def _runs_text(run_tag: str) -> Callable[[ElementTree.Element], str]:
    def text_of(paragraph: ElementTree.Element) -> str:
        return "".join(t.text or "" for t in paragraph.iter(run_tag))

    return text_of


def _all_text(paragraph: ElementTree.Element) -> str:
    return " ".join("".join(paragraph.itertext()).split())


_DOCX = ({f"{_W_NS}p"}, _runs_text(f"{_W_NS}t"))
_PPTX = ({f"{_A_NS}p"}, _runs_text(f"{_A_NS}t"))
_ODF = ({f"{_TEXT_NS}p", f"{_TEXT_NS}h"}, _all_text)
