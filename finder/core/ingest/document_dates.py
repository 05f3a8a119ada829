"""A document's own date: PDF metadata (CreationDate, else ModDate) and DOCX core
properties (dcterms:created, else modified). Small reads only: the PDF's info dictionary,
the DOCX's core.xml (refused above MAX_CORE_BYTES)."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from finder.core.ingest.extract import PDFIUM_LOCK

MAX_CORE_BYTES = 1 << 20
# D:YYYYMMDDHHmmSS then Z, or +HH'mm' / -HH'mm' (every part after the year optional).
_PDF_DATE = re.compile(
    r"^(?:D:)?(\d{4})(\d\d)?(\d\d)?(\d\d)?(\d\d)?(\d\d)?\s*(Z|[+-]\d\d'?\d\d'?|[+-]\d\d)?"
)
_CORE_DATE = re.compile(r"<dcterms:(created|modified)\b[^>]*>\s*([^<\s]+)\s*</dcterms:\1>")


def document_date(path: Path) -> datetime | None:
    """When the document says it was made (aware when it gives its zone), or None."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf_date(path)
    if suffix in (".docx", ".pptx"):
        return _core_date(path)
    return None


def _pdf_date(path: Path) -> datetime | None:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError:
            return None
        try:
            info = pdf.get_metadata_dict(skip_empty=True)
        finally:
            pdf.close()
    for key in ("CreationDate", "ModDate"):
        when = parse_pdf_date(str(info.get(key, "")))
        if when is not None:
            return when
    return None


def parse_pdf_date(text: str) -> datetime | None:
    match = _PDF_DATE.match(text.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        when = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
        )
    except ValueError:
        return None
    if not 1900 < when.year < 2200:
        return None
    if zone == "Z":
        return when.replace(tzinfo=UTC)
    if zone:
        digits = zone[1:].replace("'", "")
        delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        return when.replace(tzinfo=timezone(-delta if zone[0] == "-" else delta))
    return when


def _core_date(path: Path) -> datetime | None:
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("docProps/core.xml")
            if info.file_size > MAX_CORE_BYTES:
                return None
            xml = archive.read(info).decode("utf-8", "replace")
    except (KeyError, OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
        return None
    found = dict(_CORE_DATE.findall(xml))
    for key in ("created", "modified"):
        text = found.get(key, "").replace("Z", "+00:00")
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            continue
        if 1900 < when.year < 2200:
            return when
    return None
