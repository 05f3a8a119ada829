"""File paths as the catalog stores them: valid Unicode text, reversibly.

A file name that is not valid UTF-8 (`caf\\xe9.jpg` from an old drive or an archive)
reaches Python as a str with surrogate escapes (os.fsdecode: byte 0xE9 -> U+DCE9), which
SQLite, being UTF-8, cannot store. Each such escape is stored as U+FFFD followed by a
private-use character that names the byte (U+10FF00 + byte): lossless, and the U+FFFD
keeps the readable parts of the name separate words for the keyword index. A real U+FFFD
that precedes such a private-use character is stored as U+FFFD U+10FF00 so the two never
mix. Every other path is stored as it is, so catalogs written before read unchanged.
"""

from __future__ import annotations

import re

_MARK = "\ufffd"
_BYTE_BASE = 0x10FF00
_LITERAL_MARK = _MARK + chr(_BYTE_BASE)  # a real U+FFFD that needs telling apart

_TO_STORED = re.compile("[\udc80-\udcff]|\ufffd(?=[\U0010ff00-\U0010ffff])")
_FROM_STORED = re.compile("\ufffd([\U0010ff00-\U0010ffff])")


def stored_path(path: str) -> str:
    """`path` as the catalog keeps it (the same str unless it has surrogate escapes)."""
    if path.isascii() or not _TO_STORED.search(path):
        return path
    return _TO_STORED.sub(_stored_char, path)


def real_path(stored: str) -> str:
    """The path `stored_path` was given: undecodable bytes back as surrogate escapes."""
    if stored.isascii() or _MARK not in stored:
        return stored
    return _FROM_STORED.sub(_real_char, stored)


def _stored_char(found: re.Match[str]) -> str:
    char = found.group()
    if char == _MARK:
        return _LITERAL_MARK
    return _MARK + chr(_BYTE_BASE + (ord(char) - 0xDC00))


def _real_char(found: re.Match[str]) -> str:
    byte = ord(found.group(1)) - _BYTE_BASE
    return _MARK if byte == 0 else chr(0xDC00 + byte)
