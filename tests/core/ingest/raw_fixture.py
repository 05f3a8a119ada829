"""A tiny camera RAW file written by hand: a 16-bit RGGB Bayer DNG (the TIFF tags libraw
needs, no preview), so RAW decoding is tested without a binary sample."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def write_dng(path: Path, width: int = 64, height: int = 48) -> Path:
    """A reddish DNG of `width` x `height` sensor pixels, camera "Finder Test Camera"."""
    cfa = np.zeros((height, width), np.uint16)
    cfa[0::2, 0::2] = 50000  # R
    cfa[0::2, 1::2] = cfa[1::2, 0::2] = 8000  # G
    cfa[1::2, 1::2] = 4000  # B
    pixels = cfa.tobytes()
    entries: list[tuple[int, int, int, bytes]] = []  # (tag, type, count, value)

    def add(tag: int, kind: int, fmt: str, *values: int) -> None:
        entries.append((tag, kind, len(values), struct.pack(f"<{len(values)}{fmt}", *values)))

    def text(tag: int, value: str) -> None:
        data = value.encode() + b"\0"
        entries.append((tag, 2, len(data), data))

    def fraction(tag: int, kind: int, *values: float) -> None:
        data = b"".join(struct.pack("<ii", int(v * 10000), 10000) for v in values)
        entries.append((tag, kind, len(values), data))

    add(254, 4, "I", 0)  # NewSubfileType: the main image
    add(256, 4, "I", width)
    add(257, 4, "I", height)
    add(258, 3, "H", 16)  # bits per sample
    add(259, 3, "H", 1)  # uncompressed
    add(262, 3, "H", 32803)  # photometric: CFA
    text(271, "Finder")
    text(272, "Test Camera")
    add(273, 4, "I", 0)  # strip offset, set below
    add(277, 3, "H", 1)
    add(278, 4, "I", height)
    add(279, 4, "I", len(pixels))
    add(284, 3, "H", 1)
    add(33421, 3, "H", 2, 2)  # CFA repeat pattern 2x2
    add(33422, 1, "B", 0, 1, 1, 2)  # RGGB
    add(50706, 1, "B", 1, 4, 0, 0)  # DNG version 1.4
    text(50708, "Finder Test Camera")
    fraction(50721, 10, 1, 0, 0, 0, 1, 0, 0, 0, 1)  # ColorMatrix1: identity
    add(50778, 3, "H", 21)  # illuminant D65
    fraction(50728, 5, 1, 1, 1)  # AsShotNeutral
    entries.sort()
    extra_at = 8 + 2 + 12 * len(entries) + 4
    extra = b""
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        if len(value) > 4:
            offset = extra_at + len(extra)
            extra += value + b"\0" * (len(value) % 2)
            value = struct.pack("<I", offset)
        ifd += struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")
    ifd += struct.pack("<I", 0)
    strip_at = extra_at + len(extra)
    strip_entry = 8 + 2 + 12 * [e[0] for e in entries].index(273)
    ifd = bytearray(ifd)
    ifd[strip_entry - 8 + 8 : strip_entry - 8 + 12] = struct.pack("<I", strip_at)
    path.write_bytes(b"II*\0" + struct.pack("<I", 8) + bytes(ifd) + extra + pixels)
    return path
