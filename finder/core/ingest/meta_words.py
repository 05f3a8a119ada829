"""The words a photo's author gave it, for the keyword index: EXIF ImageDescription and
UserComment, Windows' XP title/subject/keywords/comment, XMP (dc:title, dc:description,
dc:subject, photoshop:Headline) and IPTC (object name, headline, keywords, caption).

Bounded: at most MAX_WORDS_CHARS characters are kept, XMP is searched in its first
MAX_XMP_BYTES, and text cameras write by themselves ("OLYMPUS DIGITAL CAMERA") is left out.
"""

from __future__ import annotations

import html
import re
from typing import Any

from PIL import Image, IptcImagePlugin

MAX_WORDS_CHARS = 2000
MAX_XMP_BYTES = 256 << 10
EXIF_IFD = 0x8769
_DESCRIPTION, _USER_COMMENT = 0x010E, 0x9286
_XP_TAGS = (0x9C9B, 0x9C9F, 0x9C9E, 0x9C9C)  # XPTitle, XPSubject, XPKeywords, XPComment
_IPTC_TAGS = ((2, 5), (2, 105), (2, 25), (2, 120))  # object name, headline, keywords, caption
_XMP_ELEMENTS = re.compile(
    r"<(dc:title|dc:description|dc:subject|photoshop:Headline)\b[^>]*>(.*?)</\1>", re.S
)
_XMP_ATTRIBUTES = re.compile(r'\b(?:photoshop:Headline|dc:title)="([^"]*)"')
_XMP_ITEM = re.compile(r"<rdf:li\b[^>]*>(.*?)</rdf:li>", re.S)
_TAG = re.compile(r"<[^>]+>")
# What cameras and phones write into ImageDescription when the person wrote nothing.
_CAMERA_BOILERPLATE = frozenset(
    {
        "olympus digital camera",
        "sony dsc",
        "digital camera",
        "dcim",
        "default",
        "image",
        "samsung",
        "lg electronics",
        "minolta dsc",
        "kodak digital still camera",
        "exif_jpeg_pict",
    }
)


def photo_words(img: Image.Image, exif: Image.Exif) -> str:
    """The author's words of an open photo, deduplicated, in reading order."""
    found: list[str] = []
    found.append(_text(exif.get(_DESCRIPTION)))
    found.append(_user_comment(exif.get_ifd(EXIF_IFD).get(_USER_COMMENT)))
    found += [_utf16(exif.get(tag)) for tag in _XP_TAGS]
    found += _xmp_words(_xmp_bytes(img))
    found += _iptc_words(img)
    kept: dict[str, None] = {}
    for text in found:
        text = " ".join(text.split())
        if text and text.lower() not in _CAMERA_BOILERPLATE:
            kept.setdefault(text, None)
    return " ".join(kept)[:MAX_WORDS_CHARS]


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value.replace("\x00", " ") if isinstance(value, str) else ""


def _user_comment(value: Any) -> str:
    """EXIF UserComment: 8 bytes naming the encoding, then the text."""
    if isinstance(value, str):
        return value.replace("\x00", " ")
    if not isinstance(value, bytes) or len(value) <= 8:
        return ""
    code, body = value[:8], value[8:]
    if code.startswith(b"UNICODE"):
        encoding = "utf-16-be" if body[:1] == b"\x00" else "utf-16-le"
        return body.decode(encoding, "replace").replace("\x00", " ")
    return body.decode("utf-8", "replace").replace("\x00", " ")


def _utf16(value: Any) -> str:
    """Windows' XP tags: UTF-16LE bytes (Pillow may give them as a tuple of ints)."""
    if isinstance(value, tuple):
        value = bytes(value)
    if isinstance(value, str):
        return value.replace("\x00", " ")
    if not isinstance(value, bytes):
        return ""
    return value.decode("utf-16-le", "replace").replace("\x00", " ").replace(";", " ")


def _xmp_bytes(img: Image.Image) -> bytes:
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = img.info.get(key)
        if isinstance(value, str):
            value = value.encode("utf-8", "replace")
        if isinstance(value, bytes):
            return value[:MAX_XMP_BYTES]
    return b""


def _xmp_words(xmp: bytes) -> list[str]:
    if not xmp:
        return []
    text = xmp.decode("utf-8", "replace")
    words: list[str] = []
    for _, body in _XMP_ELEMENTS.findall(text):
        items = _XMP_ITEM.findall(body) or [body]
        words += [html.unescape(_TAG.sub(" ", item)) for item in items]
    words += [html.unescape(value) for value in _XMP_ATTRIBUTES.findall(text)]
    return words


def _iptc_words(img: Image.Image) -> list[str]:
    try:
        info = IptcImagePlugin.getiptcinfo(img)  # type: ignore[arg-type]
    except (OSError, ValueError, SyntaxError, IndexError, TypeError):
        return []
    if not info:
        return []
    words: list[str] = []
    for tag in _IPTC_TAGS:
        value = info.get(tag)
        for part in value if isinstance(value, list) else [value]:
            words.append(_text(part))
    return words
