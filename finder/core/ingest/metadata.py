"""What people remember a file by, read once at index time (issue #17): when it was taken
(EXIF DateTimeOriginal with its offset, else the other EXIF dates, else the document's
own date, else the file's modification time, marked so), where (GPS, and a place name
from the offline gazetteer), which camera, how it is turned, its pixel size, the RAW file
of a RAW+JPEG pair, and the words its author gave it (EXIF description and comment,
XMP/IPTC title, description and keywords) for the keyword index.

Reading metadata never fails a file: whatever cannot be read is left unknown.
"""

from __future__ import annotations

import io
import logging
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PIL import Image

from finder.core.ingest.document_dates import document_date
from finder.core.ingest.meta_words import photo_words
from finder.core.ingest.photo_formats import needs_heif, open_heif_support, raw_companion
from finder.core.ingest.places import GAZETTEER, Gazetteer
from finder.core.ingest.scanner import ScannedFile
from finder.core.types import FileKind

log = logging.getLogger(__name__)

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
_MAKE, _MODEL, _ORIENTATION, _DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
_ORIGINAL, _DIGITIZED = 0x9003, 0x9004
_OFFSET, _OFFSET_ORIGINAL, _OFFSET_DIGITIZED = 0x9010, 0x9011, 0x9012
_OFFSET_RE = re.compile(r"^[+-]\d\d:\d\d$")


@dataclass(frozen=True)
class FileMeta:
    """One file's row of `file_meta` (its metadata columns), and the words for its keyword
    index entry (not stored in file_meta)."""

    taken: str | None = None  # ISO 8601, local time of the photo, with its offset if known
    taken_utc: float | None = None  # seconds since the epoch (the local time if no offset)
    taken_source: str | None = None  # "exif", "document" or "file" (the mtime)
    lat: float | None = None
    lon: float | None = None
    place: str | None = None  # "Lisbon, Portugal"
    camera: str | None = None  # "Canon EOS 5D Mark IV"
    orientation: int | None = None  # EXIF 1..8
    width: int | None = None  # pixels, as shown (turned upright)
    height: int | None = None
    companion: str | None = None  # the RAW file of a RAW+JPEG pair
    words: str = ""  # description, title, keywords: searchable by keyword


def read_metadata(
    path: str,
    kind: FileKind,
    mtime_ns: int,
    *,
    readable: bool = True,
    gazetteer: Gazetteer = GAZETTEER,
    data: bytes | None = None,
) -> FileMeta:
    """A file's metadata. `readable=False` (it could not be read): its mtime only.
    `data`: a photo's bytes when the caller already read them (not read again)."""
    fallback = file_time(mtime_ns)
    if not readable:
        return fallback
    try:
        if kind is FileKind.PHOTO:
            return _photo(path, fallback, gazetteer, data)
        when = document_date(Path(path))
        if when is not None:
            return FileMeta(when.isoformat(), when.timestamp(), "document")
    except Exception as exc:  # a metadata reader's bug costs the metadata, not the file
        log.warning("cannot read the metadata of %s: %s", path, exc)
    return fallback


def metadata_of(
    scanned: ScannedFile, *, readable: bool = True, data: bytes | None = None
) -> FileMeta:
    """read_metadata of a file as the scan found it (`data`: its bytes, already read)."""
    return read_metadata(scanned.path, scanned.kind, scanned.mtime_ns, readable=readable, data=data)


def keyword_text(meta: FileMeta | None) -> str | None:
    """The text a photo's picture item starts with in the keyword index (None: none)."""
    return meta.words or None if meta is not None else None


def file_time(mtime_ns: int) -> FileMeta:
    """The file's modification time as its date, in this computer's time zone."""
    when = datetime.fromtimestamp(mtime_ns / 1e9, UTC).astimezone()
    return FileMeta(when.isoformat(timespec="seconds"), mtime_ns / 1e9, "file")


def _photo(
    path: str, fallback: FileMeta, gazetteer: Gazetteer, data: bytes | None = None
) -> FileMeta:
    if needs_heif(path):
        open_heif_support()
    try:
        with Image.open(path if data is None else io.BytesIO(data)) as img:
            exif = img.getexif()
            size = img.size
            words = photo_words(img, exif)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        # A RAW that Pillow cannot parse (CR3, RAF...): known by its date and pair only.
        return FileMeta(**{**vars(fallback), "companion": raw_companion(path)})
    orientation = _int(exif.get(_ORIENTATION))
    if orientation is not None and orientation in (5, 6, 7, 8):
        size = (size[1], size[0])
    taken, taken_utc = exif_taken(exif)
    lat, lon = gps_position(exif)
    return FileMeta(
        taken=taken or fallback.taken,
        taken_utc=taken_utc if taken else fallback.taken_utc,
        taken_source="exif" if taken else "file",
        lat=lat,
        lon=lon,
        place=gazetteer.place(lat, lon) if lat is not None and lon is not None else None,
        camera=camera_name(exif.get(_MAKE), exif.get(_MODEL)),
        orientation=orientation,
        width=size[0],
        height=size[1],
        companion=raw_companion(path),
        words=words,
    )


def exif_taken(exif: Image.Exif) -> tuple[str | None, float | None]:
    """(ISO 8601 local time with its offset when EXIF has one, seconds since the epoch):
    DateTimeOriginal, else DateTimeDigitized, else DateTime; (None, None) without."""
    details = exif.get_ifd(EXIF_IFD)
    for value, offset in (
        (details.get(_ORIGINAL), details.get(_OFFSET_ORIGINAL) or details.get(_OFFSET)),
        (details.get(_DIGITIZED), details.get(_OFFSET_DIGITIZED) or details.get(_OFFSET)),
        (exif.get(_DATETIME), details.get(_OFFSET)),
    ):
        when = _exif_datetime(value)
        if when is None:
            continue
        zone = _exif_offset(offset)
        if zone is None:  # local time, zone unknown: sorted as if it were UTC
            return when.isoformat(), when.replace(tzinfo=UTC).timestamp()
        aware = when.replace(tzinfo=zone)
        return aware.isoformat(), aware.timestamp()
    return None, None


def _exif_datetime(value: Any) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        when = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        try:  # some writers use dashes
            when = datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
    return when if 1900 < when.year < 2200 else None


def _exif_offset(value: Any) -> timezone | None:
    text = _text(value)
    if not text or not _OFFSET_RE.match(text):
        return None
    sign = -1 if text[0] == "-" else 1
    delta = timedelta(hours=int(text[1:3]), minutes=int(text[4:6]))
    return timezone(sign * delta) if delta <= timedelta(hours=14) else None


def gps_position(exif: Image.Exif) -> tuple[float | None, float | None]:
    """(latitude, longitude) in degrees from the GPS IFD; (None, None) when missing or
    impossible (and 0, 0: a receiver without a fix)."""
    gps = exif.get_ifd(GPS_IFD)
    lat = _degrees(gps.get(2), gps.get(1), "S")
    lon = _degrees(gps.get(4), gps.get(3), "W")
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180 or (lat == lon == 0):
        return None, None
    return round(lat, 6), round(lon, 6)


def _degrees(dms: Any, ref: Any, negative: str) -> float | None:
    try:
        parts = [float(x) for x in dms] if isinstance(dms, tuple | list) else [float(dms)]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not parts or len(parts) > 3 or any(not math.isfinite(p) for p in parts):
        return None
    value = float(sum(p / 60.0**i for i, p in enumerate(parts)))
    return -value if _text(ref).upper().startswith(negative) else value


def camera_name(make: Any, model: Any) -> str | None:
    """ "Make Model", the make left out when the model already names it ("Canon" +
    "Canon EOS R5" -> "Canon EOS R5"; "NIKON CORPORATION" + "NIKON D750" -> "NIKON D750")."""
    make_text, model_text = _text(make), _text(model)
    if not model_text:
        return make_text or None
    first_word = make_text.split()[0].lower() if make_text else ""
    if not first_word or first_word in model_text.lower():
        return model_text
    return f"{make_text} {model_text}"


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return ""
    return " ".join(value.replace("\x00", " ").split())


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
