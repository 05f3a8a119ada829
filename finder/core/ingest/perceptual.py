"""A photo's perceptual fingerprint, from the picture already decoded for the model.

Two parts, both robust to resizing and recompression:

- a 64-bit difference hash (dHash): a 9x8 grey copy, one bit per pair of neighbours
  ("is the right one brighter?"). It follows the picture's structure and ignores colour.
- a colour layout: the mean colour of a 4x4 grid (48 bytes). Two pictures with the same
  shapes in other colours (a red and a blue circle) have the same dHash, and a circle and
  a square of one colour nearly so; this tells them apart.

Stored as text in `file_meta.phash`: 16 hex digits of the dHash, then 96 of the colours.
Numpy and Pillow only; a few hundred microseconds per picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image

HASH_SIZE = 8  # 8x8 bits
COLOUR_GRID = 4  # 4x4 cells, 3 channels each
# Neighbours closer than this (grey levels, 0..255) count as equal: in flat areas (sky, a
# wall) recompression noise would otherwise flip bits at random.
FLAT_MARGIN = 1.0
_HEX_HASH = HASH_SIZE * HASH_SIZE // 4
_HEX_COLOUR = COLOUR_GRID * COLOUR_GRID * 3 * 2


@dataclass(frozen=True)
class Fingerprint:
    dhash: int  # 64 bits
    colours: bytes  # COLOUR_GRID x COLOUR_GRID x RGB, row by row

    @cached_property
    def cells(self) -> np.ndarray:
        """The colour layout as (cells, RGB) integers, made once per fingerprint."""
        return np.frombuffer(self.colours, dtype=np.uint8).astype(np.int16).reshape(-1, 3)

    def text(self) -> str:
        return f"{self.dhash:0{_HEX_HASH}x}{self.colours.hex()}"

    @classmethod
    def parse(cls, text: str | None) -> Fingerprint | None:
        """The fingerprint `text()` wrote; None for a missing or malformed one."""
        if not text or len(text) != _HEX_HASH + _HEX_COLOUR:
            return None
        try:
            return cls(int(text[:_HEX_HASH], 16), bytes.fromhex(text[_HEX_HASH:]))
        except ValueError:
            return None


def fingerprint(picture: Image.Image) -> Fingerprint:
    """The fingerprint of a decoded picture (any mode, any size)."""
    rgb = picture.convert("RGB")
    grey = np.asarray(
        rgb.convert("L").resize((HASH_SIZE + 1, HASH_SIZE), Image.Resampling.BOX),
        dtype=np.float32,
    )
    # The BOX resize of the grey copy is Pillow's integer mean: good enough, and the
    # margin above keeps equal neighbours stable.
    bits = (grey[:, 1:] - grey[:, :-1]) > FLAT_MARGIN
    dhash = 0
    for bit in bits.flatten():
        dhash = (dhash << 1) | int(bit)
    colours = rgb.resize((COLOUR_GRID, COLOUR_GRID), Image.Resampling.BOX).tobytes()
    return Fingerprint(dhash, colours)


def hash_distance(a: Fingerprint, b: Fingerprint) -> int:
    """Bits that differ between two dHashes (0..64)."""
    return (a.dhash ^ b.dhash).bit_count()


def colour_distance(a: Fingerprint, b: Fingerprint) -> float:
    """How far the colour layouts differ, in levels (0..255): the largest difference of
    one grid cell (its channels averaged). The largest, not the mean: a shape recoloured
    changes a few cells a lot, a copy changes every cell a little."""
    return float(np.abs(a.cells - b.cells).mean(axis=1).max())
